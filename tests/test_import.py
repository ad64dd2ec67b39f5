"""`backline import`: DAW-export folders built here become library songs (issue 17)."""
from __future__ import annotations

import os
import shutil
from fractions import Fraction
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings, strategies as st

from conftest import RATE, run_cli, tone, write_stem
from appliance.audio.disk.loaded import load
from appliance.audio.disk.resample import cache_path
from appliance.audio.render import RenderRange, mixed
from appliance.config import load_config
from appliance.errors import BacklineError, Problems
from appliance.songs import click_tempo
from appliance.songs.importer import import_folder
from appliance.songs.loudness import prepare
from appliance.songs.names import Role, role, stem_name
from appliance.songs.songfile import StemEntry, Timing, song_toml
from appliance.timeline.midi_import import read_midi_timing
from appliance.timeline.song import load_song


def click(bpm: float, beats: int, rate: int, *, offset: float = 0.0, accent: int | None = 0,
          seconds: float | None = None, bpm2: float | None = None) -> np.ndarray:
    """A click track: a decaying 1.5 kHz burst each beat, placed to the sub-sample (each
    burst computed at its exact time), louder on beat `accent` of 4 (None: no accents);
    `bpm2`: the second half at another tempo."""
    n = int((seconds or offset + beats * 60 / bpm + 1) * rate)
    x = np.zeros(n, np.float32)
    t0 = offset
    for i in range(beats):
        a = int(np.ceil(t0 * rate))
        tt = (np.arange(int(0.02 * rate)) + a) / rate - t0
        amp = 0.8 if accent is not None and i % 4 == accent else 0.4
        burst = amp * np.sin(2 * np.pi * 1500 * tt) * np.exp(-tt / 0.004)
        x[a: a + len(burst)] += burst[: max(0, n - a)]
        t0 += 60 / (bpm2 if bpm2 and i >= beats // 2 else bpm)
    return x


def daw_folder(root: Path, *, with_click: bool = False) -> Path:
    src = root / "Export Ünïcode"
    src.mkdir()
    write_stem(src, "01 Kick.wav", tone(4, RATE, 55, amp=0.3, seed=1), RATE)
    write_stem(src, "02 Bass DI.wav", tone(4, 44100, 80, channels=2, amp=0.2, seed=2), 44100)
    write_stem(src, "Guide.wav", tone(4, RATE, 440, amp=0.1, seed=3), RATE)
    write_stem(src, "Chœur été.flac", tone(3, RATE, 330, amp=0.1, seed=4), RATE, "PCM_24")
    (src / "Empty.wav").write_bytes(b"")
    (src / "Readme.wav").write_text("not audio")
    if with_click:
        write_stem(src, "Click.wav", click(120, 8, RATE)[:, None], RATE)
    return src


def test_a_daw_export_becomes_a_song(tmp_path, library):
    src = daw_folder(tmp_path, with_click=True)
    before = {p: p.stat().st_mtime_ns for p in src.iterdir()}
    result = import_folder(src, library, config=load_config(), bpm=120)
    song = load_song(result.song_dir, Problems())
    assert result.song_dir == library / "songs" / "Export Ünïcode"
    assert [(s.name, s.file.name, tuple(s.route), s.muted) for s in song.stems] == [
        ("Kick", "01 Kick.wav", ("foh", "ears"), False),
        ("Bass DI", "02 Bass DI.wav", ("foh", "ears"), False),
        ("Chœur été", "Chœur été.flac", ("foh", "ears"), False),
        ("Click", "Click.wav", ("click",), True),     # the box makes its own click
        ("Guide", "Guide.wav", ("cue",), False)]
    said = [str(p) for p in result.problems]
    assert any("Empty.wav" in s and "empty file; left out" in s for s in said)
    assert any("Readme.wav" in s and "not usable audio" in s and "left out" in s for s in said)
    assert float(song.tempo.points[0].bpm) == 120
    # the 44.1 kHz stem resampled once into the cache, for the copy in the library
    config = load_config()
    from appliance.audio.disk.stems import inspect_stem
    info = inspect_stem(song.stems[1], 2, RATE, song.folder / "song.toml", Problems())
    assert cache_path(info, RATE, config.cache).is_file()
    # the user's files untouched; nothing half-made left in the library
    assert {p: p.stat().st_mtime_ns for p in src.iterdir()} == before
    assert [p.name for p in (library / "songs").iterdir()] == ["Export Ünïcode"]
    r = run_cli("check", library)
    assert r.code == 0, r.err
    assert "Export Ünïcode: loudness: " in r.out


def test_the_cli_says_what_it_imported(tmp_path, library):
    src = daw_folder(tmp_path)
    r = run_cli("import", src, "--library", library, "--bpm", "96", "--name", "first")
    assert r.code == 0, r.err
    assert "imported 4 stems; tempo: 96 BPM (--bpm)" in r.out
    assert "'Kick' <- 01 Kick.wav (stem, 1 ch, 48000 Hz)" in r.out
    assert "Empty.wav" in r.err and "Readme.wav" in r.err


def test_click_tempo_and_downbeat_found():
    rate = 44100
    x = click(97.3, 64, rate, offset=0.2345, accent=2)
    found = click_tempo.detect(x, rate)
    assert abs(found.bpm - 97.3) < 0.1
    assert abs(found.first_beat_s - 0.2345) < 0.001
    assert abs(found.downbeat_s - (0.2345 + 2 * 60 / 97.3)) < 0.001     # the accented beat
    assert found.accented and found.steady and found.on_grid == 1.0
    plain = click_tempo.detect(click(97.3, 64, rate, offset=0.2345, accent=None), rate)
    assert not plain.accented and abs(plain.downbeat_s - 0.2345) < 0.001


def test_a_click_starting_on_beat_3_makes_a_pickup_bar(tmp_path, library):
    src = tmp_path / "src"
    src.mkdir()
    write_stem(src, "Click.wav", click(123.4, 32, RATE, accent=2)[:, None], RATE)
    write_stem(src, "Keys.wav", tone(20, RATE, 220, amp=0.1), RATE)
    result = import_folder(src, library, config=load_config())
    assert "123.40 BPM from the click" in result.tempo_note
    song = load_song(result.song_dir, Problems())
    assert abs(float(song.tempo.points[0].bpm) - 123.4) < 0.1
    bar2 = float(song.tempo.seconds_at(song.meters.bar_qn(2)))
    assert abs(bar2 - 2 * 60 / 123.4) < 0.001          # the first accented click


def test_a_click_that_changes_tempo_asks_for_the_map(tmp_path, library):
    src = tmp_path / "src"
    src.mkdir()
    write_stem(src, "Metronome.wav", click(100, 32, RATE, bpm2=130)[:, None], RATE)
    write_stem(src, "Keys.wav", tone(2, RATE, 220), RATE)
    with pytest.raises(BacklineError, match="changes tempo.*--tempo-map"):
        import_folder(src, library, config=load_config())
    assert list((library / "songs").iterdir()) == []


def tempo_map_file(path: Path) -> None:
    """A ramp from 100 to 140 BPM over 8 bars (a tempo event each eighth) and two markers."""
    ppq = 480
    tr = mido.MidiTrack()
    tr.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    tr.append(mido.MetaMessage("marker", text="Intro", time=0))
    for i in range(64):
        tr.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(100 + 40 * i / 63),
                                   time=0 if i == 0 else ppq // 2))
    tr.append(mido.MetaMessage("marker", text="Verse", time=ppq // 2))
    tr.append(mido.MetaMessage("end_of_track", time=ppq * 16))
    mid = mido.MidiFile(type=1, ticks_per_beat=ppq)
    mid.tracks.append(tr)
    mid.save(str(path))


def test_a_midi_map_gives_tempo_and_sections(tmp_path, library):
    src = daw_folder(tmp_path)
    tempo_map_file(src / "Tempo Map.mid")
    result = import_folder(src, library, config=load_config())
    song = load_song(result.song_dir, Problems())
    assert result.tempo_note == "tempo map Tempo Map.mid"
    assert [(s.name, s.qn) for s in song.sections] == [("Intro", 0), ("Verse", 32)]
    theirs = read_midi_timing(src / "Tempo Map.mid")
    assert song.tempo.points == theirs.tempo.points
    assert 'tempo_map = "Tempo Map.mid"' in (result.song_dir / "song.toml").read_text()


def test_no_tempo_asks_for_bpm(tmp_path, library):
    src = daw_folder(tmp_path)
    r = run_cli("import", src, "--library", library)
    assert r.code == 1
    assert "no tempo" in r.err and "--bpm N" in r.err and str(src) in r.err
    assert list((library / "songs").iterdir()) == []


def test_dry_run_writes_nothing(tmp_path, library):
    src = daw_folder(tmp_path)
    result = import_folder(src, library, config=load_config(), bpm=120, dry_run=True)
    assert [p.entry.name for p in result.stems] == ["Kick", "Bass DI", "Chœur été", "Guide"]
    assert list(library.rglob("*")) == [library / "songs", library / "setlists"]
    assert not load_config().cache.exists()


def test_reimport_keeps_what_the_user_edited(tmp_path, library):
    src = daw_folder(tmp_path)
    config = load_config()
    result = import_folder(src, library, config=config, bpm=120)
    toml = result.song_dir / "song.toml"
    text = toml.read_text().replace('name = "Kick"', 'name = "Kick"\ngain_db = -6.5  # too loud')
    toml.write_text("# my notes\n" + text)
    (result.song_dir / "lights.mid").write_bytes((src / "Guide.wav").read_bytes()[:10])
    (src / "Guide.wav").unlink()
    write_stem(src, "Shaker.wav", tone(2, RATE, 900, amp=0.05), RATE)
    again = import_folder(src, library, config=config, bpm=120)
    song = load_song(again.song_dir, Problems())
    assert {s.name: s.gain_db for s in song.stems} == {
        "Kick": -6.5, "Bass DI": 0.0, "Chœur été": 0.0, "Shaker": 0.0}
    text = toml.read_text()
    assert text.startswith("# my notes\n") and "# too loud" in text
    assert any("'Guide' is no longer in" in str(p) for p in again.problems)
    assert (again.song_dir / "lights.mid").is_file()         # the user's own file kept
    assert not (again.song_dir / "Guide.wav").exists()
    fresh = import_folder(src, library, config=config, bpm=120, replace=True)
    assert {s.gain_db for s in load_song(fresh.song_dir, Problems()).stems} == {0.0}


def test_imported_song_mixes_as_a_hand_written_one(tmp_path, library):
    src = daw_folder(tmp_path)
    config = load_config()
    imported = import_folder(src, library, config=config, bpm=120).song_dir
    hand = library / "songs" / "hand"
    hand.mkdir()
    for f in ("01 Kick.wav", "02 Bass DI.wav", "Chœur été.flac", "Guide.wav"):
        shutil.copy2(src / f, hand / f)
    (hand / "song.toml").write_text(
        '[[tempo]]\nbar = 1\nbpm = 120\n\n'
        '[[stem]]\nfile = "01 Kick.wav"\nname = "Kick"\n\n'
        '[[stem]]\nfile = "02 Bass DI.wav"\nname = "Bass DI"\n\n'
        '[[stem]]\nfile = "Chœur été.flac"\n\n'
        '[[stem]]\nfile = "Guide.wav"\nroute = ["cue"]\n')
    prepare(hand, config)
    renders = []
    for folder in (imported, hand):
        with load(folder, config, Problems(), block=1024) as loaded:
            renders.append(np.concatenate([b.copy() for b in mixed(loaded, RenderRange())]))
    assert loaded.level.gain_db != 0
    assert np.array_equal(renders[0], renders[1])


def test_a_full_disk_is_refused_with_the_numbers(tmp_path, tiny_disk):
    src = daw_folder(tmp_path)
    lib = tiny_disk("1m")
    with pytest.raises(BacklineError) as caught:
        import_folder(src, lib, config=load_config(), bpm=120)
    message = str(caught.value)
    stems = ("01 Kick.wav", "02 Bass DI.wav", "Chœur été.flac", "Guide.wav")
    needs = (sum((src / f).stat().st_size for f in stems) + (64 << 10)) / (1 << 20)
    assert f"of {lib / 'songs'}: needs {needs:.1f} MB, 1.0 MB free" in message
    assert list(lib.iterdir()) == []


def test_a_disk_filling_mid_import_leaves_the_old_song(tmp_path, tiny_disk):
    src = daw_folder(tmp_path)
    lib = tiny_disk("5m")
    config = load_config()
    import_folder(src, lib, config=config, name="song", bpm=120)
    old = sorted(p.name for p in (lib / "songs" / "song").iterdir())
    write_stem(src, "Pad.wav", tone(6, RATE, 200, amp=0.1), RATE)    # 1.1 MB more
    with pytest.raises(BacklineError, match="the disk is full; the library is as it was"):
        import_folder(src, lib, config=config, name="song", bpm=120,
                      free=lambda path: 1 << 40)                     # a disk that lies
    assert sorted(p.name for p in (lib / "songs" / "song").iterdir()) == old
    assert [p.name for p in (lib / "songs").iterdir()] == ["song"]   # no temp folder left


@settings(max_examples=200, deadline=None)
@given(number=st.integers(0, 999), sep=st.sampled_from([" ", "-", "_", ". ", " - "]),
       name=st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/."),
                    min_size=1, max_size=30).filter(
                        # a name starting as a separator ("00 -0.wav") cannot be told apart
                        lambda s: s.strip() and not s[0].isdigit() and s.strip()[0] not in "-_"),
       ext=st.sampled_from([".wav", ".WAV", ".flac", ".aiff", ".aif"]))
def test_file_names_give_stem_names(number, sep, name, ext):
    plain = stem_name(f"{name}{ext}")
    assert plain == name.strip()
    assert stem_name(f"{number:02d}{sep}{name}{ext}") == plain
    assert role(plain) is role(stem_name(f"{number}{sep}{name}{ext}"))


@pytest.mark.parametrize("name, kind", [("Click", Role.CLICK), ("click track", Role.CLICK),
                                        ("Metronome", Role.CLICK), ("Guide", Role.CUE),
                                        ("Vox_Guide", Role.CUE), ("Count-In", Role.CUE),
                                        ("Cues", Role.CUE), ("Bass DI", Role.STEM),
                                        ("Clicky Synth", Role.STEM)])
def test_roles_from_names(name, kind):
    assert role(name) is kind


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(stems=st.lists(st.tuples(names, st.sampled_from(list(Role))), min_size=1, max_size=6,
                      unique_by=lambda s: s[0]),
       bpm=st.floats(10, 999), meter=st.sampled_from(["4/4", "3/4", "7/8", "6/8"]),
       pickup=st.integers(0, 2))
def test_song_toml_reads_back(tmp_path_factory, stems, bpm, meter, pickup):
    folder = tmp_path_factory.mktemp("song")
    entries = [StemEntry(f"{i} {n.replace('/', '_')}.wav".replace("\0", ""), n, r)
               for i, (n, r) in enumerate(stems)]
    text, dropped = song_toml(entries, Timing(bpm=bpm, meter=meter, pickup_beats=pickup))
    (folder / "song.toml").write_text(text, encoding="utf-8")
    problems = Problems()
    song = load_song(folder, problems)
    assert not problems.errors, problems
    assert dropped == []
    assert [(s.name, s.file.name, s.muted, tuple(s.route)) for s in song.stems] == [
        (e.name, e.file, e.role is Role.CLICK,
         {Role.CLICK: ("click",), Role.CUE: ("cue",), Role.STEM: ("foh", "ears")}[e.role])
        for e in entries]
    assert abs(float(song.tempo.points[0].bpm) - bpm) < 1e-4
    assert song.meters.bar_qn(3) - song.meters.bar_qn(2) == Fraction(4 * int(meter[0]),
                                                                    int(meter[2]))
