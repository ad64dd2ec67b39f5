"""Chord charts (issue 19, part 1): the format of docs/chart.md read into sections, bars,
chords and a tempo map; every mistake one line naming the file, the line and the column."""
from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.errors import Problems
from appliance.timeline.chart import STYLES, Chart, ChartError, parse_chart
from appliance.timeline.song import load_song
from appliance.vocab import commands as c

from conftest import run_cli
from transport_rig import BAR, rig, run, close
from appliance.audio.disk.show import Show

DOCS = Path(__file__).resolve().parent.parent / "docs" / "chart.md"

QUALITIES = {   # symbol: (root, pitch classes, third, seventh)
    "C": (0, {0, 4, 7}, 4, None),
    "Cmaj7": (0, {0, 4, 7, 11}, 4, 11),
    "Am7": (9, {9, 0, 4, 7}, 0, 7),
    "G7": (7, {7, 11, 2, 5}, 11, 5),
    "Dsus4": (2, {2, 7, 9}, None, None),
    "Cadd9": (0, {0, 4, 7, 2}, 4, None),
    "Bdim": (11, {11, 2, 5}, 2, None),
    "Caug": (0, {0, 4, 8}, 4, None),
    "Bm7b5": (11, {11, 2, 5, 9}, 2, 9),
    "F#m7": (6, {6, 9, 1, 4}, 9, 4),
    "Bbmaj7": (10, {10, 2, 5, 9}, 2, 9),
}


def chart(bars: str, head: str = "tempo: 120\n") -> Chart:
    return parse_chart(f"{head}[A]\n{bars}\n")


@pytest.mark.parametrize("symbol", sorted(QUALITIES))
def test_every_listed_quality_is_read_by_pychord(symbol):
    root, tones, third, seventh = QUALITIES[symbol]
    s = chart(f"| {symbol} |").chords[0].symbol
    assert (s.root, set(s.tones), s.third, s.seventh, s.bass) == (root, tones, third, seventh, root)


@pytest.mark.parametrize("symbol, root, bass", [("C/E", 0, 4), ("D/F#", 2, 6), ("Am7/G", 9, 7),
                                                ("Bb/D", 10, 2)])
def test_a_slash_chord_keeps_its_chord_and_names_its_bass(symbol, root, bass):
    s = chart(f"| {symbol} |").chords[0].symbol
    assert (s.root, s.bass, s.text) == (root, bass, symbol)
    assert bass not in s.tones or bass in chart(f"| {symbol.split('/')[0]} |").chords[0].symbol.tones


def test_chords_in_a_bar_holds_pushes_repeats_and_rests_fall_on_their_beats():
    ch = chart("| C . . >F | % | Am7 G | N.C. |")
    got = [(ch_.qn, ch_.end_qn, ch_.symbol and ch_.symbol.text, ch_.pushed) for ch_ in ch.chords]
    assert got == [(0, Fraction(5, 2), "C", False), (Fraction(5, 2), 4, "F", True),   # the "and" of 3
                   (4, Fraction(13, 2), "C", False), (Fraction(13, 2), 8, "F", True),
                   (8, 10, "Am7", False), (10, 12, "G", False), (12, 16, None, False)]


def test_sections_and_repeats_become_song_sections_at_their_bars(tmp_path):
    (tmp_path / "song.toml").write_text('title = "Chart"\n')
    (tmp_path / "chart.txt").write_text(
        "tempo: 90\nmeter: 3/4\nkey: E minor\n[Intro]\n| Em | C |\n[Verse] x3\n| Em | Am |"
        " B7 | Em |\n[Chorus]\nG | D\n[Verse]\n[Chorus] x2\n")
    problems = Problems()
    song = load_song(tmp_path, problems)
    assert not problems, problems
    assert [(s.name, s.bar, s.qn) for s in song.sections] == [
        ("Intro", 1, 0), ("Verse", 3, 6), ("Chorus", 15, 42), ("Verse 2", 17, 48),
        ("Chorus 2", 21, 60)]
    assert song.end_qn == 3 * 24 and song.key == "E minor"
    assert song.tempo.bpm_at(Fraction(10)) == 90 and str(song.meters.meter_at_bar(20)) == "3/4"
    assert not song.stems


def test_tempo_and_meter_changes_in_a_chart_make_the_songs_tempo_map():
    ch = parse_chart("tempo: 100\n[A]\n| C | C |\ntempo: 140\nmeter: 7/8\n| C | C |\n")
    assert [(p.qn, p.bpm) for p in ch.tempo.points] == [(0, 100), (8, 140)]
    assert ch.meters.bar_qn(4) == 8 + Fraction(7, 2) and ch.end_qn == 15


def test_a_chart_in_song_toml_is_read_and_its_errors_name_song_toml(tmp_path):
    (tmp_path / "song.toml").write_text('chart = """\ntempo: 100\n[A]\n| C | Cxyz |\n"""\n')
    problems = Problems()
    assert load_song(tmp_path, problems) is None
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'song.toml'}: chart, line 3, column 7: bar 2: 'Cxyz' is no chord symbol "
        "known to pychord (Unknown quality: xyz); expected a chord like C, Am7, F#m7b5, G/B "
        "or N.C."]


@pytest.mark.parametrize("text, where, what", [
    ("tempo: 100\n[A]\n| C | Cxyz |", "line 3, column 7", "'Cxyz' is no chord symbol"),
    ("tempo: 100\n[A]\n| C D E F G |", "line 3, column 11", "bar 1 has 5 beats of chords; a bar of 4/4 has 4"),
    ("tempo: 0\n[A]\n| C |", "line 1, column 8", "tempo must be a number of BPM from 10 to 999"),
    ("tempo: nan\n[A]\n| C |", "line 1, column 8", "not 'nan'"),
    ("tempo: inf\n[A]\n| C |", "line 1, column 8", "not 'inf'"),
    ("tempo: 1e9\n[A]\n| C |", "line 1, column 8", "not '1e9'"),
    ("tempo: 100\nstyle: polka\n[A]\n| C |", "line 2, column 8", "unknown style 'polka'"),
    ("tempo: 100\n[A] x0\n| C |", "line 2, column 5", "a section plays 1 to 99 times, not 0"),
    ("tempo: 100\n[A]\n| C D E |", "line 3, column 3", "3 chords do not share 4 beats evenly"),
    ("tempo: 100\n[A]\n| >C |", "line 3, column 3", "a push ('>') needs a chord before it"),
    ("tempo: 100\n| C |", "line 2, column 1", "bars need a section first"),
    ("[A]\n| C |", "line 2, column 1", "the tempo goes before the first bar"),
    ("tempo: 100\n[A]\n| C || D |", "line 3, column 6", "an empty bar"),
    ("tempo: 100\n[A]\n[B]\n| C |", "line 2, column 1", "[A] has no bars"),
    ("tempo: 100\nmeter: 4/5\n[A]\n| C |", "line 2, column 8", "meter denominator"),
    ("tempo: 100\ncolour: red\n[A]\n| C |", "line 2, column 1", "unknown setting 'colour'"),
    ("tempo: 100\n[A]\n| % |", "line 3, column 3", "'%' repeats the bar before"),
])
def test_a_bad_chart_names_the_file_the_line_and_what_is_wrong(tmp_path, text, where, what):
    (tmp_path / "song.toml").write_text("")
    (tmp_path / "chart.txt").write_text(text + "\n")
    problems = Problems()
    assert load_song(tmp_path, problems) is None
    assert len(problems) == 1, problems
    line = str(problems[0])
    assert line.startswith(f"{tmp_path / 'chart.txt'}: {where}: ") and what in line, line


def test_backline_check_validates_a_chart_song(tmp_path):
    song = tmp_path / "s"
    song.mkdir()
    (song / "song.toml").write_text("")
    (song / "chart.txt").write_text("tempo: 100\n[A]\n| C | G7 |\n")
    assert run_cli("check", song).code == 0
    (song / "chart.txt").write_text("tempo: 100\n[A]\n| C | Gxyz |\n")
    result = run_cli("check", song)
    assert result.code == 1
    assert f"{song / 'chart.txt'}: line 3, column 7: bar 2: 'Gxyz'" in result.err


def test_a_chart_song_with_its_own_tempo_or_sections_is_refused(tmp_path):
    (tmp_path / "song.toml").write_text('[[tempo]]\nbar = 1\nbpm = 90\n'
                                        '[[section]]\nname = "X"\nbar = 1\n')
    (tmp_path / "chart.txt").write_text("tempo: 100\n[A]\n| C |\n")
    problems = Problems()
    assert load_song(tmp_path, problems) is None
    assert {p.field for p in problems.errors} == {"tempo", "section"}


def test_every_example_in_the_docs_parses():
    examples = re.findall(r"```chart\n(.*?)```", DOCS.read_text(), re.S)
    assert len(examples) >= 3
    for text in examples:
        assert parse_chart(text).bars


def test_a_section_jump_lands_on_a_chart_section(library, tmp_path):
    folder = library / "songs" / "charted"
    folder.mkdir()
    (folder / "song.toml").write_text("")
    (folder / "chart.txt").write_text("tempo: 120\n[Verse] x2\n| C | F |\n[Chorus]\n| G | C |\n")
    t = rig(Show.of_song(folder), tmp_path)
    try:
        run(t, BAR + 1024, {0: [c.Play()], 1024: [c.Jump("Chorus")]})
        assert t.snapshot().section == "Chorus"
        assert t.pos == 4 * BAR + 1024          # bar 2's start played as Chorus's bar 5
    finally:
        close(t)


CHART_WORDS = st.sampled_from(
    ["tempo: 96", "tempo: nan", "tempo: 0", "meter: 7/8", "meter: 6/8", "meter: x", "key: G",
     *(f"style: {s}" for s in STYLES), "style: polka", "[Verse]", "[Chorus] x2", "[A] x0",
     "[]", "|", "||", "C", "Am7", "G/B", ">F", ".", "%", "N.C.", "Cxyz", "H", "x99", ":", "#"])


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(st.lists(st.one_of(CHART_WORDS, st.text(max_size=6)), max_size=8), max_size=10))
def test_any_text_is_a_chart_or_one_clear_error(lines):
    text = "\n".join(" ".join(words) for words in lines)
    try:
        ch = parse_chart(text)
    except ChartError as exc:
        assert exc.line >= 1 and exc.column >= 1 and exc.message
        return
    assert ch.end_qn > 0 and ch.sections and math.isfinite(float(ch.tempo.seconds_at(ch.end_qn)))
    assert all(a.end_qn == b.qn for a, b in zip(ch.chords, ch.chords[1:]))
