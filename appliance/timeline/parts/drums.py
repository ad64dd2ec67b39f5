"""The drum part: a groove per style on each bar's own beats, a fill in the bar before
each section, a crash on each section's first beat (GM drum notes, channel 10).

Every style is built from the meter's beats, so any meter gets its own pattern: kick on
the odd-numbered beats (1, 3, ...), snare on the even ones (half-time: the snare once, on
the middle beat), the hi-hat on the style's subdivision. Soft: hats only on the beats and
no fills; loud: longer fills and an extra kick.
"""
from __future__ import annotations

import random
from fractions import Fraction
from typing import Callable

from ..chart import STYLES, Chart
from ..meter import Meter
from .events import LOUD, SOFT, Event, Intensity, in_order, level, note, velocity

DRUM_CHANNEL = 9
KICK, STICK, SNARE, HAT, OPEN_HAT, CRASH, RIDE = 36, 37, 38, 42, 46, 49, 51
TOMS = (50, 48, 47, 45, 43, 41)          # high to low
HIT = Fraction(1, 8)                      # a drum note's length (drums ignore note-off)
FILL_SOFT = 0.25                          # softer than this: no fills

Hit = tuple[Fraction, int, int]           # (quarter notes into the bar, note, velocity)


def _grid(meter: Meter, steps: int) -> list[Fraction]:
    """Positions in a bar, `steps` per beat."""
    step = meter.beat_qn / steps
    return [i * step for i in range(meter.beats * steps)]


def _backbeat(meter: Meter, kick: Callable[[int], bool], snare: Callable[[int], bool],
              snare_note: int = SNARE) -> list[Hit]:
    hits: list[Hit] = []
    for i in range(meter.beats):
        at = i * meter.beat_qn
        if kick(i):
            hits.append((at, KICK, 110))
        if snare(i):
            hits.append((at, snare_note, 105))
    return hits


def _hats(meter: Meter, steps: int, intensity: float, pitch: int = HAT,
          keep: Callable[[int], bool] = lambda i: True) -> list[Hit]:
    """Hats on `steps` per beat, only the beats when soft; accents on the beat."""
    steps = steps if intensity >= SOFT else 1
    return [(at, pitch, 90 if i % steps == 0 else 70)
            for i, at in enumerate(_grid(meter, steps)) if keep(i % steps)]


def _even(i: int) -> bool:
    return i % 2 == 0


def _odd(i: int) -> bool:
    return i % 2 == 1


def straight(meter: Meter, intensity: float, rng: random.Random, bar: int) -> list[Hit]:
    hits = _backbeat(meter, _even, _odd) + _hats(meter, 2, intensity)
    if intensity >= LOUD and meter.beats >= 4 and rng.random() < 0.5:
        hits.append((Fraction(5, 2) * meter.beat_qn, KICK, 90))   # the "and" of 3
    return hits


def shuffle(meter: Meter, intensity: float, rng: random.Random, bar: int) -> list[Hit]:
    return _backbeat(meter, _even, _odd) + _hats(meter, 3, intensity, keep=lambda i: i != 1)


def ballad(meter: Meter, intensity: float, rng: random.Random, bar: int) -> list[Hit]:
    stick = STICK if intensity < 0.5 else SNARE
    return _backbeat(meter, _even, _odd, stick) + _hats(meter, 4, intensity)


def halftime(meter: Meter, intensity: float, rng: random.Random, bar: int) -> list[Hit]:
    middle = meter.beats // 2
    hits = _backbeat(meter, lambda i: i == 0, lambda i: i == middle and i > 0)
    return hits + _hats(meter, 2, intensity)


def bossa(meter: Meter, intensity: float, rng: random.Random, bar: int) -> list[Hit]:
    """Kick on the odd beats with a pickup before the next; a 2-3 clave on the rim."""
    hits = _backbeat(meter, _even, lambda i: False)
    hits += [((i + Fraction(1, 2)) * meter.beat_qn, KICK, 80)
             for i in range(meter.beats) if _odd(i)]
    clave = (1, 2.5) if bar % 2 else (0, 1.5, 3)        # beats of the 2 side, the 3 side
    hits += [(Fraction(str(b)) * meter.beat_qn, STICK, 95) for b in clave if b < meter.beats]
    return hits + _hats(meter, 2, intensity)


def compound(meter: Meter, intensity: float, rng: random.Random, bar: int) -> list[Hit]:
    """6/8 and 12/8 feels: each beat in three, ride on every third, backbeat on the pulses."""
    return _backbeat(meter, _even, _odd) + _hats(meter, 3, intensity, RIDE)


PATTERNS = {"rock": straight, "pop": straight, "shuffle": shuffle, "ballad": ballad,
            "halftime": halftime, "bossa": bossa, "6/8": compound, "12/8": compound}
FILL_STEPS = {"shuffle": 3, "6/8": 3, "12/8": 3}      # triplet fills in triplet feels
assert set(PATTERNS) == set(STYLES)


def fill(meter: Meter, style: str, intensity: float, rng: random.Random) -> tuple[Fraction, list[Hit]]:
    """(where the fill starts in the bar, its hits): the last beat, two when loud."""
    beats = min(meter.beats, 2 if intensity >= LOUD else 1)
    steps = FILL_STEPS.get(style, 4) if meter.beat_qn >= 1 else 2
    start = (meter.beats - beats) * meter.beat_qn
    positions = [start + i * meter.beat_qn / steps for i in range(beats * steps)]
    voices = rng.choice(((SNARE,) + TOMS, TOMS, (SNARE, SNARE) + TOMS[::2]))
    hits = [(at, voices[i * len(voices) // len(positions)], 80 + 40 * i // len(positions))
            for i, at in enumerate(positions)]
    return start, hits


def drums(chart: Chart, seed: int = 0, intensity: Intensity = 0.6) -> tuple[Event, ...]:
    """The drum part of a chart; the same seed gives the same part."""
    rng = random.Random(f"drums {seed}")
    starts = {s.bar for s in chart.sections}
    events: list[Event] = []
    for bar in chart.bars:
        loud = level(intensity, bar.bar)
        hits = PATTERNS[bar.style](bar.meter, loud, rng, bar.bar)
        if bar.bar + 1 in starts and loud >= FILL_SOFT:
            start, fill_hits = fill(bar.meter, bar.style, loud, rng)
            hits = [h for h in hits if h[0] < start] + fill_hits
        if bar.bar in starts:
            hits = [h for h in hits if not (h[0] == 0 and h[1] in (HAT, RIDE))]
            hits.append((Fraction(0), CRASH, 115))
        for at, pitch, vel in hits:
            note(events, bar.qn + at, HIT, pitch, velocity(vel, loud, rng.randint(-6, 6)),
                 DRUM_CHANNEL)
    return in_order(events)
