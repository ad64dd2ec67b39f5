"""Recording through real ALSA code paths: a JACK dummy server paces a device whose outputs
go to a file and whose inputs play a prepared file, a loopback cable that is exact."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from appliance.audio.mix.limiter import delay_frames
from appliance.audio.player import Player
from appliance.config import Config
from appliance.errors import Problems
from appliance.vocab import commands as c

from alsa_doubles import Jack, duplex_pcm, jack_pcm, read_raw, use_config
from conftest import run_cli, wait_for
from transport_rig import BAR, position_song

RATE = 48000
LATENCY = 300            # the round trip the loopback is given, and the config compensates
HEARD = LATENCY + delay_frames(RATE)    # the outputs sound after the safety limiter's look-ahead


@pytest.fixture
def rig(library, tmp_path, monkeypatch):
    """A song with a count-in, its render, and a device whose inputs hear the outputs
    LATENCY frames late (input 1: the song's stem, input 2: the click)."""
    folder = position_song(library, "s", bars=2, count_in=1)
    cfg = tmp_path / "render.toml"
    cfg.write_text('[outputs]\nfoh = [1]\nclick = [2]\n')
    run_cli("render", folder, "-o", tmp_path / "ref.wav", "--config", cfg)
    ref, _ = sf.read(str(tmp_path / "ref.wav"), dtype="float32")
    loop = np.concatenate([np.zeros((HEARD, 2), np.float32), ref,
                           np.zeros((RATE * 20, 2), np.float32)])
    loop.tofile(tmp_path / "in.raw")
    use_config(monkeypatch, tmp_path, jack_pcm("jackhat", 2) +
               duplex_pcm("fakehat", tmp_path / "out.raw", tmp_path / "in.raw", "jackhat"))
    with Jack(period=256, channels=2):
        yield folder, ref, loop


def player(folder: Path, tmp: Path, **overrides) -> Player:
    config = Config(**{**dict(cache=tmp / "cache", rate=RATE, channels=2, period=256,
                                format="FLOAT_LE", outputs={"foh": (1,), "click": (2,)},
                                input_channels=2, inputs={"song": 1, "click": 2},
                                recordings=tmp / "rec", record_format="FLOAT",
                                latency=LATENCY), **overrides})
    return Player.open(folder, config, Problems(), device="fakehat")


def take_of(p: Player) -> Path:
    assert wait_for(lambda: p.writer.closed, timeout=15), p.state.record
    return p.writer.closed[-1]


def test_a_take_follows_playback_and_lines_up_with_the_song(rig, tmp_path):
    folder, ref, _ = rig
    p = player(folder, tmp_path)
    p.send(c.RecordArm(True))
    p.send(c.Play())
    with p:
        take = take_of(p)                      # the song ends: the take ends with it
    assert take.name.endswith("-s-take1")
    meta = tomllib.loads((take / "take.toml").read_text())
    assert meta["start_frame"] == -BAR           # the count-in: a bar before bar 1 beat 1
    assert meta["latency_frames"] == HEARD and meta["complete"] is True
    assert meta["frames"] == len(ref) and meta["rate"] == RATE
    assert [i["name"] for i in meta["inputs"]] == ["song", "click"]
    assert meta["tempo"] == [{"bar": 1, "beat": 1, "frame": 0, "bpm": 120.0, "meter": "4/4"}]
    click, _ = sf.read(str(take / "click.wav"), dtype="float32")
    song, _ = sf.read(str(take / "song.wav"), dtype="float32")
    # every sample where the render has it: the first click transient on the same frame
    late = p.state.xruns, p.state.disk_underruns, p.state.record.dropped
    assert np.array_equal(click, ref[:, 1]) and np.array_equal(song, ref[:, 0]), \
        f"xruns, disk underruns, dropped: {late}; first differing frames: " \
        f"{np.flatnonzero(click != ref[:, 1])[:3]}, {np.flatnonzero(song != ref[:, 0])[:3]}"
    assert np.flatnonzero(click)[0] == np.flatnonzero(ref[:, 1])[0] == 0


def test_a_free_take_records_what_the_inputs_hear_while_stopped(rig, tmp_path):
    folder, _, loop = rig
    p = player(folder, tmp_path)
    p.send(c.Record(True, frames=RATE // 2))    # half a second, from the first period
    with p:
        take = take_of(p)
    assert take.name.endswith("-rehearsal-take1")
    meta = tomllib.loads((take / "take.toml").read_text())
    assert meta["song"] == "" and meta["start_frame"] == 0 and meta["frames"] == RATE // 2
    got, _ = sf.read(str(take / "click.wav"), dtype="float32")
    assert np.array_equal(got, loop[HEARD:HEARD + RATE // 2, 1])


def test_arming_picks_the_inputs_and_is_refused_during_a_take(rig, tmp_path):
    folder, _, _ = rig
    p = player(folder, tmp_path)
    p.send(c.Arm("song", False))
    p.send(c.Arm("voice"))
    with p:
        assert wait_for(lambda: "no input 'voice'" in p.state.rejected)
        assert p.state.record.armed == ("click",)
        p.send(c.Record())
        assert wait_for(lambda: p.state.record.running)
        p.send(c.Arm("song"))
        assert wait_for(lambda: p.state.rejected == "Arm: not while a take runs")
        p.send(c.Record())
        take = take_of(p)
    assert sorted(f.name for f in take.glob("*.wav")) == ["click.wav"]


def _record_cli(tmp: Path, *args: str, **popen) -> "subprocess.Popen":
    cfg = tmp / "c.toml"
    cfg.write_text(f'[audio]\ndevice = "fakehat"\nformat = "FLOAT_LE"\n[outputs]\nfoh = [1]\n'
                   f'click = [2]\n[library]\ncache = "{tmp / "cache"}"\n'
                   f'[recording]\npath = "{tmp / "rec"}"\nlatency = {LATENCY}\n')
    return subprocess.Popen([sys.executable, "-m", "appliance", "record", "--config", str(cfg),
                             *args], text=True, env=os.environ, **popen)


def test_backline_record_takes_a_set_length_of_the_inputs(rig, tmp_path):
    _, _, loop = rig
    proc = _record_cli(tmp_path, "--inputs", "1,2", "--seconds", "1.5",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    take = Path(out.strip().splitlines()[-1].removeprefix("take: "))
    assert "\nrecording 1." in out                       # a line a second while it runs
    got, _ = sf.read(str(take / "in2.wav"), dtype="int32")
    want = np.clip(np.rint(loop[HEARD:HEARD + 72000, 1] * 2 ** 23), -2 ** 23, 2 ** 23 - 1)
    assert np.array_equal(got >> 8, want.astype(np.int32))      # 24-bit, to the sample


def test_a_full_disk_stops_the_take_with_valid_files_and_playback_goes_on(rig, tmp_path,
                                                                          tiny_disk):
    folder, _, _ = rig
    p = player(folder, tmp_path, recordings=tiny_disk("300k"))
    p.send(c.RecordArm(True))
    p.send(c.Play())
    with p:
        assert wait_for(lambda: p.state.record.problem ==
                        "the disk is full: recording stopped")
        frame = p.state.frame
        assert p.state.transport in ("count-in", "playing") and not p.state.record.running
        assert wait_for(lambda: p.state.frame > frame + RATE // 4)   # the song plays on
        assert not p.state.record.follow               # the next Play records nothing
        take = take_of(p)
    meta = tomllib.loads((take / "take.toml").read_text())
    assert meta["complete"] is True and meta["stopped"] == "the disk is full: recording stopped"
    for name in ("song", "click"):
        info = sf.info(str(take / f"{name}.wav"))      # valid, and holds what fit
        assert info.frames > RATE // 4


def test_backline_record_song_on_a_full_disk_plays_the_song_to_its_end(rig, tmp_path,
                                                                        tiny_disk):
    folder, ref, _ = rig
    (tmp_path / "rec").symlink_to(tiny_disk("300k"))     # the takes go to a tiny disk
    proc = _record_cli(tmp_path, "--song", folder, "--inputs", "1,2", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert "backline record: the disk is full: recording stopped" in err
    assert "Traceback" not in err
    played = read_raw(tmp_path / "out.raw", 2)
    assert len(played) >= len(ref)                 # the song played on, to its end
    tail = slice(len(ref) - RATE, len(ref))            # its last second sounded
    assert np.abs(played[HEARD:][tail, 0]).max() > 0.01
    take = Path(out.strip().splitlines()[-1].removeprefix("take: "))
    meta = tomllib.loads((take / "take.toml").read_text())
    assert meta["stopped"] == "the disk is full: recording stopped"
    frames = [sf.info(str(take / f"in{i}.wav")).frames for i in (1, 2)]
    assert 0 < meta["frames"] < len(ref) and frames == [meta["frames"]] * 2


def test_kill_9_mid_take_loses_at_most_a_second_and_recover_repairs_the_rest(rig, tmp_path):
    _, _, loop = rig
    proc = _record_cli(tmp_path, "--inputs", "1,2", stdout=subprocess.PIPE,
                       stdin=subprocess.PIPE)
    said = 0.0
    try:
        while said < 2.0:                              # a line a second while recording
            line = proc.stdout.readline()
            assert line, "backline record ended early"
            said = float(line.split()[1])
        time.sleep(random.uniform(0.0, 1.0))
        proc.kill()                                    # SIGKILL: nothing is closed
        proc.wait(5)
    finally:
        proc.kill()
    take = next((tmp_path / "rec").iterdir())
    before = sf.info(str(take / "in2.wav")).frames     # readable as the crash left it
    assert before >= (said - 1.0) * RATE
    r = run_cli("recover", tmp_path / "rec")
    assert r.code == 0 and f"{take.name}: recovered 2 files" in r.out
    got, _ = sf.read(str(take / "in2.wav"), dtype="int32")
    assert len(got) >= before
    want = np.rint(loop[HEARD:HEARD + len(got), 1] * 2 ** 23).astype(np.int32)
    assert np.array_equal(got >> 8, want)              # every frame that reached the disk
    meta = tomllib.loads((take / "take.toml").read_text())
    assert meta["complete"] is True and meta["recovered"] is True
    assert run_cli("recover", tmp_path / "rec").out.strip().endswith("no unfinished takes")


@pytest.fixture
def loopback(tmp_path, monkeypatch):
    """A device whose input 2 hears the calibration clicks LATENCY frames late (or, with
    `silent`, nothing: no cable)."""
    from appliance.audio.calibrate import calibration_config, calibration_song
    from appliance.audio.disk.loaded import load
    from appliance.audio.render import render

    def make(silent: bool = False) -> Path:
        cfg = tmp_path / "c.toml"
        cfg.write_text(f'[audio]\ndevice = "fakehat"\nformat = "FLOAT_LE"\n'
                       f'[library]\ncache = "{tmp_path / "cache"}"\n'
                       f'[recording]   # the takes\npath = "{tmp_path / "rec"}"\n'
                       f'format = "24"\n[box]\nlearned = "{tmp_path / "learned.toml"}"\n')
        config = calibration_config(Config(cache=tmp_path / "cache"), 2, tmp_path)
        song = load(calibration_song(tmp_path / "cal"), config, Problems(), block=4096)
        render(song, tmp_path / "cal.wav")
        song.close()
        clicks, _ = sf.read(str(tmp_path / "cal.wav"), dtype="float32")
        heard = np.zeros((HEARD + len(clicks) + RATE * 10, 2), np.float32)
        if not silent:
            heard[HEARD:HEARD + len(clicks), 1] = clicks[:, 0] * 0.3   # a quieter return
        heard.tofile(tmp_path / "in.raw")
        use_config(monkeypatch, tmp_path, jack_pcm("jackhat", 2) +
                   duplex_pcm("fakehat", tmp_path / "out.raw", tmp_path / "in.raw", "jackhat"))
        return cfg
    with Jack(period=256, channels=2):
        yield make


def test_calibrate_measures_the_round_trip_and_keeps_it_in_the_learned_file(loopback):
    cfg = loopback()
    before = cfg.read_text()
    learned = cfg.parent / "learned.toml"
    learned.write_text('[[midi.map]]              # learned\nnote = 60\ncommand = "stop"\n')
    r = run_cli("calibrate", "--input", "2", "--config", cfg)
    assert r.code == 0, r.err
    assert f"round trip: {LATENCY} frames (6.25 ms)" in r.out
    assert f"{learned}: [recording] latency = {LATENCY}" in r.out
    assert cfg.read_text() == before                  # the box cannot write its config
    assert 'note = 60\ncommand = "stop"\n' in learned.read_text()   # what MIDI learn kept
    from appliance.config import load_config
    config = load_config(cfg)
    assert config.latency == LATENCY and config.warnings == ()
    assert run_cli("calibrate", "--input", "2", "--config", cfg).code == 0
    assert learned.read_text().count("latency =") == 1    # measured again: replaced, not added


def test_calibrate_without_a_cable_says_so_and_changes_nothing(loopback):
    cfg = loopback(silent=True)
    before = cfg.read_text()
    r = run_cli("calibrate", "--input", "2", "--config", cfg)
    assert r.code == 1
    assert "input 2: no clear click came back: connect an output to this input" in r.err
    assert cfg.read_text() == before


def test_backline_record_follows_a_song_from_its_count_in(rig, tmp_path):
    folder, ref, _ = rig
    proc = _record_cli(tmp_path, "--inputs", "2", "--song", str(folder),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    take = Path(out.strip().splitlines()[-1].removeprefix("take: "))
    assert take.name.endswith("-s-take1")
    got, _ = sf.read(str(take / "in2.wav"), dtype="int32")
    want = np.clip(np.rint(ref[:, 1] * 2 ** 23), -2 ** 23, 2 ** 23 - 1).astype(np.int32)
    assert np.array_equal(got >> 8, want)              # the click, from the count-in on
