"""What every part generator shares: MIDI notes placed at quarter-note positions, and the
intensity input (0 soft .. 1 loud) that a live control will drive bar by bar."""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable

import mido

from ..chart import Chart, ChartChord

Event = tuple[Fraction, mido.Message]          # (quarter note from bar 1 beat 1, message)
Intensity = float | Callable[[int], float]     # one level, or one per bar (bar -> level)
SOFT = 0.35        # below: fewest notes (hats on the beats, one bass note a chord)
LOUD = 0.7         # from here: most (two-beat fills, bass on every beat, keys re-struck)


def level(intensity: Intensity, bar: int) -> float:
    """The intensity at a bar, 0..1; ValueError for a value outside it (NaN included)."""
    value = intensity(bar) if callable(intensity) else intensity
    if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value <= 1):
        raise ValueError(f"intensity must be 0 to 1, not {value!r}")
    return float(value)


def velocity(base: int, intensity: float, jitter: int = 0) -> int:
    """A note's velocity: half of `base` at intensity 0, all of it at 1, `jitter` added."""
    return max(1, min(127, round(base * (0.5 + 0.5 * intensity)) + jitter))


def note(events: list[Event], qn: Fraction, length: Fraction, pitch: int, vel: int,
         channel: int) -> None:
    """A note from `qn` for `length` quarter notes."""
    events.append((qn, mido.Message("note_on", channel=channel, note=pitch, velocity=vel)))
    events.append((qn + length, mido.Message("note_off", channel=channel, note=pitch)))


def in_order(events: list[Event]) -> tuple[Event, ...]:
    """Events by time; at one time the note-offs first, so a repeated note sounds again."""
    return tuple(sorted(events, key=lambda e: (e[0], e[1].type == "note_on", e[1].note)))


def strong_beats(chart: Chart, chord: ChartChord, every: bool) -> list[Fraction]:
    """Where a chord is played again after its start: the odd-numbered beats (1, 3, ...)
    of the bars it spans, or `every` beat."""
    return [b.qn for b in chart.meters.beats(chord.bar, chord.end_qn)
            if b.qn > chord.qn and (every or b.beat % 2 == 1)]
