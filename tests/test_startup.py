"""Issue 14: the box always starts and one bad song never stops the show.

A song that cannot load is skipped by the set's transitions and refused by name; the
loader thread survives anything; `recover` never opens a file outside its take and never
raises; the daemon reaches READY whatever the library, the saved state and the
recordings folder hold (with no songs at all it idles, and its menu still works)."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from appliance.audio.disk.show import Show, SongBank
from appliance.vocab.state import TransportState
from appliance.audio.record.takes import recover, write_take_toml
from appliance.audio.play.transport import Transport
from appliance.audio.record.wavfile import TakeFile
from appliance.config import Config
from appliance.vocab import commands as c
from appliance.errors import Problems
from appliance.service.daemon import Daemon
from appliance.ui.text import text_screen

from alsa_doubles import Jack, file_pcm, jack_pcm, use_config
from conftest import wait_for
from test_daemon import _daemon, jack, systemd  # noqa: F401 (fixtures)
from transport_rig import BAR, CONFIG, RATE, close, decode, position_song, run


def bad_song(library: Path, name: str) -> Path:
    """A song whose song.toml says `bpm = nan`: today its loading raises ValueError."""
    folder = position_song(library, name, bars=1, sections=(("A", 1),))
    toml = folder / "song.toml"
    toml.write_text(toml.read_text().replace("bpm = 120", "bpm = nan"))
    return folder


def _bank(library: Path, lines: list[str], tmp_path: Path) -> SongBank:
    path = library / "setlists" / "set.setlist"
    path.write_text("\n".join(lines) + "\n")
    show = Show.of_setlist(path, Problems())
    return SongBank(show, Config(cache=tmp_path / "cache", **CONFIG), 128, blocking=True)


def _transport(bank: SongBank) -> Transport:
    return Transport(bank, rate=RATE, channels=2, block=128)


# -- one bad song never stops the show ----------------------------------------------------
def test_a_song_that_cannot_load_is_skipped_gaplessly_said_and_refused(library, tmp_path):
    position_song(library, "s0", bars=1, sections=(("A", 1),))
    bad_song(library, "bad")
    position_song(library, "s2", bars=1, sign=-1, sections=(("A", 1),))
    bank = _bank(library, ["s0 | gapless", "bad | gapless", "s2"], tmp_path)
    for pos in range(3):
        bank.load_now(pos)                           # as the loader thread would
    assert "bad" in str(bank.broken(1)) and bank.get(2) is not None
    t = _transport(bank)
    try:
        out = run(t, 2 * BAR + 1024, {0: [c.Play()]})
        heard = decode(out)
        assert np.array_equal(heard[:BAR], np.arange(BAR))
        assert np.array_equal(heard[BAR:2 * BAR], -np.arange(BAR))    # s2, without a gap
        s = t.snapshot()
        assert (s.transport, s.index, s.song_name) == (TransportState.STOPPED, 3, "s2")
        assert s.problem.startswith("bad: ") and s.problem.endswith("; skipped")
        t.apply(c.SelectSong(2))
        assert t.snapshot().rejected.startswith("SelectSong: bad cannot play: ")
        t.apply(c.PreviousSong())
        assert t.snapshot().rejected.startswith("PreviousSong: bad cannot play: ")
    finally:
        close(t)


def test_a_song_that_cannot_load_refuses_play_with_the_reason(library, tmp_path):
    bad_song(library, "bad")
    bank = SongBank(Show.of_song(library / "songs" / "bad"),
                    Config(cache=tmp_path / "cache", **CONFIG), 128, blocking=True)
    bank.load_now(0)
    t = _transport(bank)
    try:
        out = run(t, 1024, {0: [c.Play()]})          # no fault in the audio thread: refused
        s = t.snapshot()
        assert s.transport == TransportState.STOPPED and s.problem.startswith("bad: ")
        assert s.rejected == f"Play: {s.problem}" and not out.any()
    finally:
        close(t)


def test_the_loader_thread_survives_an_exception_and_loads_on(library, tmp_path, caplog):
    position_song(library, "s0", bars=1)
    bank = _bank(library, ["s0"], tmp_path)
    real, calls = bank._load, []

    def flaky(pos: int) -> None:                    # a fault outside any one song's files
        calls.append(pos)
        if len(calls) == 1:
            raise RuntimeError("the loader tripped")
        real(pos)
    bank._load = flaky
    bank.POLL_S = 0.05
    with bank:
        bank.start()
        bank.want((0,))
        assert wait_for(lambda: bank.get(0) is not None, 5), "nothing loads any more"
        assert bank.is_alive()
        assert "song loader: the loader tripped; going on" in caplog.text


def test_backline_play_skips_a_song_that_cannot_load_and_ends(library, tmp_path, monkeypatch):
    """`good | continue` then a bad song: today the loader thread dies and play hangs."""
    position_song(library, "good", bars=1, sections=(("A", 1),))
    bad_song(library, "bad")
    position_song(library, "last", bars=1, sign=-1, sections=(("A", 1),))
    setlist = library / "setlists" / "gig.setlist"
    setlist.write_text("good | continue\nbad | continue\nlast\n")
    use_config(monkeypatch, tmp_path, jack_pcm("jackhat", 2) +
               file_pcm("fakehat", tmp_path / "out.raw", slave="jackhat"))
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[audio]\nformat = "FLOAT_LE"\n[outputs]\nfoh = [1]\nclick = [2]\n'
                   f'[library]\ncache = "{tmp_path / "cache"}"\n')
    with Jack():
        try:
            r = subprocess.run([sys.executable, "-m", "appliance", "play", str(setlist),
                                "--config", str(cfg), "--device", "fakehat"],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=40, env=os.environ)
        finally:
            (tmp_path / "out.raw").unlink(missing_ok=True)
    assert r.returncode == 0, r.stderr
    assert f"{library / 'songs' / 'bad'}" in r.stderr and "Traceback" not in r.stderr


def test_an_empty_show_idles_says_no_songs_and_refuses_to_play(tmp_path):
    bank = SongBank(Show("", ()), Config(cache=tmp_path / "cache", **CONFIG), 128)
    t = _transport(bank)
    out = run(t, 512, {0: [c.Play()], 128: [c.NextSong()], 256: [c.SelectSong(1)]})
    s = t.snapshot()
    assert (s.transport, s.count, s.problem) == (TransportState.STOPPED, 0, "no songs")
    assert s.rejected == "SelectSong: the setlist has 0 songs" and not out.any()
    t.apply(c.Play())
    assert t.snapshot().rejected == "Play: no songs"
    assert "no songs" in "\n".join(text_screen(t.snapshot(), None, ""))


# -- recover: takes a crash left ----------------------------------------------------------
def _crashed_take(folder: Path, meta: dict, wav: str = "vox.wav") -> Path:
    """A take the power went out on: a WAV with data past its header's sizes."""
    folder.mkdir(parents=True, exist_ok=True)
    f = TakeFile(folder / wav, rate=48000)
    f.write(np.full(48000, 0.25, np.float32))
    f.sync()
    f.write(np.full(24000, 0.25, np.float32))
    write_take_toml(folder, {"rate": 48000, "complete": False, **meta})
    return folder / wav


def test_recover_never_opens_a_file_outside_its_take(tmp_path):
    rec = tmp_path / "rec"
    outside = _crashed_take(tmp_path / "elsewhere", {}, "outside.wav")
    before = outside.read_bytes()
    take = rec / "2026-11-25-one-take1"
    _crashed_take(take, {"inputs": [{"name": "a", "file": "../../elsewhere/outside.wav"},
                                    {"name": "b", "file": "../../../../etc/hostname"},
                                    {"name": "vox", "file": "vox.wav"}]})
    said = recover(rec)
    toml = take / "take.toml"
    assert said == [
        f"{toml}: inputs[1].file: '../../elsewhere/outside.wav' is not in the take folder "
        f"{take}; not opened",
        f"{toml}: inputs[2].file: '../../../../etc/hostname' is not in the take folder "
        f"{take}; not opened",
        f"{take.name}: recovered 1 files, 1.5 s"]
    assert outside.read_bytes() == before                  # not even opened for writing
    assert sf.info(str(take / "vox.wav")).frames == 72000


@pytest.mark.parametrize("meta, said", [
    ({"rate": "fast", "inputs": [{"name": "vox", "file": "vox.wav"}]},
     ["rate: must be a whole number of Hz, not 'fast'", "recovered 1 files"]),
    ({"inputs": "vox"}, ["inputs: must be a list of [[inputs]] tables, not 'vox'; "
                         "left as it is"]),
    ({"inputs": [{"name": "vox", "file": 5}]},
     ["inputs[1].file: must be a file name, not 5; not opened", "recovered 0 files, 0.0 s"]),
    ({"complete": "no", "inputs": [{"name": "vox", "file": "vox.wav"}]},
     ["complete: must be true or false, not 'no'; left as it is"]),
    ({"rate": float("nan"), "inputs": [{"name": "vox", "file": "vox.wav"}]},
     ["rate: must be a whole number of Hz, not nan", "recovered 1 files"]),
])
def test_recover_names_the_file_and_field_of_a_wrong_type(tmp_path, meta, said):
    take = tmp_path / "rec" / "2026-11-25-one-take1"
    _crashed_take(take, {})
    write_take_toml(take, {"rate": 48000, "complete": False, **meta})
    got = recover(tmp_path / "rec")
    assert len(got) == len(said)
    for line, want in zip(got, said):
        assert want in line
        assert line.startswith(str(take / "take.toml")) or line.startswith(take.name)


@pytest.fixture
def read_only(tmp_path):
    """A small disk that can be made read-only (a tmpfs; the tests run as root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"the read-only tests mount a tmpfs (as root): {r.stderr}"

    def freeze() -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    try:
        yield disk, freeze
    finally:
        subprocess.run(["umount", "--lazy", str(disk)])


def test_recover_on_a_read_only_recordings_folder_leaves_the_take_as_it_is(read_only):
    disk, freeze = read_only
    take = disk / "2026-11-25-one-take1"
    wav = _crashed_take(take, {"inputs": [{"name": "vox", "file": "vox.wav"}]})
    before = {p.name: p.read_bytes() for p in take.iterdir()}
    freeze()
    assert recover(disk) == [f"{take}: cannot repair now: the folder is read-only; "
                             "left as it is"]
    assert {p.name: p.read_bytes() for p in take.iterdir()} == before
    assert tomllib.loads((take / "take.toml").read_text())["complete"] is False
    assert wav.exists()


# -- the daemon always reaches READY --------------------------------------------------------
def _ready(d: Daemon, systemd) -> None:          # noqa: F811 (the fixture's value)
    assert systemd.wait_for("READY=1"), "the daemon did not reach READY"
    assert d.player is not None and wait_for(lambda: d.player.engine.periods > 0)


@pytest.mark.parametrize("saved", ["renamed", "lost-toml"])
def test_a_saved_target_that_cannot_play_falls_back_to_the_library(
        library, tmp_path, jack, systemd, caplog, saved):  # noqa: F811
    for name in ("one", "two"):
        position_song(library, name, bars=1)
    (library / "setlists" / "a.setlist").write_text("one\ntwo\n")
    if saved == "renamed":                     # its songs were renamed since
        target = library / "setlists" / "old.setlist"
        target.write_text("uno\ndos\n")
    else:                                      # the song folder lost its song.toml
        target = library / "songs" / "gone"
        target.mkdir()
    (tmp_path / "st.json").write_text(f'{{"target": "{target}", "index": 2}}')
    d, _ = _daemon(tmp_path, None)
    with d:
        _ready(d, systemd)
        s = d.player.state
        assert (s.setlist, s.count, s.transport) == ("a", 2, TransportState.STOPPED)
        assert f"{target}: cannot be played; trying the next in the library" in caplog.text


@pytest.mark.parametrize("text", [
    '{"index": 1e999}',
    "[" * 100000 + "]" * 100000,
    '{"output_gain_db": {"foh": NaN}, "click_db": NaN}',
    '{"index": 2.5, "output_gain_db": {"foh": Infinity}, "click_db": -Infinity}',
])
def test_any_saved_state_reaches_ready_and_nan_is_no_level(
        library, tmp_path, jack, systemd, text):  # noqa: F811
    for name in ("one", "two"):
        position_song(library, name, bars=1)
    (library / "setlists" / "a.setlist").write_text("one\ntwo\n")
    (tmp_path / "st.json").write_text(text)
    d, _ = _daemon(tmp_path, None)
    with d:
        _ready(d, systemd)
        s = d.player.state
        assert s.index == 1 and s.song_name == "one"
        assert dict(s.output_gain_db).get("foh", 0.0) == 0.0     # not +12 dB
        assert d.player.transport.click_db in (None, 0.0)


def test_a_first_song_that_cannot_load_is_skipped_at_start(library, tmp_path, jack,
                                                           systemd, caplog):  # noqa: F811
    bad_song(library, "one")
    position_song(library, "two", bars=1)
    (library / "setlists" / "a.setlist").write_text("one\ntwo\n")
    d, _ = _daemon(tmp_path, None)
    with d:
        _ready(d, systemd)
        assert wait_for(lambda: d.player.state.song_name == "two")
        s = d.player.state
        assert s.index == 2 and s.problem.startswith("one: ") and "skipped" in s.problem
        song_toml = library / "songs" / "one" / "song.toml"                 # the journal
        assert f"{song_toml}: tempo[1].bpm: must be a finite number, not nan" in caplog.text
        d.player.send(c.Play())
        assert wait_for(lambda: d.player.state.transport == TransportState.PLAYING)


def test_with_no_songs_the_box_idles_its_menu_works_and_a_new_setlist_opens(
        tmp_path, jack, systemd, caplog):  # noqa: F811
    lib = tmp_path / "lib"                       # no library folder at all
    d, _ = _daemon(tmp_path, None)
    with d:
        _ready(d, systemd)
        assert f"{lib}: the library folder does not exist; idle with no songs" in caplog.text
        ready = next(m for m in systemd.messages if "READY=1" in m)
        assert "no songs" in ready
        assert "no songs" in "\n".join(text_screen(d.player.state, None, ""))
        panel = d.front.panel
        d.player.send(c.Play())
        assert wait_for(lambda: d.player.state.rejected == "Play: no songs")
        panel.command(c.OpenMenu())
        panel.command(c.MenuSelect())                # Songs: an empty page
        panel.command(c.MenuSelect())                # nothing to choose: nothing happens
        panel.command(c.MenuBack())
        position_song(lib, "one", bars=1)             # a song arrives (say, over the network)
        (lib / "setlists").mkdir()
        (lib / "setlists" / "a.setlist").write_text("one\n")
        idle = d.player
        for cmd in (c.MenuMove(1), c.MenuSelect(), c.MenuSelect()):   # Setlists > a
            panel.command(cmd)
        assert wait_for(lambda: d.player is not idle and d.player.state.song_name == "one")
        d.player.send(c.Play())
        assert wait_for(lambda: d.player.state.transport == TransportState.PLAYING)
        saved = tmp_path / "st.json"                  # written by the service loop's next tick
        assert wait_for(lambda: saved.exists() and "a.setlist" in saved.read_text())


def test_an_unfinished_take_on_a_read_only_disk_does_not_stop_start_up(
        library, tmp_path, jack, systemd, caplog, read_only):  # noqa: F811
    disk, freeze = read_only
    position_song(library, "one", bars=1)
    take = disk / "2026-11-25-one-take1"
    _crashed_take(take, {"inputs": [{"name": "vox", "file": "vox.wav"}]})
    freeze()
    d, t = _daemon(tmp_path, library / "songs" / "one", inputs={"vox": 1},
                   input_channels=1, recordings=disk)
    with d:
        _ready(d, systemd)
        assert f"{take}: cannot repair now: the folder is read-only" in caplog.text
