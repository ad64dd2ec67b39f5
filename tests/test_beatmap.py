"""BeatMap answers what listing every beat with grid.beats answered, frame for frame, and
its size does not grow with the song's length."""
import tracemalloc
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.audio.disk.loaded import Positions
from appliance.audio.record.takes import tempo_changes
from appliance.timeline import grid
from appliance.timeline.beatmap import BeatMap
from appliance.timeline.meter import Meter, MeterMap
from appliance.timeline.tempo import MAX_SECONDS, TempoMap, TempoPoint
from appliance.vocab.commands import MAX_BPM

F = Fraction


def assert_same_as_grid(tempo: TempoMap, meters: MeterMap, rate: int, end_frame: int) -> None:
    """Every beat, bar and lookup of the BeatMap against the listed beats."""
    song = SimpleNamespace(tempo=tempo, meters=meters)
    ref = list(grid.beats(song, rate, end_frame))
    bm = BeatMap(tempo, meters, rate, end_frame)
    assert bm.count == len(ref)
    assert bm.frames(0, bm.count).tolist() == [b.frame for b in ref]
    for i, b in enumerate(ref):
        assert bm.frame(i) == b.frame
        assert bm.bar_beat(i) == (b.bar, b.beat)
        assert bm.index_at(b.frame) == i
        assert bm.index_at(b.frame - 1) == i - 1
        bpm, meter = bm.tempo(i)
        assert bpm == pytest.approx(float(b.bpm), rel=1e-12) and meter == str(b.meter)
        assert bm.next_beat(b.frame - 1) == b.frame
    last_bar = ref[-1].bar if ref else 1
    assert bm.last_bar == last_bar
    bars = [tempo.frame_at(meters.bar_qn(bar), rate) for bar in range(1, last_bar + 2)]
    assert [bm.bar_frame(bar) for bar in range(1, last_bar + 2)] == bars
    for frame in {0, 1, end_frame // 3, end_frame // 2, end_frame - 1, end_frame}:
        assert bm.bar_at(frame) == max(1, int(np.searchsorted(bars, frame, "right")))
        assert bm.next_bar(frame) == bars[int(np.searchsorted(bars, frame, "left"))]


def _map(points: list[tuple[Fraction, Fraction, bool]]) -> TempoMap:
    return TempoMap([TempoPoint(qn, bpm, ramp) for qn, bpm, ramp in points])


CASES = {
    "one tempo": ([(F(0), F(120), False)], [(1, Meter(4, 4))], 48000),
    "awkward tempo at 44.1 kHz": ([(F(0), F(112), False)], [(1, Meter(4, 4))], 44100),
    "decimal tempos, change off the beat": (
        [(F(0), F("97.3"), False), (F(13, 3), F("131.17"), False), (F(30), F(64), False)],
        [(1, Meter(4, 4))], 48000),
    "MIDI microseconds": ([(F(0), F(60_000_000, 517_241), False),
                          (F(17), F(60_000_000, 411_111), False)], [(1, Meter(4, 4))], 96000),
    "ramps up and down": ([(F(0), F(96), False), (F(16), F(132), True), (F(32), F(70), True),
                           (F(95, 2), F(70), False)], [(1, Meter(4, 4))], 48000),
    "meters": ([(F(0), F(120), False), (F(22), F(90), False)],
               [(1, Meter(4, 4)), (3, Meter(6, 8)), (5, Meter(7, 8)), (9, Meter(4, 64)),
                (11, Meter(12, 8))], 44100),
    "meter change inside a ramp": ([(F(0), F(80), False), (F(8), F(160), True)],
                                   [(1, Meter(4, 4)), (2, Meter(5, 16)), (4, Meter(3, 4))], 48000),
}


@pytest.mark.parametrize("points, meters, rate", CASES.values(), ids=CASES.keys())
def test_beat_map_gives_the_listed_beats(points, meters, rate):
    tempo = _map(points)
    mm = MeterMap.from_bars(meters)
    assert_same_as_grid(tempo, mm, rate, tempo.frame_at(mm.bar_qn(24), rate) + 7)


def test_a_meter_change_inside_a_bar_cuts_it_short_as_listed():
    tempo = _map([(F(0), F(120), False), (F(5), F(150), True), (F(9), F(150), False)])
    mm = MeterMap.from_qn([(F(0), Meter(4, 4)), (F(6), Meter(3, 4)), (F(19, 2), Meter(7, 8))])
    assert_same_as_grid(tempo, mm, 48000, tempo.frame_at(F(40), 48000))


def test_no_beats_before_the_end():
    tempo = _map([(F(0), F(120), False)])
    bm = BeatMap(tempo, MeterMap.from_bars([(1, Meter(4, 4))]), 48000, 0)
    assert (bm.count, bm.last_bar, bm.bar_frame(2)) == (0, 1, 96000)


BPMS = st.one_of(st.integers(10, 999).map(F), st.fractions(F(10), F(999), max_denominator=100),
                 st.integers(60_061, 6_000_000).map(lambda us: F(60_000_000, us)))
STEPS = st.fractions(F(1, 8), F(12), max_denominator=12)
METERS = st.sampled_from([Meter(4, 4), Meter(3, 4), Meter(7, 8), Meter(6, 8), Meter(12, 8),
                          Meter(5, 16), Meter(2, 2), Meter(4, 64), Meter(1, 1)])


@st.composite
def tempo_and_meters(draw):
    qn, points = F(0), []
    for i in range(draw(st.integers(1, 5))):
        points.append((qn, draw(BPMS), i > 0 and draw(st.booleans())))
        qn += draw(STEPS)
    meter_qns = sorted(set(draw(st.lists(STEPS, max_size=4))))
    meters = [(F(0), draw(METERS))] + [(q * 2, draw(METERS)) for q in meter_qns]
    by_qn = draw(st.booleans())          # a MIDI file's map may cut a bar short
    mm = MeterMap.from_qn(meters) if by_qn else MeterMap.from_bars(
        [(1, meters[0][1])] + [(2 + i * 2, m) for i, (_, m) in enumerate(meters[1:])])
    return _map(points), mm, draw(st.sampled_from([44100, 48000, 96000])), qn + draw(STEPS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tempo_and_meters())
def test_beat_map_gives_the_listed_beats_for_any_map(case):
    tempo, meters, rate, end_qn = case
    assert_same_as_grid(tempo, meters, rate, tempo.frame_at(end_qn, rate))


def _longest_song(meter: Meter) -> SimpleNamespace:
    bars = MAX_SECONDS * MAX_BPM * meter.denominator // (60 * 4 * meter.numerator)
    return SimpleNamespace(tempo=_map([(F(0), F(MAX_BPM), False)]),
                           meters=MeterMap.from_bars([(1, meter)]), sections=[],
                           end_qn=bars * meter.bar_qn)


@pytest.mark.parametrize("meter", [Meter(4, 4), Meter(4, 64)], ids=str)
def test_the_longest_song_s_positions_stay_small(meter):
    """24 h at 999 BPM (1.4 M beats; 23 M in 4/64): kilobytes, not the 40 MB kept and 303 MB
    peak of listing every beat, and its last beat where the tempo map puts it."""
    song = _longest_song(meter)
    frames = song.tempo.frame_at(song.end_qn, 48000)
    tracemalloc.start()
    try:
        positions = Positions.of(song, 48000, frames)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept < 100_000 and peak < 200_000
    beats = positions.beats
    assert beats.count == song.end_qn / meter.beat_qn
    last_qn = song.end_qn - meter.beat_qn
    assert beats.frame(beats.count - 1) == song.tempo.frame_at(last_qn, 48000)
    assert beats.bar_beat(beats.count - 1) == (song.meters.bar_beat_at(last_qn)[0], meter.beats)
    assert beats.bar_frame(beats.last_bar + 1) == frames


def test_a_take_s_tempo_map_lists_the_changes_the_listed_beats_show():
    """take.toml's tempo map: each beat whose tempo or meter differs from the one before."""
    points, meters, rate = CASES["meter change inside a ramp"]
    tempo, mm = _map(points), MeterMap.from_bars(meters)
    end = tempo.frame_at(mm.bar_qn(24), rate)
    listed, last = [], None
    for b in grid.beats(SimpleNamespace(tempo=tempo, meters=mm), rate, end):
        if (b.bpm, b.meter) != last:
            listed.append({"bar": b.bar, "beat": b.beat, "frame": b.frame,
                           "bpm": round(float(b.bpm), 6), "meter": str(b.meter)})
            last = (b.bpm, b.meter)
    assert len(listed) > 10                  # every beat of the ramp, and the steady runs once
    assert tempo_changes(BeatMap(tempo, mm, rate, end)) == listed
