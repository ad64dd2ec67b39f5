"""A part's notes as the synth thread plays them: each note whole (start, end, key, velocity),
sorted by start, so a context can find the note at any song position and the notes held
across it. Built once per intensity level (a few kept), never per render."""
from __future__ import annotations

import bisect
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from ...timeline.chart import Chart
from ...timeline.parts import Part, generate

FOLD = 6          # a transposition beyond ±6 semitones moves the other way by an octave less
LEVELS_KEPT = 4   # intensity levels whose notes are kept (a pedal sweeping back and forth)


def shift(transpose: int) -> int:
    """Semitones bass and keys move for a transposition: the same key, but never more than
    a tritone from where the part was written, so the bass stays a bass and the keys keep
    their register (+7 plays a fourth down, ±12 plays as written)."""
    if transpose > FOLD:
        return transpose - 12
    if transpose < -FOLD:
        return transpose + 12
    return transpose


@dataclass(frozen=True)
class Notes:
    """One part's notes, sorted by start (quarter notes from bar 1 beat 1)."""

    starts: tuple[Fraction, ...]
    ends: tuple[Fraction, ...]
    keys: tuple[int, ...]
    velocities: tuple[int, ...]
    longest: Fraction             # the longest note: how far back a held note can begin

    @classmethod
    def of(cls, part: Part) -> "Notes":
        """The part's note-on/note-off pairs (an off closes the oldest open note of its key)."""
        open_: dict[int, list[tuple[Fraction, int]]] = {}
        notes: list[tuple[Fraction, Fraction, int, int]] = []
        for qn, msg in part.events:
            if msg.type == "note_on" and msg.velocity > 0:
                open_.setdefault(msg.note, []).append((qn, msg.velocity))
            elif msg.type in ("note_on", "note_off") and open_.get(msg.note):
                start, vel = open_[msg.note].pop(0)
                notes.append((start, qn, msg.note, vel))
        notes.sort(key=lambda n: (n[0], n[2]))
        longest = max((end - start for start, end, _, _ in notes), default=Fraction(0))
        return cls(tuple(n[0] for n in notes), tuple(n[1] for n in notes),
                   tuple(n[2] for n in notes), tuple(n[3] for n in notes), longest)

    def first_from(self, qn: Fraction) -> int:
        """The index of the first note starting at or after `qn`."""
        return bisect.bisect_left(self.starts, qn)

    def held_at(self, qn: Fraction) -> list[int]:
        """The notes begun before `qn` and still sounding after it."""
        lo = bisect.bisect_left(self.starts, qn - self.longest)
        hi = bisect.bisect_left(self.starts, qn)
        return [i for i in range(lo, hi) if self.ends[i] > qn]


class PartNotes:
    """Every part's notes at an intensity level, generated on first use and a few kept;
    `parts` (names, channels, programs) as generated at the first level."""

    def __init__(self, chart: Chart, seed: int, intensity: float,
                 make: Callable[[Chart, int, float], list[Part]] = generate) -> None:
        self._chart, self._seed, self._make = chart, seed, make
        self.parts = make(chart, seed, intensity)
        self._levels: OrderedDict[float, list[Notes]] = OrderedDict(
            [(intensity, [Notes.of(p) for p in self.parts])])

    def at(self, intensity: float) -> list[Notes]:
        """The parts' notes at `intensity` (0..1), in the order the generator gives them."""
        notes = self._levels.get(intensity)
        if notes is None:
            notes = [Notes.of(p) for p in self._make(self._chart, self._seed, intensity)]
            self._levels[intensity] = notes
            while len(self._levels) > LEVELS_KEPT:
                self._levels.popitem(last=False)
        else:
            self._levels.move_to_end(intensity)
        return notes
