"""Where every beat and bar of a song falls, found by arithmetic instead of listed.

A song is cut into runs: stretches of one meter segment and one tempo segment. Inside a
run, beat j's frame is a closed form of j, so "the beat at frame F" and "bar B's frame"
are a search among the runs (a few per tempo or meter change) and a few integer
operations. Memory and load time grow with the number of tempo and meter changes, not with
the song's length, and nothing here is a `Fraction` once built: the audio thread asks.

The same map lists the click: built with `per_beat` (the clicks a beat, by its meter), its
"beats" are the clicks, each beat's subdivisions included (`place` says which is which).

Every frame is exactly `TempoMap.frame_at` of the beat's quarter note (what `grid.beats`
gives): a constant run keeps that rational as integers, `(an + j * bn) // d`; a ramp run
repeats `seconds_at`'s float steps on the same correctly rounded inputs (an int divided by
an int rounds as `float(Fraction)` does) and adds the float exactly. The map's tempo
factor F enters as the rational 1/F on each beat's seconds, so that stays exact at any F.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterator

import numpy as np

from .meter import Meter, MeterMap, MeterSegment
from .tempo import TempoMap, _Segment

_INT64 = 2 ** 62          # a constant run is vectorised in int64 below this


def _ints(*values: Fraction) -> tuple[int, ...]:
    """Numerators over one common denominator (last)."""
    d = math.lcm(*(v.denominator for v in values))
    return tuple(v.numerator * (d // v.denominator) for v in values) + (d,)


@dataclass(frozen=True)
class _Ramp:
    """A run inside a tempo ramp: `seconds_at`'s float steps for its beat j, as integers."""

    disc: tuple[int, int, int]      # a² + 2k·60·beats = (p0 + j p1) / d
    num: tuple[int, int, int]       # 120·beats = (e0 + j e1) / d
    a: float                        # the ramp's start tempo
    k: float                        # bpm per second
    start: tuple[int, int]          # its start, seconds / F * rate + 1/2, as (g, h)
    seconds: float                  # its start, seconds as written (F = 1)
    factor: tuple[int, int]         # the tempo factor F as (numerator, denominator)
    c0: float                       # this run's first beat, quarter notes into the ramp
    bq: float                       # quarter notes a beat
    rate: int

    def offset(self, j: int) -> float:
        """Seconds from the ramp's start to beat j, as written (F = 1)."""
        p0, p1, pd = self.disc
        e0, e1, ed = self.num
        return ((e0 + j * e1) / ed) / (self.a + math.sqrt(max((p0 + j * p1) / pd, 0.0)))

    def frame(self, j: int) -> int:
        m, den = self.offset(j).as_integer_ratio()     # the float, exactly
        g, h = self.start
        fn, fd = self.factor
        return (g * den * fn + m * fd * self.rate * h) // (h * den * fn)

    def guess(self, frame: int) -> int:
        """About which beat falls on `frame` (the caller corrects it exactly)."""
        fn, fd = self.factor
        t = (frame + 0.5) / self.rate * fn / fd - self.seconds
        qn = (self.a * t + self.k * t * t / 2) / 60
        return math.floor((qn - self.c0) / self.bq)

    def bpm(self, j: int) -> float:
        fn, fd = self.factor
        return (self.a + self.k * self.offset(j)) * fn / fd


@dataclass(frozen=True)
class _Run:
    """Beats `first` .. `first + count - 1` (song-wide indexes); count None: to the end of time."""

    first: int
    count: int | None
    bar: int                   # the bar of the meter segment's first beat
    index: int                 # this run's first beat, counted from its meter segment's first
    per_beat: int              # points a beat (subdivisions): index // per_beat is the beat
    meter: Meter
    meter_text: str
    bpm: float
    linear: tuple[int, int, int] | None    # (an, bn, d): frame = (an + j * bn) // d
    ramp: _Ramp | None                     # or this

    def frame(self, j: int) -> int:
        if self.linear is None:
            return self.ramp.frame(j)
        an, bn, d = self.linear
        return (an + j * bn) // d

    def last_at_or_before(self, frame: int) -> int:
        """The largest j whose frame <= `frame` (the run's first beat is known to be)."""
        top = self.count - 1 if self.count is not None else None
        if self.linear is not None:
            an, bn, d = self.linear
            j = ((frame + 1) * d - an - 1) // bn
        else:
            j = self.ramp.guess(frame)
        j = max(0, j if top is None else min(j, top))
        while (top is None or j < top) and self.frame(j + 1) <= frame:
            j += 1
        while j > 0 and self.frame(j) > frame:
            j -= 1
        return j


def _run(first: int, count: int | None, seg: MeterSegment, index: int, per_beat: int,
         ts: _Segment, rate: int, factor: Fraction) -> _Run:
    """The run of `count` beats from the meter segment's beat `index`, in tempo segment `ts`
    (as written), played at tempo factor `factor`."""
    meter = seg.meter
    bq = meter.beat_qn / per_beat
    c0 = seg.qn + index * bq - ts.qn        # quarter notes from the tempo segment's start
    common = dict(first=first, count=count, bar=seg.bar, index=index, per_beat=per_beat,
                  meter=meter, meter_text=str(meter), bpm=float(ts.start_bpm * factor))
    if not ts.ramp:
        a = (ts.seconds + c0 * 60 / ts.start_bpm) / factor * rate + Fraction(1, 2)
        return _Run(**common, linear=_ints(a, bq * 60 * rate / (ts.start_bpm * factor)),
                    ramp=None)
    a = ts.start_bpm
    k = (ts.end_bpm - a) / ts.duration
    start = ts.seconds / factor * rate + Fraction(1, 2)
    ramp = _Ramp(_ints(a * a + 2 * k * 60 * c0, 2 * k * 60 * bq), _ints(120 * c0, 120 * bq),
                 float(a), float(k), (start.numerator, start.denominator), float(ts.seconds),
                 (factor.numerator, factor.denominator), float(c0), float(bq), rate)
    return _Run(**common, linear=None, ramp=ramp)


class BeatMap:
    """Every beat of a song from bar 1 beat 1 (frame 0); `count` of them before `end_frame`.

    `per_beat(meter)`: that many equal points a beat instead of one (the click's
    subdivisions); a meter change inside a bar cuts its last beat's points short too.
    """

    def __init__(self, tempo: TempoMap, meters: MeterMap, rate: int, end_frame: int,
                 per_beat: Callable[[Meter], int] | None = None) -> None:
        self._runs: list[_Run] = []
        segs, tsegs = meters.segments, tempo._segments
        tqns = [t.qn for t in tsegs]
        first = 0
        for m, seg in enumerate(segs):
            div = per_beat(seg.meter) if per_beat is not None else 1
            bq = seg.meter.beat_qn / div
            nxt = segs[m + 1].qn if m + 1 < len(segs) else None
            n = math.ceil((nxt - seg.qn) / bq) if nxt is not None else None
            t = max(0, bisect.bisect_right(tqns, seg.qn) - 1)
            while t < len(tsegs) and (nxt is None or tsegs[t].qn < nxt):
                lo = max(0, math.ceil((tsegs[t].qn - seg.qn) / bq))
                hi = math.ceil((tqns[t + 1] - seg.qn) / bq) if t + 1 < len(tsegs) else None
                if n is not None:
                    hi = n if hi is None else min(hi, n)
                if hi is None or hi > lo:
                    self._runs.append(_run(first + lo, None if hi is None else hi - lo,
                                           seg, lo, div, tsegs[t], rate, tempo.factor))
                t += 1
            first += n or 0
        self._firsts = [r.first for r in self._runs]     # lists: bisect finds one value
        self._frames = [r.frame(0) for r in self._runs]
        self._bars = [r.bar for r in self._runs]
        self.count = self.index_at(end_frame - 1) + 1
        self.last_bar = self.bar_beat(self.count - 1)[0] if self.count else 1

    def _run_of_beat(self, i: int) -> _Run:
        return self._runs[bisect.bisect_right(self._firsts, i) - 1]

    def frame(self, i: int) -> int:
        """Beat i's frame (0-based, song-wide; past the end too, for bar ends)."""
        run = self._run_of_beat(i)
        return run.frame(i - run.first)

    def index_at(self, frame: int) -> int:
        """The last beat at or before `frame`; -1 before the first."""
        r = bisect.bisect_right(self._frames, frame) - 1
        if r < 0:
            return -1
        run = self._runs[r]
        return run.first + run.last_at_or_before(frame)

    def bar_beat(self, i: int) -> tuple[int, int]:
        """Beat i's bar and its 1-based beat in the bar (with `per_beat`: point i's beat)."""
        run = self._run_of_beat(i)
        bars, beat = divmod((i - run.first + run.index) // run.per_beat, run.meter.beats)
        return run.bar + bars, beat + 1

    def place(self, i: int) -> tuple[int, int, int]:
        """Point i's frame, its beat in the bar (0-based) and its subdivision of that beat
        (0: on the beat), in one lookup: what the click asks of each of its points."""
        run = self._run_of_beat(i)
        j = i - run.first
        beat, sub = divmod(j + run.index, run.per_beat)
        return run.frame(j), beat % run.meter.beats, sub

    def tempo(self, i: int) -> tuple[float, str]:
        """The BPM heard at beat i (inside a ramp, at that instant) and its meter, '7/8'."""
        run = self._run_of_beat(i)
        if run.ramp is None:
            return run.bpm, run.meter_text
        return run.ramp.bpm(i - run.first), run.meter_text

    def bar_frame(self, bar: int) -> int:
        """Where bar `bar` (1 or more; past the end too) starts."""
        run = self._runs[bisect.bisect_right(self._bars, bar) - 1]
        return self.frame(run.first - run.index + (bar - run.bar) * run.meter.beats * run.per_beat)

    def bar_at(self, frame: int) -> int:
        """The bar sounding at `frame` (1 before bar 1)."""
        i = self.index_at(frame)
        return self.bar_beat(i)[0] if i >= 0 else 1

    def next_beat(self, frame: int) -> int:
        """The first beat frame at or after `frame`."""
        return self.frame(self.index_at(frame - 1) + 1)

    def next_bar(self, frame: int) -> int:
        """The first bar start at or after `frame`."""
        i = self.index_at(frame - 1) + 1
        at, beat, sub = self.place(i)
        return at if beat == sub == 0 else self.bar_frame(self.bar_beat(i)[0] + 1)

    def changes(self) -> Iterator[int]:
        """The beats (before the end) where the tempo or meter may change: each run's first,
        and every beat of a ramp. A DAW's tempo map, without listing the steady beats."""
        for run in self._runs:
            if run.first >= self.count:
                return
            last = self.count if run.count is None else min(self.count, run.first + run.count)
            yield from range(run.first, last if run.ramp is not None else run.first + 1)

    def frames(self, start: int, stop: int) -> np.ndarray:
        """Beats start .. stop - 1's frames (int64), a run at a time: numpy for a constant
        run whose integers fit, else beat by beat (ramps, and exotic tempos)."""
        out = np.empty(max(0, stop - start), np.int64)
        i = start
        while i < stop:
            run = self._run_of_beat(i)
            end = stop if run.count is None else min(stop, run.first + run.count)
            j = np.arange(i - run.first, end - run.first, dtype=np.int64)
            lin = run.linear
            if lin is not None and max(abs(lin[0]), lin[2]) + (end - run.first) * lin[1] < _INT64:
                np.floor_divide(lin[0] + j * lin[1], lin[2], out=out[i - start:end - start])
            else:
                out[i - start:end - start] = [run.frame(int(x)) for x in j]
            i = end
        return out
