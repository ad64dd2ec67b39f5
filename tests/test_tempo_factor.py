"""A tempo factor F (song.toml's `tempo` or `bpm`, `--tempo`) scales every frame position by
1/F, rationally: beats, the click, the count-in, sections, jumps, vamps, MIDI clock, SPP,
MTC, the song's MIDI file and a take's tempo map. Bad key and tempo values are reported by
file and field, and the song plays as written."""
from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.audio.disk.loaded import load, validate_song
from appliance.audio.disk.show import Show
from appliance.audio.record.takes import tempo_changes
from appliance.config import Config
from appliance.control.midi_out import ClockPlanner
from appliance.errors import Problems
from appliance.timeline.beatmap import BeatMap
from appliance.timeline.song import Song, load_song

from conftest import RATE, beats_csv, make_song, run_cli, tone, write_stem
from test_beatmap import assert_same_as_grid
from transport_rig import close, played, rig

F = Fraction(9, 10)
HALF = Fraction(1, 2)

# A ramp (bars 5-6, 90 -> 150) and a meter change (7/8 from bar 6), then a tempo change.
TIMING = '''
[[tempo]]
bar = 1
bpm = 120
[[tempo]]
bar = 3
bpm = 90
[[tempo]]
bar = 5
bpm = 90
[[tempo]]
bar = 6
bpm = 150
ramp = true
meter = "7/8"
[[tempo]]
bar = 8
bpm = 100
[[section]]
name = "A"
bar = 1
[[section]]
name = "B"
bar = 3
[[section]]
name = "C"
bar = 6
beat = 3
[[section]]
name = "D"
bar = 8
'''
SONG = "count_in = 1\nlength_bars = 9\n" + TIMING


def scaled(song: Song, qn: Fraction, factor: Fraction = F) -> int:
    """Where `qn` falls at `factor`, from the written map's exact seconds, halves up."""
    written = song.tempo.at_factor(Fraction(1))
    return math.floor(written.seconds_at(qn) * RATE / factor + HALF)


def written(library: Path, text: str = SONG, name: str = "s") -> tuple[Path, Song]:
    folder = make_song(library, name, text)
    song = load_song(folder, Problems())
    assert song is not None and song.tempo.factor == 1
    return folder, song


def test_the_renders_clicks_are_the_beats_at_the_factor_to_the_frame(library, tmp_path):
    folder, song = written(library)
    r = run_cli("beats", folder, "--count-in", "--tempo", "0.9")
    assert r.code == 0, r.err
    beats = [int(row["frame"]) for row in beats_csv(r.out)]
    bpms = [float(row["bpm"]) for row in beats_csv(r.out)]
    r = run_cli("render", folder, "-o", tmp_path / "r.wav", "--tempo", "0.9")
    assert r.code == 0, r.err
    got, _ = sf.read(str(tmp_path / "r.wav"), always_2d=True)
    loud = np.flatnonzero(np.abs(got[:, 1]) > 0)
    onsets = [loud[0]] + [b for a, b in zip(loud, loud[1:]) if b - a > 100]
    assert onsets == beats
    # rationally: the count-in at 120 * 0.9, then bar 1 at its scaled length, then each beat
    count_in = math.floor(4 * Fraction(RATE * 60, 120) / F + HALF)
    ci = [math.floor(i * Fraction(RATE * 60, 120) / F + HALF) for i in range(4)]
    end = song.meters.bar_qn(10)
    song_beats = [count_in + scaled(song, b.qn) for b in song.meters.beats(1, end)]
    assert beats == ci + song_beats
    assert len(got) == count_in + scaled(song, end)
    assert bpms[:5] == [108] * 5 and bpms[-1] == 90          # 120 and 100 at 0.9
    # a beat off a ramp, from the written frames: round(frame / 0.9)
    plain = [int(row["frame"]) for row in beats_csv(run_cli("beats", folder).out)]
    assert [round(Fraction(f) / F) for f in plain[:16]] == [b - count_in for b in song_beats[:16]]


def test_sections_a_takes_tempo_map_and_the_count_in_follow_the_factor(library, tmp_path):
    folder, song = written(library)
    problems = Problems()
    loaded = load(folder, Config(cache=tmp_path / "cache"), problems, block=512, tempo=F)
    assert loaded is not None, problems
    with loaded:
        assert loaded.song.tempo.factor == F
        assert loaded.positions.section_frames.tolist() == [scaled(song, s.qn)
                                                            for s in song.sections]
        assert loaded.frames == scaled(song, song.meters.bar_qn(10))
        changes = tempo_changes(loaded.positions.beats)
        steady = [c for c in changes if c["bar"] in (1, 3, 8) and c["beat"] == 1]
        assert [(c["bar"], c["frame"], c["bpm"]) for c in steady] == [
            (1, 0, 108), (3, scaled(song, Fraction(8)), 81),
            (8, scaled(song, song.meters.bar_qn(8)), 90)]
        assert all(c["frame"] == scaled(song, song.meters.qn_at(c["bar"], c["beat"]))
                   for c in changes)
        ci, _ = loaded.count_in()
        assert ci.frames == math.floor(4 * Fraction(RATE * 60, 120) / F + HALF)


def test_a_jump_lands_and_a_vamp_loops_on_the_scaled_frames(library, tmp_path):
    """`bpm = 108` on a song at 120: F = 9/10. A quantised jump waits for the scaled bar
    line and lands on the scaled section; a vamp loops the scaled section's length; MIDI
    clock ticks, the Song Position Pointer and time code follow."""
    from appliance.vocab import commands as c
    _, song = written(library, SONG.replace("count_in = 1", "count_in = 0"), "w")
    folder = make_song(library, "s", "bpm = 108\n" + SONG.replace("count_in = 1",
                                                                  "count_in = 0"))
    at_f = load_song(folder, Problems())
    assert at_f.tempo.factor == F
    t = rig(Show.of_song(folder), tmp_path)
    try:
        bar2, a_len = scaled(song, Fraction(4)), scaled(song, Fraction(8))
        again = (a_len // 128 + 10) * 128                        # a period into the 2nd pass
        log = played(t, 2 * a_len + 128 * 400,
                     {0: [c.Play()], 128 * 10: [c.Vamp()],
                      again: [c.ReleaseVamp(), c.Jump("C", at=c.At.BAR)]})
        _, rows = log.rows(0)
        starts = [(int(r[0]), int(r[1])) for r in rows]          # (output, song frame)
        loop = [o for o, f in starts if f == 0]
        assert loop == [0, a_len]                                # the vamp: once around A
        c_frame = scaled(song, song.sections[2].qn)
        assert (a_len + bar2, c_frame) in starts                 # next bar line, then C
        planner = ClockPlanner(lambda i: at_f, RATE, mtc=25)
        msgs = [m for row in rows for m in planner.plan(row)]
        ticks = [f for f, m in msgs if m.type == "clock" and f < a_len]
        assert ticks == [scaled(song, Fraction(k, 24)) for k in range(len(ticks))]
        jump = [(f, m.pos) for f, m in msgs if m.type == "songpos"]
        assert jump[-1] == (a_len + bar2, 4 * int(song.sections[2].qn))   # 16ths, unscaled
        full = [m.data for f, m in msgs if m.type == "sysex" and f == a_len + bar2]
        quarter = math.ceil(Fraction(c_frame * 100, RATE))     # quarter frames at 25 fps
        assert list(full[0][4:]) == [1 | 1 << 5, 0, quarter // 100, (quarter // 4) % 25]
    finally:
        close(t)


def test_the_songs_midi_file_plays_on_the_scaled_map(library):
    _, song = written(library)
    folder = make_song(library, "m", 'midi_file = "lights.mid"\n' + SONG)
    mid = mido.MidiFile(ticks_per_beat=480)
    mid.tracks.append(mido.MidiTrack([mido.Message("note_on", note=10, time=960 * 9)]))
    mid.save(str(folder / "lights.mid"))
    at_f = load_song(folder, Problems()).at(F, Fraction(0))
    planner = ClockPlanner(lambda i: at_f, RATE)
    frames, events = planner._file(0, at_f)
    assert frames == [scaled(song, Fraction(18))] and events[0].note == 10


def test_bpm_108_on_a_song_at_120_is_nine_tenths(library):
    folder = make_song(library, "b", "bpm = 108\n" + SONG)
    problems = Problems()
    song = load_song(folder, problems)
    assert song.tempo.factor == Fraction(9, 10) and not problems
    assert song.tempo.bpm_at(Fraction(0)) == 108


def midi_song(library: Path, name: str, extra: str) -> Path:
    """A song whose map is a MIDI file (120 BPM, 4 bars): its `tempo` key is free for a
    factor, which `[[tempo]]` entries would take."""
    folder = make_song(library, name, f'tempo_map = "map.mid"\n{extra}\n')
    mid = mido.MidiFile(ticks_per_beat=480)
    mid.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000),
                                      mido.MetaMessage("end_of_track", time=480 * 16)]))
    mid.save(str(folder / "map.mid"))
    return folder


def test_a_tempo_factor_in_song_toml(library):
    problems = Problems()
    song = load_song(midi_song(library, "f", "tempo_factor = 0.9\ntranspose = -1.5"), problems)
    assert not problems
    assert song.tempo.factor == Fraction(9, 10) and song.transpose == Fraction(-3, 2)
    assert song.tempo.frame_at(Fraction(4), RATE) == 106667      # bar 2: 2 s / 0.9


BAD = [
    ("transpose = 13", "transpose", "must be at most 12, not 13"),
    ("transpose = -12.5", "transpose", "must be at least -12, not -12.5"),
    ("transpose = nan", "transpose", "must be a finite number, not nan"),
    ("tempo_factor = 0", "tempo_factor", "must be at least 0.5, not 0"),
    ("tempo_factor = 5", "tempo_factor", "must be at most 2.0, not 5"),
    ('tempo_factor = "fast"', "tempo_factor", "must be a number, not 'fast'"),
    ("tempo_factor = nan", "tempo_factor", "must be a finite number, not nan"),
    ("tempo_factor = inf", "tempo_factor", "must be a finite number, not inf"),
    ("tempo_factor = 0.9\nbpm = 108", "tempo_factor", "give either tempo_factor or bpm"),
    ("tempo = 0.9", "tempo", "is the tempo map ([[tempo]] entries); a tempo factor is tempo_factor = 0.9"),
    ("bpm = 300", "bpm", "300 BPM is 2.5 times bar 1's 120"),
    ("bpm = nan", "bpm", "must be a finite number, not nan"),
    ("bpm = true", "bpm", "must be a number, not True"),
]


@pytest.mark.parametrize("line, field, message", BAD)
def test_a_bad_key_or_tempo_is_reported_and_the_song_plays_as_written(library, tmp_path,
                                                                      line, field, message):
    folder = midi_song(library, "bad", line)
    problems = Problems()
    checked = validate_song(folder, Config(cache=tmp_path / "c"), problems)
    assert len(problems) == 1 and not problems[0].warning
    assert str(problems[0]).startswith(f"{folder / 'song.toml'}: {field}: {message}")
    assert checked is not None                      # it plays, as written
    assert checked.song.tempo.factor == 1 and checked.song.transpose == 0
    assert checked.frames == 4 * 4 * RATE // 2      # 4 bars at 120


def test_a_stems_keep_pitch(library):
    base = SONG + '[[stem]]\nfile = "a.wav"\nkeep_pitch = true\n[[stem]]\nfile = "b.wav"\n'
    folder = make_song(library, "k", base)
    song = load_song(folder, Problems())
    assert [s.keep_pitch for s in song.stems] == [True, False]
    (folder / "song.toml").write_text(base.replace("keep_pitch = true", 'keep_pitch = "yes"'))
    problems = Problems()
    song = load_song(folder, problems)
    assert "stem[1].keep_pitch: must be true or false, not 'yes'" in str(problems[0])
    assert [s.name for s in song.stems] == ["b"]


def stem_song(library: Path, extra: str = "") -> Path:
    folder = make_song(library, "st", extra + SONG + '[[stem]]\nfile = "a.wav"\n')
    write_stem(folder, "a.wav", tone(1.0, RATE, 440), RATE)
    return folder


def test_stems_at_another_tempo_play_as_written_until_prepared(library, tmp_path):
    folder = stem_song(library, "bpm = 108\ntranspose = -2\n")
    problems = Problems()
    checked = validate_song(folder, Config(cache=tmp_path / "c"), problems)
    assert [str(p) for p in problems] == [
        f"{folder / 'song.toml'}: warning: stems at transpose -2 and tempo 0.9 are not "
        "prepared yet: run backline prepare; it plays at its written key and tempo"]
    assert checked.song.tempo.factor == 1 and checked.song.transpose == 0


@pytest.mark.parametrize("args, said", [
    (("--tempo", "5"), "argument --tempo: must be 0.5 to 2, not 5"),
    (("--tempo", "nan"), "argument --tempo: must be a factor like 0.9, not 'nan'"),
    (("--tempo", "0"), "argument --tempo: must be 0.5 to 2, not 0"),
    (("--transpose", "13"), "argument --transpose: must be -12 to 12, not 13"),
])
def test_bad_tempo_and_transpose_on_the_command_line(library, tmp_path, args, said):
    folder, _ = written(library)
    r = run_cli("render", folder, "-o", tmp_path / "r.wav", *args)
    assert r.code == 2 and said in r.err


def test_beatmaps_at_factors_answer_as_the_listed_beats(library):
    _, song = written(library)
    for factor in (Fraction(1, 2), Fraction(9, 10), Fraction(7, 3), Fraction(2)):
        assert_same_as_grid(song.tempo.at_factor(factor), song.meters, RATE,
                            scaled(song, song.meters.bar_qn(10), factor))


@settings(max_examples=60, deadline=None)
@given(st.fractions(min_value=Fraction(1, 2), max_value=2, max_denominator=10_000),
       st.sampled_from([44100, 48000, 96000]))
def test_any_factor_keeps_bar_frames_exact_and_in_order(factor, rate):
    song = _hypothesis_song()
    beats = BeatMap(song.tempo.at_factor(factor), song.meters, rate, 10 ** 9)
    written_ = song.tempo.at_factor(Fraction(1))
    bars = [beats.bar_frame(bar) for bar in range(1, 12)]
    assert bars == [math.floor(written_.seconds_at(song.meters.bar_qn(bar)) * rate / factor
                               + HALF) for bar in range(1, 12)]
    assert all(a < b for a, b in zip(bars, bars[1:]))


_SONG: list[Song] = []


def _hypothesis_song() -> Song:
    """The test song, read once (Hypothesis runs the test many times without fixtures)."""
    if not _SONG:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            _SONG.append(load_song(make_song(Path(tmp), "h", SONG), Problems()))
    return _SONG[0]
