"""A part's notes as the synth thread plays them: each note whole (start, end, key, velocity),
sorted by start, so a context can find the note at any song position and the notes held
across it. Built once per tenth of intensity (levels.py), never per render."""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction

from ...timeline.parts import Part

FOLD = 6          # a transposition beyond ±6 semitones moves the other way by an octave less
STEPS = 10        # the notes change at tenths of intensity; the velocity follows it exactly


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
    level: float                  # the intensity the part was generated at

    @classmethod
    def of(cls, part: Part, level: float) -> "Notes":
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
                   tuple(n[2] for n in notes), tuple(n[3] for n in notes), longest, level)

    def velocity(self, i: int, intensity: float) -> int:
        """Note `i`'s velocity at `intensity`: the generators scale a velocity by
        (1 + intensity) / 2 (parts/events.py), so a level between tenths is played by
        scaling the nearest tenth's, without generating the chart again."""
        return max(1, min(127, round(self.velocities[i] * (1 + intensity) / (1 + self.level))))

    def first_from(self, qn: Fraction) -> int:
        """The index of the first note starting at or after `qn`."""
        return bisect.bisect_left(self.starts, qn)

    def held_at(self, qn: Fraction) -> list[int]:
        """The notes begun before `qn` and still sounding after it."""
        lo = bisect.bisect_left(self.starts, qn - self.longest)
        hi = bisect.bisect_left(self.starts, qn)
        return [i for i in range(lo, hi) if self.ends[i] > qn]


def tenth(intensity: float) -> float:
    """The level whose notes play at `intensity`: the nearest tenth."""
    return round(intensity * STEPS) / STEPS
