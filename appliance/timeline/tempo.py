"""Tempo map: exact conversion between quarter notes and seconds.

Segment starts are kept as exact `Fraction`s, so hours of tempo changes add no
error: each position is computed from its own segment's exact start, never by
summing durations in floating point. Tempo is quarter notes per minute, as in
every DAW and MIDI file.

A ramp moves the tempo linearly *in time* from one point to the next. That
makes its length exact (the mean tempo is the mean of the two ends); only
positions strictly inside a ramp need a square root, computed from the ramp's
exact start.

A tempo factor F (a song played 10 % slower: F = 9/10) is one input of the map: every
position's seconds are the written map's divided by F, rationally (`at_factor`), so the
grid, the click, the count-in, sections, MIDI clock and take alignment all follow it.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from fractions import Fraction

# The documented bounds of a song (docs/song-format.md), checked when it is read: they keep
# every song's beats, clicks and renders finite and small enough for the box (its tempo
# bounds, MIN_BPM and MAX_BPM, are the vocabulary's: a tempo set live keeps them too).
MAX_SECONDS = 24 * 3600          # a song (a MIDI tempo map, a stem) lasts at most 24 h


@dataclass(frozen=True)
class TempoPoint:
    """The tempo from `qn` on; `ramp` means the tempo glides to this point from the previous one."""

    qn: Fraction
    bpm: Fraction
    ramp: bool = False


@dataclass(frozen=True)
class _Segment:
    qn: Fraction          # start, quarter notes
    seconds: Fraction     # start, exact
    start_bpm: Fraction
    end_bpm: Fraction     # == start_bpm unless a ramp
    length_qn: Fraction | None   # None for the last, open-ended segment

    @property
    def ramp(self) -> bool:
        return self.start_bpm != self.end_bpm

    @property
    def duration(self) -> Fraction | None:
        if self.length_qn is None:
            return None
        return 120 * self.length_qn / (self.start_bpm + self.end_bpm)


class TempoMap:
    def __init__(self, points: list[TempoPoint], factor: Fraction = Fraction(1)) -> None:
        """`points` as the song writes them; `factor` the speed they are played at."""
        if not factor > 0:
            raise ValueError(f"a tempo factor must be above 0, not {factor}")
        self.factor = Fraction(factor)
        if not points:
            raise ValueError("a tempo map needs at least one tempo")
        if points[0].qn != 0:
            raise ValueError("the first tempo must be at bar 1 beat 1")
        for p in points:
            if p.bpm <= 0:
                raise ValueError(f"tempo must be above 0, not {float(p.bpm):g}")
        for a, b in zip(points, points[1:]):
            if b.qn <= a.qn:
                raise ValueError("tempo changes must be in order, one per position")
        self.points = points
        segments: list[_Segment] = []
        seconds = Fraction(0)
        for i, p in enumerate(points):
            nxt = points[i + 1] if i + 1 < len(points) else None
            end_bpm = nxt.bpm if nxt is not None and nxt.ramp else p.bpm
            seg = _Segment(p.qn, seconds, p.bpm, end_bpm,
                           nxt.qn - p.qn if nxt is not None else None)
            segments.append(seg)
            if seg.duration is not None:
                seconds += seg.duration
        self._segments = segments
        self._qns = [s.qn for s in segments]
        self._secs = [s.seconds for s in segments]

    def at_factor(self, factor: Fraction) -> "TempoMap":
        """The same map played `factor` times as fast (1: as written)."""
        return TempoMap(self.points, factor)

    def _seg_at_qn(self, qn: Fraction) -> _Segment:
        return self._segments[max(0, bisect.bisect_right(self._qns, qn) - 1)]

    def seconds_at(self, qn: Fraction) -> Fraction:
        """Seconds from bar 1 beat 1 (negative before it, at the first tempo)."""
        return self._written_seconds_at(qn) / self.factor

    def _written_seconds_at(self, qn: Fraction) -> Fraction:
        """`seconds_at` of the map as written (factor 1)."""
        seg = self._seg_at_qn(qn)
        beats = Fraction(qn) - seg.qn
        if not seg.ramp or beats <= 0:
            return seg.seconds + beats * 60 / seg.start_bpm
        a, c = seg.start_bpm, seg.end_bpm
        k = (c - a) / seg.duration            # bpm per second
        disc = float(a * a + 2 * k * 60 * beats)
        offset = float(120 * beats) / (float(a) + math.sqrt(max(disc, 0.0)))
        return seg.seconds + Fraction(offset)

    def frame_at(self, qn: Fraction, rate: int) -> int:
        """The sample frame a position falls on (nearest, halves up)."""
        return math.floor(self.seconds_at(qn) * rate + Fraction(1, 2))

    def qn_at_seconds(self, seconds: Fraction | float) -> Fraction:
        seconds = Fraction(seconds) * self.factor
        seg = self._segments[max(0, bisect.bisect_right(self._secs, seconds) - 1)]
        t = seconds - seg.seconds
        if not seg.ramp or t <= 0:
            return seg.qn + t * seg.start_bpm / 60
        k = (seg.end_bpm - seg.start_bpm) / seg.duration
        return seg.qn + (seg.start_bpm * t + k * t * t / 2) / 60

    def bpm_at(self, qn: Fraction) -> Fraction:
        """The tempo heard at a position (inside a ramp, the tempo at that instant)."""
        seg = self._seg_at_qn(qn)
        if not seg.ramp or qn <= seg.qn:
            return seg.start_bpm * self.factor
        t = self._written_seconds_at(qn) - seg.seconds
        return (seg.start_bpm + (seg.end_bpm - seg.start_bpm) * t / seg.duration) * self.factor
