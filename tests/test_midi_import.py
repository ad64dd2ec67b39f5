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
