"""The parts a chart plays (issue 19, part 2): drums, bass and keys as MIDI on the song's
beat grid, checked musically, and the MIDI file `backline chart --midi` writes."""
from __future__ import annotations

from fractions import Fraction

import mido
import pytest

from appliance.timeline.chart import STYLES, parse_chart
from appliance.timeline.parts import generate
from appliance.timeline.parts.bass import bass
from appliance.timeline.parts.drums import CRASH, KICK, SNARE, TOMS, drums
from appliance.timeline.parts.keys import KEYS_HIGH, KEYS_LOW, keys, movement

from conftest import run_cli

SONG = """tempo: 100
key: G
style: {style}
[Intro]
| G | D/F# | Em7 | Cmaj7 |
[Verse] x2
| G . . >C | Am7 D7 | Bm7b5 E7 | Am7/G |
[Chorus]
| C | D | N.C. | G |
"""


def hits(events, pitch=None):
    """(bar from 1, beat from 1 as a Fraction) of every note-on of `pitch` in 4/4."""
    return [(int(qn // 4) + 1, qn % 4 + 1) for qn, m in events
            if m.type == "note_on" and (pitch is None or m.note == pitch)]


def in_bar(positions, bar):
    return sorted(beat for b, beat in positions if b == bar)


def test_rock_kicks_on_1_and_3_and_snares_on_2_and_4():
    part = drums(parse_chart(SONG.format(style="rock")), seed=3)
    for bar in (2, 3, 6, 7, 10):          # neither a section's first bar nor a fill's
        assert {1, 3} <= set(in_bar(hits(part, KICK), bar))
        assert not {2, 4} & set(in_bar(hits(part, KICK), bar))
        assert in_bar(hits(part, SNARE), bar) == [2, 4]


def test_half_time_puts_the_snare_on_3():
    part = drums(parse_chart(SONG.format(style="halftime")), seed=3)
    for bar in (2, 3, 6, 7, 10):
        assert in_bar(hits(part, SNARE), bar) == [3]
        assert in_bar(hits(part, KICK), bar) == [1]


@pytest.mark.parametrize("style", STYLES)
def test_every_style_plays_on_its_grid_with_a_fill_before_each_section_and_a_crash_on_it(style):
    chart = parse_chart(SONG.format(style=style))
    part = drums(chart)
    starts = [s.bar for s in chart.sections]                 # 1, 5, 13
    assert sorted(b for b, beat in hits(part, CRASH)) == starts
    assert all(beat == 1 for b, beat in hits(part, CRASH))
    fills = {b for b, _ in hits([e for e in part if e[1].note in TOMS])}
    assert fills == {s - 1 for s in starts if s > 1}          # the bars before 5 and 13
    grid = Fraction(1, 12)                                    # 16ths and triplets both land on it
    assert all((qn / grid).denominator == 1 for qn, m in part if m.type == "note_on")
    for bar in range(1, 17):
        assert 1 in in_bar(hits(part, KICK), bar)


def test_an_odd_meter_bar_has_its_own_pattern():
    part = drums(parse_chart("tempo: 140\nmeter: 7/8\n[A] x2\n| Dm7 |\n"))
    kicks = [qn for qn, m in part if m.type == "note_on" and m.note == KICK and qn < 7 / 2]
    snares = [qn for qn, m in part if m.type == "note_on" and m.note == SNARE and qn < 7 / 2]
    assert kicks == [0, 1, 2, 3] and snares == [Fraction(1, 2), Fraction(3, 2), Fraction(5, 2)]


def test_soft_plays_fewer_drum_notes_and_no_fill_loud_plays_longer_fills():
    chart = parse_chart(SONG.format(style="rock"))
    soft, loud = drums(chart, intensity=0.1), drums(chart, intensity=1.0)
    assert len(soft) < len(drums(chart)) < len(loud)
    assert not [e for e in soft if e[1].note in TOMS]
    tom_beats = lambda part: {beat // 1 for b, beat in hits([e for e in part if e[1].note in TOMS])}
    assert tom_beats(loud) == {3, 4} and tom_beats(drums(chart, intensity=0.5)) == {4}
    quiet = max(m.velocity for _, m in soft if m.type == "note_on")
    assert quiet < max(m.velocity for _, m in loud if m.type == "note_on")


def test_intensity_follows_a_per_bar_input_and_refuses_nan():
    chart = parse_chart(SONG.format(style="rock"))
    part = drums(chart, intensity=lambda bar: 1.0 if bar >= 9 else 0.1)
    assert all(b >= 9 or beat.denominator == 1 for b, beat in hits(part, 42))
    assert any(b >= 9 and beat.denominator == 2 for b, beat in hits(part, 42))
    with pytest.raises(ValueError, match="intensity must be 0 to 1, not nan"):
        bass(chart, intensity=float("nan"))


def test_every_chord_start_in_the_bass_is_its_root_or_slash_bass_with_approaches_between():
    chart = parse_chart(SONG.format(style="rock"))
    part = bass(chart, seed=1)
    ons = {qn: m.note for qn, m in part if m.type == "note_on"}
    for chord in chart.chords:
        if chord.symbol is not None:
            assert ons[chord.qn] % 12 == chord.symbol.bass, chord
    assert ons[4] % 12 == 6                                   # D/F#: the F#
    assert ons[Fraction(60)] % 12 == 7                        # Am7/G: the G
    approach = ons[Fraction(7, 2)]                            # the eighth before D/F#
    assert abs(approach - ons[4]) == 1
    rest = [qn for qn in ons if 56 <= qn < 60]                # the N.C. bar
    assert not rest


def test_keys_hold_third_and_seventh_and_lead_the_voices_with_little_movement():
    chart = parse_chart("tempo: 100\n[A]\n| Dm7 | G7 | Cmaj7 | Fmaj7 | Bm7b5 | E7 | Am7 | "
                        "A7 | Dm7 | G7 | C6 | Cadd9 |\n")
    part = keys(chart)
    chords = []
    for chord in chart.chords:
        voicing = tuple(sorted(m.note for qn, m in part if qn == chord.qn and m.type == "note_on"))
        assert chord.symbol.third in {p % 12 for p in voicing}
        if chord.symbol.seventh is not None:
            assert chord.symbol.seventh in {p % 12 for p in voicing}
        assert KEYS_LOW <= voicing[0] and voicing[-1] <= KEYS_HIGH
        chords.append(voicing)
    moves = [movement(a, b) for a, b in zip(chords, chords[1:])]
    assert max(moves) <= 6 and sum(moves) <= 4 * len(moves), moves      # a semitone a voice
    block = [tuple(60 + (p - c.symbol.root) % 12 + c.symbol.root for p in c.symbol.tones)
             for c in chart.chords]                           # every chord in root position
    assert sum(moves) * 3 < sum(movement(a, b) for a, b in zip(block, block[1:]))


def test_the_same_seed_gives_the_same_parts_and_another_seed_others():
    chart = parse_chart(SONG.format(style="rock"))
    assert generate(chart, seed=5) == generate(chart, seed=5)
    assert generate(chart, seed=5) != generate(chart, seed=6)


@pytest.fixture
def chart_song(tmp_path):
    folder = tmp_path / "groove"
    folder.mkdir()
    (folder / "song.toml").write_text('title = "Groove"\n')
    (folder / "chart.txt").write_text(SONG.format(style="shuffle"))
    return folder


def test_the_midi_file_reads_back_with_its_tracks_channels_tempo_and_sections(chart_song, tmp_path):
    out = tmp_path / "groove.mid"
    result = run_cli("chart", chart_song, "--midi", out, "--seed", "2")
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["Intro: bar 1, 4 bars", "Verse: bar 5, 8 bars (2 times)",
                                       "Chorus: bar 13, 4 bars"]
    midi = mido.MidiFile(out)
    assert midi.type == 1 and [t.name for t in midi.tracks] == ["Groove", "drums", "bass", "keys"]
    meta = midi.tracks[0]
    assert [m.tempo for m in meta if m.type == "set_tempo"] == [mido.bpm2tempo(100)]
    assert [(m.numerator, m.denominator) for m in meta if m.type == "time_signature"] == [(4, 4)]
    assert [m.key for m in meta if m.type == "key_signature"] == ["G"]
    ticks, markers = 0, []
    for m in meta:
        ticks += m.time
        if m.type == "marker":
            markers.append((m.text, ticks))
    assert markers == [("Intro", 0), ("Verse", 16 * 480), ("Chorus", 48 * 480)]
    for track, channel in zip(midi.tracks[1:], (9, 1, 2)):
        notes = [m for m in track if m.type in ("note_on", "note_off", "program_change")]
        assert notes and {m.channel for m in notes} == {channel}
    again = tmp_path / "again.mid"
    assert run_cli("chart", chart_song, "--midi", again, "--seed", "2").code == 0
    assert again.read_bytes() == out.read_bytes()
    assert run_cli("chart", chart_song, "--midi", again, "--seed", "3").code == 0
    assert again.read_bytes() != out.read_bytes()


def test_the_chart_command_refuses_what_it_cannot_do(chart_song, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "song.toml").write_text("length_bars = 2\n[[tempo]]\nbar = 1\nbpm = 100\n")
    result = run_cli("chart", plain)
    assert result.code == 1 and "no chart" in result.err
    result = run_cli("chart", chart_song, "--midi", tmp_path / "no" / "x.mid")
    assert result.code == 1 and "cannot write" in result.err
    assert not (tmp_path / "no").exists()
    assert run_cli("chart", chart_song, "--intensity", "nan").code == 2
