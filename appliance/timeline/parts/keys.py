"""The keys part: each chord voiced in the middle register, led from the one before with
the least movement, as a pianist's hand moves; held, and struck again on the strong
beats when loud. The slash bass is left to the bass."""
from __future__ import annotations

import itertools
import random

from ..chart import Chart, ChordSymbol
from .events import (LOUD, Event, Intensity, in_order, level, note, strong_beats,
                     velocity)

KEYS_CHANNEL, KEYS_PROGRAM = 2, 4     # GM electric piano 1
KEYS_LOW, KEYS_HIGH = 52, 76     # E3 .. E5
CENTRE = 64
MAX_SPAN = 14                     # a voicing fits a hand (a ninth and a bit)
MAX_VOICES = 4


def pitch_classes(symbol: ChordSymbol) -> list[int]:
    """The chord's tones, at most four: the fifth goes first, then the root; the third and
    the seventh stay, since they say what the chord is."""
    pcs = list(dict.fromkeys(symbol.tones))
    for drop in ((symbol.root + 7) % 12, symbol.root):
        if len(pcs) > MAX_VOICES and drop in pcs:
            pcs.remove(drop)
    keep = {symbol.third, symbol.seventh}
    while len(pcs) > MAX_VOICES:
        pcs.remove(next(pc for pc in reversed(pcs) if pc not in keep))
    return pcs


def movement(before: tuple[int, ...], after: tuple[int, ...]) -> int:
    """Semitones the voices move: voice by voice (low to high) when the counts match,
    else each new note from the nearest old one."""
    if len(before) == len(after):
        return sum(abs(a - b) for a, b in zip(sorted(before), sorted(after)))
    return sum(min(abs(a - b) for b in before) for a in after)


def voicing(pcs: list[int], previous: tuple[int, ...] | None) -> tuple[int, ...]:
    """The pitches for `pcs` in the register, within a hand's span, moving least from
    `previous` (the first chord: closest to the register's centre)."""
    options = [[p for p in range(KEYS_LOW, KEYS_HIGH + 1) if p % 12 == pc] for pc in pcs]
    best, best_cost = None, None
    for combo in itertools.product(*options):
        chord = tuple(sorted(combo))
        if chord[-1] - chord[0] > MAX_SPAN:
            continue
        drift = abs(sum(chord) / len(chord) - CENTRE)
        cost = drift if previous is None else movement(previous, chord) + drift / 4
        if best_cost is None or cost < best_cost:
            best, best_cost = chord, cost
    return best if best is not None else tuple(sorted(o[0] for o in options))


def keys(chart: Chart, seed: int = 0, intensity: Intensity = 0.6) -> tuple[Event, ...]:
    """The keys part of a chart; the same seed gives the same part."""
    rng = random.Random(f"keys {seed}")
    events: list[Event] = []
    previous: tuple[int, ...] | None = None
    for chord in chart.chords:
        if chord.symbol is None:
            continue
        loud = level(intensity, chord.bar)
        previous = voicing(pitch_classes(chord.symbol), previous)
        starts = [chord.qn] + (strong_beats(chart, chord, False) if loud >= LOUD else [])
        for at, end in zip(starts, starts[1:] + [chord.end_qn]):
            for pitch in previous:
                note(events, at, end - at, pitch, velocity(80, loud, rng.randint(-4, 4)),
                     KEYS_CHANNEL)
    return in_order(events)
