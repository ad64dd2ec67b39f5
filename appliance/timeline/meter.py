"""Meters and where bars fall, in exact quarter notes (qn, `Fraction`).

Bar 1 beat 1 is qn 0. Bars before it (a count-in) are 0, -1, ... and use the
first meter. Compound meters (6/8, 9/8, 12/8, 6/16 ...) count the dotted pulse
as the beat, the way a musician conducts them; everything else counts the
denominator note.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class Meter:
    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if not isinstance(self.numerator, int) or not isinstance(self.denominator, int):
            raise TypeError("meter numerator and denominator must be whole numbers")
        if not 1 <= self.numerator <= 64:
            raise ValueError(f"meter numerator must be 1 to 64, not {self.numerator}")
        if self.denominator not in DENOMINATORS:
            raise ValueError(f"meter denominator must be one of {DENOMINATORS}, "
                             f"not {self.denominator}")

    @classmethod
    def parse(cls, text: str) -> "Meter":
        """'6/8' -> Meter(6, 8); ValueError naming what is wrong."""
        parts = text.split("/")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"meter must look like 4/4 or 6/8, not {text!r}")
        return cls(int(parts[0]), int(parts[1]))

    @property
    def compound(self) -> bool:
        return self.numerator % 3 == 0 and self.numerator > 3

    @property
    def beats(self) -> int:
        """Beats (click pulses) per bar."""
        return self.numerator // 3 if self.compound else self.numerator

    @property
    def bar_qn(self) -> Fraction:
        return Fraction(4 * self.numerator, self.denominator)

    @property
    def beat_qn(self) -> Fraction:
        return self.bar_qn / self.beats

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True)
class MeterSegment:
    qn: Fraction
    bar: int
    meter: Meter


@dataclass(frozen=True)
class Beat:
    """One beat of the grid: bar and beat are 1-based, qn exact."""

    bar: int
    beat: int
    qn: Fraction
    meter: Meter


class MeterMap:
    """Meter changes; each starts a bar."""

    def __init__(self, segments: list[MeterSegment]) -> None:
        if not segments or segments[0].qn != 0 or segments[0].bar != 1:
            raise ValueError("the first meter must start at bar 1")
        self.segments = segments
        self._qns = [s.qn for s in segments]
        self._bars = [s.bar for s in segments]

    @classmethod
    def from_bars(cls, changes: list[tuple[int, Meter]]) -> "MeterMap":
        """From (bar, meter) pairs in bar order, as song.toml gives them."""
        segments: list[MeterSegment] = []
        for bar, meter in changes:
            if segments:
                prev = segments[-1]
                qn = prev.qn + (bar - prev.bar) * prev.meter.bar_qn
                if bar == prev.bar:
                    segments.pop()
            else:
                qn = Fraction(0)
            segments.append(MeterSegment(qn, bar, meter))
        return cls(segments)

    @classmethod
    def from_qn(cls, changes: list[tuple[Fraction, Meter]]) -> "MeterMap":
        """From (qn, meter) pairs in time order, as a MIDI file gives them.

        A change that falls inside a bar cuts that bar short and starts a new one.
        """
        segments = [MeterSegment(Fraction(0), 1, Meter(4, 4))]
        for qn, meter in changes:
            prev = segments[-1]
            if qn <= prev.qn:
                segments[-1] = MeterSegment(prev.qn, prev.bar, meter)
                continue
            bar = prev.bar + math.ceil((qn - prev.qn) / prev.meter.bar_qn)
            segments.append(MeterSegment(Fraction(qn), bar, meter))
        return cls(segments)

    def segment_for_bar(self, bar: int) -> MeterSegment:
        return self.segments[max(0, bisect.bisect_right(self._bars, bar) - 1)]

    def segment_at(self, qn: Fraction) -> MeterSegment:
        return self.segments[max(0, bisect.bisect_right(self._qns, qn) - 1)]

    def meter_at_bar(self, bar: int) -> Meter:
        return self.segment_for_bar(bar).meter

    def bar_qn(self, bar: int) -> Fraction:
        """Where the bar starts (bars before 1 extend the first meter backwards)."""
        seg = self.segment_for_bar(bar)
        return seg.qn + (bar - seg.bar) * seg.meter.bar_qn

    def qn_at(self, bar: int, beat: Fraction | int = 1) -> Fraction:
        """qn of bar.beat; beat is 1-based and may be fractional. ValueError when outside the bar."""
        meter = self.meter_at_bar(bar)
        if not 1 <= beat < meter.beats + 1:
            raise ValueError(f"beat must be 1 to {meter.beats} in a bar of {meter}, not {beat}")
        qn = self.bar_qn(bar) + (Fraction(beat) - 1) * meter.beat_qn
        nxt = bisect.bisect_right(self._bars, bar)
        if nxt < len(self.segments) and qn >= self.segments[nxt].qn:
            raise ValueError(f"bar {bar} is cut short by the meter change at bar "
                             f"{self.segments[nxt].bar}")
        return qn

    def bar_beat_at(self, qn: Fraction) -> tuple[int, Fraction, Meter]:
        """(bar, 1-based fractional beat, meter) at a position."""
        seg = self.segment_at(qn)
        bars = math.floor((qn - seg.qn) / seg.meter.bar_qn)
        bar = seg.bar + bars
        start = seg.qn + bars * seg.meter.bar_qn
        return bar, 1 + (qn - start) / seg.meter.beat_qn, seg.meter

    def beats(self, start_bar: int, end_qn: Fraction) -> Iterator[Beat]:
        """Every beat from the start of `start_bar` up to (not including) end_qn."""
        bar = start_bar
        while True:
            qn = self.bar_qn(bar)
            if qn >= end_qn:
                return
            seg_index = bisect.bisect_right(self._bars, bar)
            bar_end = qn + self.meter_at_bar(bar).bar_qn
            if seg_index < len(self.segments):
                bar_end = min(bar_end, self.segments[seg_index].qn)
            meter = self.meter_at_bar(bar)
            for beat in range(meter.beats):
                beat_qn = qn + beat * meter.beat_qn
                if beat_qn >= end_qn or beat_qn >= bar_end:
                    break
                yield Beat(bar, beat + 1, beat_qn, meter)
            bar += 1
