"""song.toml: what it means, and one clear line for each mistake."""
from __future__ import annotations

from fractions import Fraction

import pytest

from appliance.errors import Problems
from appliance.timeline.song import load_song

from conftest import beats_csv, make_song, run_cli

GOOD = '''
title = "Ramp & Meters"
key = "E"
count_in = 2
length_bars = 12

[[tempo]]
bar = 1
bpm = 120
meter = "4/4"

[[tempo]]
bar = 5
meter = "6/8"

[[tempo]]
bar = 9
bpm = 90
meter = "7/8"

[[tempo]]
bar = 11
bpm = 150
ramp = true

[[section]]
name = "A"
bar = 1

[[section]]
name = "B"
bar = 5

[click]
subdivision = 2
'''


def test_a_full_song_toml(library):
    problems = Problems()
    song = load_song(make_song(library, "s", GOOD), problems)
    assert not problems, problems
    assert (song.title, song.key, song.count_in_bars) == ("Ramp & Meters", "E", 2)
    assert [str(s.meter) for s in song.meters.segments] == ["4/4", "6/8", "7/8"]
    assert song.meters.bar_qn(9) == 16 + 12
    assert song.end_qn == song.meters.bar_qn(13)
    assert [p.ramp for p in song.tempo.points] == [False, False, True]
    assert song.click.subdivision == 2
    assert [(s.name, s.bar, s.qn) for s in song.sections] == [("A", 1, 0), ("B", 5, 16)]


def test_beats_csv_follows_meters_ramps_and_count_in(library):
    folder = make_song(library, "s", GOOD)
    rows = beats_csv(run_cli("beats", folder, "--count-in").out)
    # two count-in bars of 4/4 at 120: 8 beats, half a second apart; bar 1 at frame 192000
    assert [(r["bar"], r["beat"], r["frame"]) for r in rows[:9]] == [
        ("-1", "1", "0"), ("-1", "2", "24000"), ("-1", "3", "48000"), ("-1", "4", "72000"),
        ("0", "1", "96000"), ("0", "2", "120000"), ("0", "3", "144000"), ("0", "4", "168000"),
        ("1", "1", "192000")]
    plain = beats_csv(run_cli("beats", folder).out)
    assert plain[0]["frame"] == "0" and plain[0]["seconds"] == "0.000000"
    six_eight = [r for r in plain if r["numerator"] == "6"]
    assert [r["beat"] for r in six_eight] == ["1", "2"] * 4          # dotted-quarter pulse
    assert int(six_eight[1]["frame"]) - int(six_eight[0]["frame"]) == 36000   # 1.5 qn at 120
    seven = [r for r in plain if r["numerator"] == "7"]
    assert len(seven) == 28 and seven[0]["bpm"] == "90"
    # the ramp from bar 9 (90) to bar 11 (150): tempo rises beat by beat, then holds
    bpms = [float(r["bpm"]) for r in seven]
    assert bpms[:14] == sorted(bpms[:14]) and bpms[0] < bpms[13] < 150
    assert bpms[14:] == [150] * 14
    assert float(plain[-1]["bpm"]) == 150
    assert plain[-1]["bar"] == "12"


def test_click_only_song_without_length_is_an_error(library):
    r = run_cli("beats", make_song(library, "s", "[[tempo]]\nbar = 1\nbpm = 100\n"))
    assert r.code == 1
    assert "song.toml: length_bars: a song without stems needs length_bars" in r.err


BAD = [
    ('title = "x"\n[[tempo]\nbar = 1', "song.toml: line 2: TOML syntax:"),
    ('titel = "x"\nlength_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n', "song.toml: titel: unknown key"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = -100\n', "song.toml: tempo[1].bpm: must be at least 10"),
    # Numbers that are not numbers: TOML's nan and inf pass every range check unless refused.
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = nan\n',
     "song.toml: tempo[1].bpm: must be a finite number, not nan"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\nbeat = inf\n',
     "song.toml: tempo[1].beat: must be a finite number, not inf"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n[click]\nlevel_db = nan\n',
     "song.toml: click.level_db: must be a finite number, not nan"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n[click]\nlevel_db = -inf\n',
     "song.toml: click.level_db: must be a finite number, not -inf"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n[[section]]\nname = "V"\nbar = 1\nbeat = nan\n',
     "song.toml: section[1].beat: must be a finite number, not nan"),
    # Bounds: tempo 10-999 BPM, count-in at most 8 bars, everything within 24 hours.
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 1e-300\n', "song.toml: tempo[1].bpm: must be at least 10"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 1000\n', "song.toml: tempo[1].bpm: must be at most 999"),
    ('length_bars = 4\ncount_in = 9\n[[tempo]]\nbar = 1\nbpm = 100\n',
     "song.toml: count_in: must be at most 8, not 9"),
    ('length_bars = 1000000\n[[tempo]]\nbar = 1\nbpm = 100\n',
     "song.toml: length_bars: 1000000 bars last 666.7 hours; a song lasts at most 24 hours"),
    ('length_bars = 1000000000000000000000000000000\n[[tempo]]\nbar = 1\nbpm = 100\n',
     "song.toml: length_bars: 1000000000000000000000000000000 bars last over a million hours"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n[[tempo]]\nbar = 99999999999999\nbpm = 90\n',
     "song.toml: tempo[2].bar: bar 99999999999999 is over a million hours into the song; "
     "a song lasts at most 24 hours"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n[[section]]\nname = "V"\nbar = 99999999999999\n',
     "song.toml: section[1].bar: bar 99999999999999 is over a million hours into the song"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = "fast"\n', "song.toml: tempo[1].bpm: must be a number"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\nmeter = "0/4"\n',
     "song.toml: tempo[1].meter: meter numerator must be 1 to 64, not 0"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n[[tempo]]\nbar = 3\nbeat = 2\nmeter = "3/4"\n',
     "song.toml: tempo[2].meter: a meter change must be on beat 1"),
    ('length_bars = 4\n[[tempo]]\nbar = 2\nbpm = 100\n',
     "song.toml: tempo[1].bar: the first [[tempo]] must be at bar 1"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n[[tempo]]\nbar = 5\nbpm = 90\n'
     '[[tempo]]\nbar = 3\nbpm = 80\n',
     "song.toml: tempo[3].bar: bar 3 beat 1 must come after tempo[2]"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n[[section]]\nname = "V"\nbar = 5\n'
     '[[section]]\nname = "I"\nbar = 1\n',
     "song.toml: section[2].bar: 'I' at bar 1 must come after 'V' (bar 5); sections go in order"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n[[section]]\nbar = 2\n',
     "song.toml: section[1].name: is required"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n[[tempo]]\nbar = 2\nbeat = 9\nbpm = 90\n',
     "song.toml: tempo[2].beat: beat must be 1 to 4 in a bar of 4/4, not 9"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n[click]\nsubdivision = 7\n',
     "song.toml: click.subdivision: must be at most 4, not 7"),
    ('length_bars = 4\n', "song.toml: tempo: is required"),
    ('length_bars = 4\ntempo_map = "x.mid"\n[[tempo]]\nbar = 1\nbpm = 100\n',
     "song.toml: tempo: give either tempo_map or [[tempo]] entries, not both"),
    ('length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\nramp = true\n',
     "song.toml: tempo[1].ramp: the first tempo has nothing to ramp from"),
    ('length_bars = 0\n[[tempo]]\nbar = 1\nbpm = 100\n', "song.toml: length_bars: must be at least 1"),
]


@pytest.mark.parametrize("toml, message", BAD)
def test_bad_song_toml_gets_one_line_naming_file_and_field(library, toml, message):
    folder = make_song(library, "bad", toml)
    r = run_cli("beats", folder)
    assert r.code == 1
    assert "Traceback" not in r.err
    assert message in r.err, r.err
    assert r.err.startswith(str(folder / "song.toml"))


def test_every_mistake_is_reported_not_only_the_first(library):
    problems = Problems()
    load_song(make_song(library, "bad", 'colour = "red"\nlength_bars = -1\n'
                                        '[[tempo]]\nbar = 1\nbpm = 0\n[click]\nlevel_db = 99\n'),
              problems)
    fields = sorted(p.field for p in problems)
    assert fields == ["click.level_db", "colour", "length_bars", "tempo[1].bpm"]


def test_fractional_beat_positions(library):
    problems = Problems()
    song = load_song(make_song(library, "s", 'length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n'
                                             '[[tempo]]\nbar = 2\nbeat = 2.5\nbpm = 80\n'), problems)
    assert not problems
    assert song.tempo.points[1].qn == Fraction(11, 2)


def test_a_stem_with_a_nan_gain_is_left_out_naming_the_field(library):
    problems = Problems()
    song = load_song(make_song(library, "s", 'length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 100\n'
                                             '[[stem]]\nfile = "a.wav"\ngain_db = nan\n'), problems)
    assert song is not None and song.stems == []
    assert [str(p).split("song.toml: ")[1] for p in problems] == \
        ["stem[1].gain_db: must be a finite number, not nan"]
