"""The bass part: the chord's bass note (the root, or a slash chord's bass) on its start
and the strong beats, an approach note a half step from the next bass note in the eighth
before a change. Soft: the chord's start only; loud: every beat."""
from __future__ import annotations

import random
from fractions import Fraction

from ..chart import Chart
from .events import (LOUD, SOFT, Event, Intensity, in_order, level, note, strong_beats,
                     velocity)

BASS_CHANNEL, BASS_PROGRAM = 1, 33    # GM fingered bass
BASS_LOW, BASS_HIGH = 28, 47     # E1 .. B2
APPROACH = Fraction(1, 2)         # an eighth before the change
LEGATO = Fraction(9, 10)          # a note lasts this much of the time to the next


def nearest(pc: int, previous: int) -> int:
    """The pitch of pitch class `pc` in the bass's register closest to `previous`."""
    candidates = [p for p in range(BASS_LOW, BASS_HIGH + 1) if p % 12 == pc]
    return min(candidates, key=lambda p: (abs(p - previous), p))


def bass(chart: Chart, seed: int = 0, intensity: Intensity = 0.6) -> tuple[Event, ...]:
    """The bass part of a chart; the same seed gives the same part."""
    rng = random.Random(f"bass {seed}")
    chords = chart.chords
    pitches: list[int | None] = []
    previous = 36
    for chord in chords:
        if chord.symbol is None:
            pitches.append(None)
            continue
        previous = nearest(chord.symbol.bass, previous)
        pitches.append(previous)
    events: list[Event] = []
    for i, (chord, pitch) in enumerate(zip(chords, pitches)):
        if pitch is None:
            continue
        loud = level(intensity, chord.bar)
        again = strong_beats(chart, chord, loud >= LOUD) if loud >= SOFT else []
        starts = [chord.qn] + again
        target = pitches[i + 1] if i + 1 < len(chords) else None
        approach = None
        if (loud >= SOFT and target is not None and target != pitch
                and chord.end_qn - APPROACH > starts[-1]):
            approach = chord.end_qn - APPROACH
        ends = starts[1:] + [approach if approach is not None else chord.end_qn]
        for at, end in zip(starts, ends):
            note(events, at, (end - at) * LEGATO, pitch,
                 velocity(100 if at == chord.qn else 88, loud, rng.randint(-5, 5)), BASS_CHANNEL)
        if approach is not None:
            step = rng.choice((-1, 1))
            step = -step if not BASS_LOW <= target + step <= BASS_HIGH else step
            note(events, approach, APPROACH * LEGATO, target + step,
                 velocity(80, loud, rng.randint(-5, 5)), BASS_CHANNEL)
    return in_order(events)
