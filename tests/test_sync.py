"""`backline sync PATH`: a folder standing for a USB stick's mount point, synced into a
library: validated, staged, verified, renamed; mirror and export_recordings; the disk's room;
a stick pulled mid-copy; a song playing while it is replaced."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings, strategies as st

from appliance.config import Config
from appliance.errors import Problems
from appliance.songs.sync import STATUS_FILE, WORK_DIR, sync
from appliance.songs.sync_settings import SyncSettings, read_settings
from appliance.timeline.song import load_song

from conftest import RATE, run_cli, tone, wait_for, write_stem
from test_import import daw_folder
from transport_rig import BAR, SCALE, position_song

CONFIG = Config()


def song(root: Path, name: str, bars: int = 1, sign: float = 1.0, extra: str = "") -> Path:
    """A song under `root/songs/<name>`: one stem whose samples say which frame they are."""
    return position_song(root, name, bars, sign=sign, sections=(("A", 1),), extra=extra)


def stick_with(tmp_path: Path, *names: str, toml: str | None = None) -> Path:
    stick = tmp_path / "stick"
    for name in names:
        song(stick / "backline", name)
    (stick / "backline" / "setlists").mkdir(parents=True, exist_ok=True)
    if toml is not None:
        (stick / "backline" / "sync.toml").write_text(toml)
    return stick


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (the sync's work folder left out) with its contents."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and WORK_DIR not in p.relative_to(folder).parts}


def first_sample(folder: Path) -> float:
    return float(sf.read(str(folder / "pos.wav"), frames=1, dtype="float32")[0][0])


def test_new_changed_and_unchanged_songs_and_setlists(tmp_path, library):
    stick = stick_with(tmp_path, "new", "changed", "same")
    (stick / "backline" / "setlists" / "gig.setlist").write_text("new\nchanged\nsame\n")
    song(library, "changed", sign=-1.0)
    song(library, "extra")
    first = sync(stick, library, CONFIG, margin=0)
    assert not first.problems, first.problems
    assert sorted(first.said) == ["setlists/gig.setlist: added", "songs/changed: updated",
                                  "songs/new: added", "songs/same: added"]
    assert first_sample(library / "songs" / "changed") == 1 / SCALE       # the stick's version
    assert (library / "songs" / "extra").is_dir()                         # mirror is off
    assert (library / "setlists" / "gig.setlist").read_text() == "new\nchanged\nsame\n"
    inode = (library / "songs" / "same" / "pos.wav").stat().st_ino
    again = sync(stick, library, CONFIG, margin=0)
    assert not again.problems and again.said == [] and again.copied == 0
    assert (library / "songs" / "same" / "pos.wav").stat().st_ino == inode
    work = library / WORK_DIR
    assert not (work / "stage").exists() and not (work / STATUS_FILE).exists()


def test_a_changed_song_links_its_unchanged_files_and_copies_the_changed_one(tmp_path, library):
    stick = stick_with(tmp_path, "s")
    sync(stick, library, CONFIG, margin=0)
    stem = library / "songs" / "s" / "pos.wav"
    inode, size = stem.stat().st_ino, stem.stat().st_size
    toml = stick / "backline" / "songs" / "s" / "song.toml"
    toml.write_text(toml.read_text().replace("bpm = 120",
                                             "bpm = 120\n[[tempo]]\nbar = 2\nbpm = 90"))
    r = sync(stick, library, CONFIG, margin=0)
    assert r.said == ["songs/s: updated"] and r.copied == toml.stat().st_size < size
    assert stem.stat().st_ino == inode                       # the stem was not copied again
    assert "bpm = 90" in (library / "songs" / "s" / "song.toml").read_text()


def test_a_song_failing_validation_is_reported_and_its_old_version_kept(tmp_path, library):
    stick = stick_with(tmp_path, "badtoml", "textwav", "good")
    src = stick / "backline" / "songs"
    (src / "badtoml" / "song.toml").write_text('[[tempo]]\nbar = 1\nbpm = "fast"\n'
                                               '[[stem]]\nfile = "pos.wav"\n')
    (src / "textwav" / "pos.wav").write_text("not audio at all, just words")
    song(library, "badtoml", sign=-1.0)
    song(library, "textwav", sign=-1.0)
    before = tree(library)
    r = sync(stick, library, CONFIG, margin=0)
    lines = [str(p) for p in r.problems.errors]
    assert any(str(src / "badtoml" / "song.toml") in line and "tempo[1].bpm" in line
               for line in lines), lines
    assert any(str(src / "textwav" / "song.toml") in line and "stem[1].file" in line
               for line in lines), lines
    assert "songs/badtoml: fails validation: the old version kept" in r.said
    assert "songs/good: added" in r.said
    after = tree(library)
    assert {k: v for k, v in after.items() if not k.startswith("songs/good/")} == before


def test_a_file_vanishing_mid_copy_leaves_the_library_as_it_was(tmp_path, library):
    stick = stick_with(tmp_path, "one", "two")
    for name in ("one", "two"):
        song(library, name, sign=-1.0)
    before = tree(library)
    victim = stick / "backline" / "songs" / "two" / "pos.wav"
    seen, shown = [], []

    def pull(p) -> None:              # the stick is pulled as the second song is copied
        seen.append(p.file)
        shown.append((library / WORK_DIR / STATUS_FILE).read_text())
        if p.file == victim:
            victim.unlink()
    r = sync(stick, library, CONFIG, margin=0, progress=pull)
    assert victim in seen
    assert shown[0] == "sync 0% (0.0 MB of 0.7 MB): pos.wav\n"         # for the display
    assert [str(p) for p in r.problems.errors] == [
        f"{victim}: cannot be copied: No such file or directory: "
        "nothing changed in the library"]
    assert tree(library) == before
    assert not (library / WORK_DIR / "stage").exists()


def test_a_file_removed_while_it_is_read_is_caught_by_the_size_check(tmp_path, library):
    from appliance.songs.staging import CopyError, copy_verified
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(3 << 20))

    def tick(n: int) -> None:         # after the first block: the stick is gone
        src.unlink(missing_ok=True)
    with pytest.raises(CopyError, match="cannot be copied"):
        copy_verified(src, tmp_path / "copy.bin", 3 << 20, tick)


def test_mirror_moves_what_the_stick_lacks_to_the_trash(tmp_path, library):
    stick = stick_with(tmp_path, "kept")
    song(library, "extra")
    (library / "setlists" / "old.setlist").write_text("extra\n")
    r = sync(stick, library, CONFIG, margin=0)
    assert (library / "songs" / "extra").is_dir() and not r.problems
    (stick / "backline" / "sync.toml").write_text("mirror = true\n")
    r = sync(stick, library, CONFIG, margin=0)
    assert not r.problems and sorted(os.listdir(library / "songs")) == ["kept"]
    assert not (library / "setlists" / "old.setlist").exists()
    trashed = list((library / WORK_DIR / "trash").glob("*/songs/extra/pos.wav"))
    assert len(trashed) == 1 and list((library / WORK_DIR / "trash").glob("*/setlists/old.setlist"))
    assert any("songs/extra: moved to" in line for line in r.said)


def test_a_full_disk_is_refused_with_the_numbers(tmp_path, tiny_disk):
    disk = tiny_disk("2m")
    library = disk / "lib"
    song(library, "old", sign=-1.0)
    before = tree(library)
    stick = stick_with(tmp_path, "a", "b", "c")         # 3 x 375 KB of stems
    r = sync(stick, library, CONFIG, margin=1 << 20)
    [problem] = r.problems.errors
    assert str(problem).startswith(f"{library}: not enough room on the disk of {library}: "
                                   "needs 1.1 MB + 1.0 MB kept for the recorder, ")
    assert str(problem).endswith(" MB free")
    assert tree(library) == before and r.said == []
    assert not sync(stick, library, CONFIG, margin=0).problems       # without the margin: fits


def test_the_recorder_margin_follows_the_inputs_and_format():
    from appliance.songs.space import RECORD_MARGIN_S, recorder_margin
    assert RECORD_MARGIN_S == 3600
    assert recorder_margin(Config()) == 3600 * 2 * 48000 * 3
    cfg = Config(inputs={f"in{i}": i for i in range(1, 9)}, record_format="FLOAT")
    assert recorder_margin(cfg) == 3600 * 8 * 48000 * 4


@pytest.mark.parametrize("text, field, says", [
    ('mirror = "yes"\n', "mirror", "must be true or false, not 'yes'"),
    ("mirror = nan\n", "mirror", "must be true or false, not nan"),
    ("export_recordings = 1\n", "export_recordings", "must be true or false, not 1"),
    ("mirror = true\nmirorr = true\n", "mirorr", "unknown key"),
    ("mirror = \n", "line 1", "TOML syntax"),
])
def test_a_bad_sync_toml_names_the_file_and_field_and_deletes_nothing(tmp_path, library, text,
                                                                       field, says):
    stick = stick_with(tmp_path, "a", toml=text)
    song(library, "extra")
    r = sync(stick, library, CONFIG, margin=0)
    path = stick / "backline" / "sync.toml"
    assert any(p.file == path and p.field == field and says in p.message
               for p in r.problems.errors), r.problems
    assert (library / "songs" / "extra").is_dir()          # not mirrored away
    assert (library / "songs" / "a").is_dir()              # adding is not destructive


VALUES = st.one_of(st.booleans(), st.integers(), st.floats(allow_nan=True),
                   st.text(max_size=5), st.lists(st.booleans(), max_size=2))


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode().replace('"', '\\"') + '"'
    return str(value)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["mirror", "export_recordings", "extra", "Mirror"]),
                       VALUES, max_size=3))
def test_any_sync_toml_is_read_or_named_never_a_crash(tmp_path_factory, fields):
    folder = tmp_path_factory.mktemp("stick")
    (folder / "sync.toml").write_text("".join(f"{k} = {_toml(v)}\n" for k, v in fields.items()))
    problems = Problems()
    got = read_settings(folder, problems)
    good = all(k in ("mirror", "export_recordings") and isinstance(v, bool)
               for k, v in fields.items())
    if good:
        assert not problems and got == SyncSettings(**fields)
    else:
        assert got == SyncSettings() and problems.errors
        assert all(p.file == folder / "sync.toml" and p.field for p in problems)


def take(recordings: Path, name: str, complete: bool) -> Path:
    folder = recordings / name
    folder.mkdir(parents=True)
    sf.write(str(folder / "gtr.wav"), np.zeros((4800, 1), np.float32), 48000)
    (folder / "take.toml").write_text(f'song = "a"\ncomplete = {"true" if complete else "false"}\n')
    return folder


def test_export_recordings_copies_finished_takes_once(tmp_path, library):
    recordings = tmp_path / "recordings"
    done = take(recordings, "2026-12-01-a-take1", True)
    take(recordings, "2026-12-01-a-take2", False)                 # still being written
    cfg = Config(recordings=recordings)
    stick = stick_with(tmp_path, "a", toml="export_recordings = true\n")
    r = sync(stick, library, cfg, margin=0)
    out = stick / "backline" / "recordings"
    assert sorted(os.listdir(out)) == ["2026-12-01-a-take1"]
    assert (out / done.name / "gtr.wav").read_bytes() == (done / "gtr.wav").read_bytes()
    assert "recordings/2026-12-01-a-take1: exported" in r.said
    assert any("take2: still being written" in line for line in r.said)
    again = sync(stick, library, cfg, margin=0)
    assert "recordings/2026-12-01-a-take1: exported" not in again.said


def test_import_folders_become_songs_and_one_without_a_tempo_is_named(tmp_path, library):
    stick = stick_with(tmp_path, "a")
    imports = stick / "backline" / "import"
    imports.mkdir(parents=True)
    export = daw_folder(imports, with_click=True)          # its tempo from its click track
    lost = imports / "No Tempo"
    lost.mkdir()
    write_stem(lost, "Pad.wav", tone(2, RATE, 220, amp=0.1), RATE)
    r = sync(stick, library, CONFIG, margin=0)
    song = load_song(library / "songs" / export.name, Problems())
    assert [s.name for s in song.stems] == ["Kick", "Bass DI", "Chœur été", "Click", "Guide"]
    assert any(line.startswith(f"import/{export.name}: imported as {export.name} (5 stems")
               for line in r.said)
    [refused] = [p for p in r.problems if p.file == lost]
    assert not refused.warning and "--bpm" in refused.message
    assert not (library / "songs" / "No Tempo").exists()


def test_a_setlist_naming_a_song_nobody_has_is_not_copied(tmp_path, library):
    stick = stick_with(tmp_path, "a")
    (stick / "backline" / "setlists" / "gig.setlist").write_text("a\nghost\n")
    r = sync(stick, library, CONFIG, margin=0)
    assert any(p.field == "line 2" for p in r.problems.errors), r.problems
    assert "setlists/gig.setlist: fails validation: not copied" in r.said
    assert not (library / "setlists" / "gig.setlist").exists()


def test_a_song_cut_between_its_two_renames_comes_back(tmp_path, library):
    stick = stick_with(tmp_path, "a")
    song(library, "b")
    old = library / WORK_DIR / "old"
    old.mkdir(parents=True)
    os.rename(library / "songs" / "b", old / "b")             # a power cut just then
    sync(stick, library, CONFIG, margin=0)
    assert (library / "songs" / "b" / "pos.wav").is_file() and not old.exists()


def test_the_cli_dry_run_changes_nothing_and_a_missing_stick_is_an_error(tmp_path, library):
    stick = stick_with(tmp_path, "a", toml="mirror = true\n")
    song(library, "extra")
    before = tree(library)
    r = run_cli("sync", stick, "--library", library, "--dry-run")
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["would copy songs/a (0.4 MB)",
                                  "would move songs/extra to the trash (mirror = true)"]
    assert tree(library) == before and not (library / WORK_DIR).exists()
    r = run_cli("sync", tmp_path / "nowhere", "--library", library)
    assert r.code == 1 and "backline: no such folder" in r.err


def test_a_song_playing_while_it_is_synced_plays_its_old_audio_to_the_end(tmp_path, library,
                                                                          monkeypatch):
    """`backline play`, paced by JACK's dummy driver, plays a 6 s song (its read-ahead ring
    holds 1.4 s, so most of it is read from the files after the sync) while a stick replaces
    it: the output is the old version's render, sample for sample; the next load is the new."""
    from appliance.audio.mix.limiter import delay_frames
    from alsa_doubles import Jack, file_pcm, jack_pcm, read_raw, use_config

    folder = song(library, "s", bars=3)
    stick = tmp_path / "stick"
    song(stick / "backline", "s", bars=3, sign=-1.0)
    use_config(monkeypatch, tmp_path, jack_pcm("jackhat", 2) +
               file_pcm("fakehat", tmp_path / "out.raw", slave="jackhat"))
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[audio]\nformat = "FLOAT_LE"\n[outputs]\nfoh = [1]\nclick = [2]\n'
                   f'[library]\ncache = "{tmp_path / "cache"}"\n')
    assert run_cli("render", folder, "-o", tmp_path / "old.wav", "--config", cfg).code == 0
    out = tmp_path / "out.raw"
    jack = Jack()
    try:
        play = subprocess.Popen([sys.executable, "-m", "appliance", "play", str(folder),
                                 "--config", str(cfg), "--device", "fakehat"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=os.environ)
        try:
            assert wait_for(lambda: out.exists() and out.stat().st_size > 2 * 4 * 24000, 20)
            r = sync(stick, library, CONFIG, margin=0)
            assert r.said == ["songs/s: updated"], r.problems
            played = out.stat().st_size // 8
            _, err = play.communicate(timeout=30)
        finally:
            play.kill()
            play.wait()
    finally:
        jack.stop()
    assert play.returncode == 0, err
    assert played < 3 * BAR - (1 << 16), "the sync came after the last read from disk"
    ref, _ = sf.read(str(tmp_path / "old.wav"), dtype="float32")
    got = read_raw(out, 2)[delay_frames(48000):][: len(ref)]
    assert np.array_equal(got, ref), np.argwhere(got != ref)[:3]
    assert run_cli("render", folder, "-o", tmp_path / "new.wav", "--config", cfg).code == 0
    new, _ = sf.read(str(tmp_path / "new.wav"), dtype="float32")
    assert np.array_equal(new[:, 0], -ref[:, 0]) and np.array_equal(new[:, 1], ref[:, 1])


def test_takes_for_a_read_only_stick_exit_4_for_a_writable_mount(tmp_path, library, tiny_disk):
    disk = tiny_disk("1m")
    stick = stick_with(disk, toml="export_recordings = true\n")
    take(tmp_path / "recordings", "2026-12-01-a-take1", True)
    config = tmp_path / "c.toml"
    config.write_text(f'[recording]\npath = "{tmp_path / "recordings"}"\n')
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    r = run_cli("sync", stick, "--library", library, "--config", config)
    assert r.code == 4 and f"{stick / 'backline'}: read-only: takes not exported" in r.out
    subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
    r = run_cli("sync", stick, "--library", library, "--config", config)
    assert r.code == 0 and "recordings/2026-12-01-a-take1: exported" in r.out, r.err
