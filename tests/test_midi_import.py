"""Tempo maps imported from MIDI files, checked against pretty_midi's own beat tracking."""
from __future__ import annotations

import random
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest

from conftest import RATE, beats_csv, make_song, run_cli

METERS = [(4, 4), (3, 4), (6, 8), (7, 8), (5, 4), (12, 8), (2, 4), (9, 8)]


def build_midi(path: Path, *, ppq: int, file_type: int, tempo_changes: int, seed: int,
               bars: int = 120) -> None:
    """A DAW-like export: meters at bar starts, tempo changes anywhere, a note track to the end."""
    rnd = random.Random(seed)
    meta: list[tuple[int, mido.MetaMessage]] = []
    tick = 0
    for bar in range(bars):
        if bar % 7 == 0:
            num, den = rnd.choice(METERS)
            meta.append((tick, mido.MetaMessage("time_signature", numerator=num, denominator=den)))
            if bar % 21 == 0:
                meta.append((tick, mido.MetaMessage("marker", text=f"Part {bar // 21 + 1}")))
        tick += ppq * 4 * num // den
    end = tick
    meta.append((0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(rnd.uniform(70, 160)))))
    for t in sorted(rnd.randrange(1, end) for _ in range(tempo_changes)):
        meta.append((t, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(rnd.uniform(60, 180)))))
    notes = [(0, mido.Message("note_on", note=60, velocity=90)),
             (end, mido.Message("note_off", note=60, velocity=0))]

    def track(events):
        tr, last = mido.MidiTrack(), 0
        for t, msg in sorted(events, key=lambda e: e[0]):
            tr.append(msg.copy(time=t - last))
            last = t
        tr.append(mido.MetaMessage("end_of_track", time=end - last))
        return tr

    mid = mido.MidiFile(type=file_type, ticks_per_beat=ppq)
    if file_type == 0:
        mid.tracks.append(track(meta + notes))
    else:
        mid.tracks.append(track(meta))
        mid.tracks.append(track(notes))
    mid.save(str(path))


@pytest.mark.parametrize("ppq, file_type, changes, seed", [
    (480, 1, 300, 1), (96, 0, 200, 2), (960, 1, 500, 3), (24, 1, 100, 4),
])
def test_beats_match_pretty_midi(library, ppq, file_type, changes, seed):
    folder = make_song(library, "imported", 'title = "Imported"\ntempo_map = "song.mid"\n')
    build_midi(folder / "song.mid", ppq=ppq, file_type=file_type, tempo_changes=changes, seed=seed)
    r = run_cli("beats", folder)
    assert r.code == 0, r.err
    rows = beats_csv(r.out)
    ours = np.array([int(row["frame"]) for row in rows])
    ours_down = np.array([int(row["frame"]) for row in rows if row["beat"] == "1"])

    pm = pretty_midi.PrettyMIDI(str(folder / "song.mid"))
    theirs = np.round(pm.get_beats() * RATE).astype(np.int64)
    theirs_down = np.round(pm.get_downbeats() * RATE).astype(np.int64)
    assert abs(len(ours) - len(theirs)) <= 1 and len(ours) > 300
    n = min(len(ours), len(theirs))
    assert np.abs(ours[:n] - theirs[:n]).max() <= 1
    n = min(len(ours_down), len(theirs_down))
    assert np.abs(ours_down[:n] - theirs_down[:n]).max() <= 1
    # meters and sections from the file
    assert {(row["numerator"], row["denominator"]) for row in rows} <= {
        (str(a), str(b)) for a, b in METERS}


def test_markers_become_sections(library):
    from appliance.errors import Problems
    from appliance.timeline.song import load_song

    folder = make_song(library, "imported", 'tempo_map = "song.mid"\n')
    build_midi(folder / "song.mid", ppq=480, file_type=1, tempo_changes=5, seed=9, bars=50)
    problems = Problems()
    song = load_song(folder, problems)
    assert not problems, problems
    assert [s.name for s in song.sections] == ["Part 1", "Part 2", "Part 3"]
    assert [s.bar for s in song.sections] == [1, 22, 43]


def _song_with_midi(library: Path, data: bytes | None) -> Path:
    folder = make_song(library, "bad-midi", 'tempo_map = "song.mid"\n')
    if data is not None:
        (folder / "song.mid").write_bytes(data)
    return folder


def _no_tempo_file() -> bytes:
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    mid.tracks.append(mido.MidiTrack([mido.Message("note_on", note=60, time=0),
                                      mido.Message("note_off", note=60, time=960)]))
    import io
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


@pytest.mark.parametrize("data, message", [
    (None, "song.mid: file not found"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x40\x00\xff", "not a readable MIDI file"),
    (b"this is no midi file at all", "not a readable MIDI file"),
    ("no-tempo", "has no tempo (set_tempo) events"),
])
def test_bad_midi_tempo_maps_name_file_and_field(library, data, message):
    folder = _song_with_midi(library, _no_tempo_file() if data == "no-tempo" else data)
    r = run_cli("beats", folder)
    assert r.code == 1
    line = r.err.strip().splitlines()[0]
    assert line.startswith(f"{folder / 'song.toml'}: tempo_map: ")
    assert message in line
    assert "Traceback" not in r.err


def _tempo_file(path: Path, events: list[tuple[int, mido.MetaMessage]]) -> None:
    """A type-0 file with these meta events at these absolute ticks (PPQ 480)."""
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    track, last = mido.MidiTrack(), 0
    for tick, msg in events:
        track.append(msg.copy(time=tick - last))
        last = tick
    mid.tracks.append(track)
    mid.save(str(path))


def test_events_past_24_hours_are_left_out_with_a_warning(library):
    from fractions import Fraction

    from appliance.errors import Problems
    from appliance.timeline.song import load_song

    folder = make_song(library, "far", 'tempo_map = "song.mid"\n')
    _tempo_file(folder / "song.mid", [
        (0, mido.MetaMessage("set_tempo", tempo=500_000)),              # 120 BPM
        (1920, mido.MetaMessage("marker", text="Verse")),
        (2**29, mido.MetaMessage("set_tempo", tempo=1_000_000)),        # 155 hours in
        (2**29, mido.MetaMessage("marker", text="Far away"))])
    problems = Problems()
    song = load_song(folder, problems)
    assert [str(p) for p in problems] == [
        f"{folder / 'song.toml'}: warning: tempo_map: song.mid: events after 24 hours (from tick "
        f"82944000 on, the last at tick {2**29}) are left out; a song lasts at most 24 hours"]
    assert song.end_qn == 24 * 3600 * 2 and song.tempo.seconds_at(song.end_qn) == 24 * 3600
    assert [s.name for s in song.sections] == ["Verse"]
    assert song.tempo.bpm_at(song.end_qn) == Fraction(120)


@pytest.mark.parametrize("tempo, message", [
    (16_777_215, "set_tempo at tick 0 is 3.576 BPM; tempo must be 10 to 999 BPM"),
    (1, "set_tempo at tick 0 is 6e+07 BPM; tempo must be 10 to 999 BPM"),
])
def test_a_tempo_outside_10_to_999_bpm_is_refused(library, tempo, message):
    folder = make_song(library, "slow", 'tempo_map = "song.mid"\n')
    _tempo_file(folder / "song.mid", [(0, mido.MetaMessage("set_tempo", tempo=tempo)),
                                      (1920, mido.MetaMessage("end_of_track"))])
    r = run_cli("beats", folder)
    assert r.code == 1 and "Traceback" not in r.err
    assert r.err.strip() == f"{folder / 'song.toml'}: tempo_map: song.mid: {message}"
