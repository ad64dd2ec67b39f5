"""A render context: one FluidSynth continuing one run of consecutive song frames (the ring
playing, or one cued at a jump target), every part at once, its newest frames kept in a
small window for the parts that read them next.

A context keeps the tempo map it started with; it takes a change of transposition or
intensity at the frame it renders across it, in its own map (plan.py). Notes are sent to
FluidSynth when the frames before them are rendered, so each sounds at its own frame (to
FluidSynth's block).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import numpy as np

from ...timeline.tempo import TempoMap
from .fluid import BLOCK, Fluid
from .notes import Notes, shift, tenth
from .plan import Change, PartsPlan

WINDOW = 1 << 17          # frames a context keeps: a stream's ring (1 << 16) and a chunk, so a
                          # part that far behind the others still reads its run
STEP = 1 << 14            # frames rendered at most per FluidSynth call
RESOUND_S = 0.05          # a note held across a jump sounds again if this much of it is left


@dataclass(frozen=True)
class Voice:
    """How a part sounds: its FluidSynth channel, and whether transposition moves it."""

    channel: int
    pitched: bool         # bass and keys; drums are not transposed nor re-sounded


class Context:
    def __init__(self, fluid: Fluid, voices: list[Voice], plan: PartsPlan, rate: int,
                 notes_at: Callable[[float], list[Notes]], end_qn: Fraction,
                 tail: int) -> None:
        self.fluid, self.voices, self.plan, self.rate = fluid, voices, plan, rate
        self._notes_at, self.end_qn, self.tail = notes_at, end_qn, tail
        self.rows = np.zeros((2 * len(voices), WINDOW), dtype=np.float32)
        self._scratch = np.zeros((2 * len(voices), BLOCK), dtype=np.float32)
        self.start = self.end = 0      # the run: frames [start, end) rendered
        self.last = 0                  # the frame the parts fall silent from (end + tail)
        self.used = -1                 # when it was last read (-1: never started)
        self.expect = [0] * len(voices)  # per part: the frame its next read continues from
        self.tempo: TempoMap | None = None
        self.transpose = 0
        self.intensity = 0.0
        self.peak_voices = 0
        self._notes: list[Notes] = []
        self._next: list[int] = []             # per part: the index of its next note
        self._next_frame: list[int] = []       # ... and that note's frame
        self._offs: list[tuple[int, int, int, int]] = []   # heap: (frame, order, channel, key)
        self._order = 0
        self._synced: tuple[Change, ...] | None = None   # the plan's changes last looked at
        self._seen: set[int] = set()           # their epochs: looked at once
        self._done: set[int] = set()           # ... taken
        self._ahead: list[tuple[int, int, Change]] = []  # (frame, epoch, change) to render across

    # -- where frames fall -------------------------------------------------------
    def frame(self, qn: Fraction) -> int:
        return self.tempo.frame_at(qn, self.rate)

    def holds(self, part: int, frame: int) -> bool:
        """Whether `part` reading from `frame` continues this run: the frame it read up to
        here, still kept or next to render. Any other read is a jump, even to frames kept
        (a ring cued again after a switch must hear it from its first frame)."""
        return (self.used >= 0 and self.expect[part] == frame
                and max(self.start, self.end - WINDOW) <= frame <= self.end)

    # -- starting ----------------------------------------------------------------
    def restart(self, frame: int, plan: PartsPlan) -> None:
        """A fresh run from `frame`: the settings in force and the changes waiting at or
        before it; everything sounding stops, the bass and keys notes held across `frame`
        sound again from it."""
        self.fluid.silence(self._scratch)
        settings, pending = plan.settings, plan.pending
        self.tempo = settings.tempo
        self.start = self.end = frame
        self.expect = [frame] * len(self.voices)
        self.last = self.frame(self.end_qn) + self.tail
        self._offs.clear()
        self._seen, self._done, self._ahead = set(), set(), []
        self.transpose, self.intensity = settings.transpose, settings.intensity
        self._synced = None
        self._sync(pending, late=True)
        self._take(self.transpose, self.intensity)
        qn = self._qn_at(frame)
        for p, voice in enumerate(self.voices):
            if voice.pitched:
                notes = self._notes[p]
                for i in notes.held_at(qn):
                    if self.frame(notes.starts[i]) < frame <= self.frame(notes.ends[i]) - \
                            round(self.rate * RESOUND_S):
                        self._note_on(p, i)

    def _sync(self, pending: tuple[Change, ...], *, late: bool = False) -> bool:
        """The plan's changes looked at: those ahead kept to render across; one first seen
        already passed taken here (`late`: set, not yet followed). Whether any was taken."""
        if pending is self._synced:
            return False
        self._synced = pending
        epochs = {c.epoch for c in pending}      # kept to those waiting: an expression pedal
        self._seen &= epochs                     # asks many, the sets stay small
        self._done &= epochs
        taken, ahead = False, []
        for c in pending:
            if c.epoch in self._done:
                continue
            at = self.frame(c.qn)
            if c.epoch not in self._seen and at < self.end or at == self.end:
                self._apply(c)
                taken = True
            else:
                ahead.append((at, c.epoch, c))
            self._seen.add(c.epoch)
        self._ahead = sorted(ahead, key=lambda a: a[:2])
        return taken and not late

    def _apply(self, change: Change) -> None:
        """`change`'s settings set here, once (`_take` follows them)."""
        self._done.add(change.epoch)
        for name, value in change.fields:
            setattr(self, name, value)

    def _take(self, transpose: int, intensity: float) -> None:
        """These settings from `self.end` on."""
        self.transpose, self.intensity = transpose, intensity
        self._follow(self._notes_at(intensity))

    def _follow(self, notes: list[Notes]) -> None:
        """These notes from `self.end` on: the next note of each part is found again."""
        self._notes = notes
        self._next, self._next_frame = [], []
        for notes in self._notes:
            i = notes.first_from(self._qn_at(self.end - 1))
            while i < len(notes.starts) and self.frame(notes.starts[i]) < self.end:
                i += 1
            self._next.append(i)
            self._next_frame.append(self._frame_of(notes, i))

    def _qn_at(self, frame: int) -> Fraction:
        return self.tempo.qn_at_seconds(Fraction(frame, self.rate))

    def _frame_of(self, notes: Notes, i: int) -> int:
        return self.frame(notes.starts[i]) if i < len(notes.starts) else self.last

    # -- rendering ---------------------------------------------------------------
    def extend(self, to: int) -> None:
        """Render frames [end, to): notes at their frames, a change at its frame."""
        to = min(to, self.last)
        while self.end < to:
            if self._sync(self.plan.pending):
                self._take(self.transpose, self.intensity)
                continue
            stop = to
            if self._ahead:
                at, _, change = self._ahead[0]
                if at <= self.end:
                    self._ahead.pop(0)
                    self._apply(change)
                    self._take(self.transpose, self.intensity)
                    continue
                stop = min(stop, at)
            due = min(min(self._next_frame, default=self.last),
                      self._offs[0][0] if self._offs else self.last)
            if due <= self.end:
                self._play_due()
                continue
            if self._notes[0].level != tenth(self.intensity):     # generated since?
                notes = self._notes_at(self.intensity)
                if notes is not self._notes:
                    self._follow(notes)
                    continue
            col = self.end % WINDOW
            n = min(stop, due, self.end + STEP) - self.end
            n = min(n, WINDOW - col)
            self.fluid.render(self.rows, col, n)
            self.end += n
            self.peak_voices = max(self.peak_voices, self.fluid.voices)

    def _play_due(self) -> None:
        """The notes ending at `end`, then the ones starting there."""
        offs, frame = self._offs, self.end
        while offs and offs[0][0] <= frame:
            _, _, channel, key = heapq.heappop(offs)
            self.fluid.note_off(channel, key)
        for p, notes in enumerate(self._notes):
            while self._next_frame[p] <= frame and self._next[p] < len(notes.starts):
                self._note_on(p, self._next[p])
                self._next[p] += 1
                self._next_frame[p] = self._frame_of(notes, self._next[p])

    def _note_on(self, part: int, i: int) -> None:
        notes, voice = self._notes[part], self.voices[part]
        key = notes.keys[i] + (shift(self.transpose) if voice.pitched else 0)
        if 0 <= key <= 127:
            self.fluid.note_on(voice.channel, key, notes.velocity(i, self.intensity))
            self._order += 1
            heapq.heappush(self._offs, (self.frame(notes.ends[i]), self._order, voice.channel, key))

    def copy(self, part: int, frame: int, out: np.ndarray) -> None:
        """Frames [frame, frame + len(out)) of `part`, all kept, into `out` ((n, 2) rows)."""
        n = out.shape[0]
        col = frame % WINDOW
        k = min(n, WINDOW - col)
        rows = self.rows[2 * part: 2 * part + 2]
        out[:k] = rows[:, col:col + k].T
        if k < n:
            out[k:] = rows[:, :n - k].T
