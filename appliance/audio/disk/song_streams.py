"""A song's stems' stream and its parts' stream as one to the mixer and the transport.

They always play the same song frame, so every mixer call goes to both: a jump cues both,
a song waits until both hold its first frames. They stay two because they differ in
depth: the stems' ring rides out a slow disk, the parts' shallow ring (synthesised a
moment ahead) lets a change of key or intensity be heard within a beat.
"""
from __future__ import annotations

import numpy as np

from ..synth.plan import PartsPlan
from .streaming import SongStream


class SongStreams:
    """`plan` (with `parts`) is told where each run of frames played starts, so its `head`
    follows the run playing, not a jump target read ahead."""

    def __init__(self, stems: SongStream, parts: SongStream | None = None,
                 plan: PartsPlan | None = None) -> None:
        self.stems = stems
        self.parts = parts
        self.plan = plan
        self._next = -1                 # the frame that continues the run playing
        self.all = (stems,) if parts is None else (stems, parts)
        self.readers = [r for s in self.all for r in s.readers]   # mixer order: stems, parts
        self._split = stems.channels

    @property
    def blocking(self) -> bool:
        return self.stems.blocking

    @blocking.setter
    def blocking(self, on: bool) -> None:
        for s in self.all:
            s.blocking = on

    @property
    def underruns(self) -> int:
        return sum(s.underruns for s in self.all)

    def failed(self) -> list[int]:
        """Indexes (in `readers`) of what went silent: a stem's file, a part's synthesis."""
        return [i for i, r in enumerate(self.readers) if r.failed]

    def prepare(self, frame: int) -> None:
        for s in self.all:
            s.prepare(frame)

    def cue(self, frame: int) -> None:
        for s in self.all:
            s.cue(frame)

    def recue(self) -> None:
        """The parts' cued ring made again: it was synthesised before a live change."""
        if self.parts is not None:
            self.parts.recue()

    def remake(self) -> None:
        """The parts' rings made again where they stand: stopped, after a live change."""
        if self.parts is not None:
            self.parts.remake()

    def ready_at(self, frame: int) -> bool:
        return all(s.ready_at(frame) for s in self.all)

    def read_into(self, start: int, out: np.ndarray) -> None:
        """Song frames of every stem channel, then every part channel, into `out` (rows × n)."""
        self.stems.read_into(start, out[: self._split])
        if self.parts is not None:
            if start != self._next and self.plan is not None:
                self.plan.play_from(start)      # a start or a jump: a new run plays
            self._next = start + out.shape[1]
            self.parts.read_into(start, out[self._split:])

    def wake_if_due(self) -> None:
        for s in self.all:
            s.wake_if_due()

    def wait_primed(self, timeout: float) -> bool:
        return all([s.wait_primed(timeout) for s in self.all])

    def close(self) -> None:
        for s in self.all:
            s.close()
