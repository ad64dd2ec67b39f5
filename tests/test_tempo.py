from fractions import Fraction

import pytest

from appliance.timeline.meter import Meter, MeterMap
from appliance.timeline.tempo import TempoMap, TempoPoint

F = Fraction


def test_constant_tempo_frames_are_exact():
    tm = TempoMap([TempoPoint(F(0), F(120))])
    assert tm.frame_at(F(1), 48000) == 24000
    assert tm.frame_at(F(7200 * 2), 48000) == 7200 * 48000     # two hours of quarters
    assert tm.seconds_at(F(-4)) == -2                            # count-in side


def test_awkward_tempo_rounds_each_beat_from_its_exact_position():
    tm = TempoMap([TempoPoint(F(0), F(112))])
    # 60/112 s = 25714.2857... frames at 48 kHz: beat n is round(n * 25714.2857...)
    for n in (1, 2, 3, 7, 1000, 123456):
        assert tm.frame_at(F(n), 48000) == int(F(n * 60 * 48000, 112) + F(1, 2))


def test_thousands_of_tempo_changes_accumulate_no_error():
    # 5000 changes between two odd tempos over more than two and a half hours: the frame of the last
    # change equals the exact rational sum, which float accumulation would miss.
    points, qn, exact = [], F(0), F(0)
    bpms = [F("97.3"), F("131.17")]
    for i in range(5000):
        bpm = bpms[i % 2]
        points.append(TempoPoint(qn, bpm))
        length = F(3, 2) + (i % 5)
        exact += length * 60 / bpm
        qn += length
    tm = TempoMap(points)
    assert tm.seconds_at(qn) == exact
    assert tm.frame_at(qn, 48000) == int(exact * 48000 + F(1, 2))
    assert exact > 2.5 * 3600


def test_ramp_length_is_exact_and_positions_lie_on_the_curve():
    # 100 -> 140 bpm over 8 quarters: mean tempo 120, so exactly 4 seconds.
    tm = TempoMap([TempoPoint(F(0), F(100)), TempoPoint(F(8), F(140), ramp=True)])
    assert tm.seconds_at(F(8)) == 4
    assert tm.seconds_at(F(9)) == F(4) + F(60, 140)
    # tempo linear in time (10 bpm/s): at 2 s it is 120 and (100*2 + 10*2*2/2)/60 quarters are done
    k = F(40, 4)
    qn_at_2s = (100 * 2 + k * 2 * 2 / 2) / 60
    assert tm.qn_at_seconds(F(2)) == qn_at_2s
    assert abs(float(tm.seconds_at(qn_at_2s)) - 2.0) < 1e-12
    assert abs(float(tm.bpm_at(qn_at_2s)) - 120.0) < 1e-9
    assert tm.bpm_at(F(8)) == 140


def test_slowing_ramp():
    tm = TempoMap([TempoPoint(F(0), F(140)), TempoPoint(F(4), F(70), ramp=True)])
    assert tm.seconds_at(F(4)) == F(120 * 4, 210)
    mids = [float(tm.seconds_at(F(q, 4))) for q in range(17)]
    gaps = [b - a for a, b in zip(mids, mids[1:])]
    assert all(g2 > g1 for g1, g2 in zip(gaps, gaps[1:]))    # beats get longer


@pytest.mark.parametrize("points, message", [
    ([], "at least one"),
    ([TempoPoint(F(1), F(120))], "bar 1 beat 1"),
    ([TempoPoint(F(0), F(-5))], "above 0"),
    ([TempoPoint(F(0), F(120)), TempoPoint(F(0), F(90))], "in order"),
])
def test_bad_tempo_maps(points, message):
    with pytest.raises(ValueError, match=message):
        TempoMap(points)


@pytest.mark.parametrize("text, beats, bar_qn, compound", [
    ("4/4", 4, 4, False), ("3/4", 3, 3, False), ("5/4", 5, 5, False),
    ("7/8", 7, F(7, 2), False), ("6/8", 2, 3, True), ("12/8", 4, 6, True),
    ("9/8", 3, F(9, 2), True), ("3/8", 3, F(3, 2), False),
])
def test_meters(text, beats, bar_qn, compound):
    m = Meter.parse(text)
    assert (m.beats, m.bar_qn, m.compound) == (beats, bar_qn, compound)
    assert m.beat_qn * m.beats == m.bar_qn


@pytest.mark.parametrize("text", ["0/4", "4/0", "4/3", "four/4", "4", "65/4"])
def test_bad_meters(text):
    with pytest.raises(ValueError):
        Meter.parse(text)


def test_meter_changes_place_bars_and_beats():
    mm = MeterMap.from_bars([(1, Meter(4, 4)), (3, Meter(6, 8)), (5, Meter(7, 8))])
    assert [mm.bar_qn(b) for b in (1, 2, 3, 4, 5, 6)] == [0, 4, 8, 11, 14, F(35, 2)]
    assert mm.qn_at(4, 2) == 11 + F(3, 2)
    assert mm.bar_beat_at(F(14) + F(1, 2)) == (5, 2, Meter(7, 8))
    assert mm.bar_qn(0) == -4 and mm.bar_qn(-1) == -8                 # count-in bars
    beats = list(mm.beats(1, F(16)))
    assert [(b.bar, b.beat) for b in beats][7:12] == [(2, 4), (3, 1), (3, 2), (4, 1), (4, 2)]
    with pytest.raises(ValueError, match="beat must be 1 to 2"):
        mm.qn_at(3, 3)


def test_midi_style_meter_change_inside_a_bar_cuts_it_short():
    mm = MeterMap.from_qn([(F(0), Meter(4, 4)), (F(6), Meter(3, 4))])
    # bar 2 starts at 4 and is cut at 6; bar 3 (3/4) starts at 6
    assert mm.bar_qn(3) == 6
    assert [(b.bar, b.beat) for b in mm.beats(2, F(9))] == [(2, 1), (2, 2), (3, 1), (3, 2), (3, 3)]
