"""A progress bar for long work (resampling, rendering), drawn only on a terminal."""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO


class Progress:
    """Call with the units just done; draws `label [#####.....] 42%` in place."""

    WIDTH = 30

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.done = 0
        self._shown = -1

    def __call__(self, n: int) -> None:
        self.done += n
        percent = min(100, self.done * 100 // self.total)
        if not self.enabled or percent == self._shown:
            return
        self._shown = percent
        filled = self.WIDTH * percent // 100
        bar = "#" * filled + "." * (self.WIDTH - filled)
        end = "\n" if percent == 100 else ""
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}%{end}")
        self.stream.flush()


class Overall:
    """A bar per part of a long job (`import`: each stem resampled, the loudness measured),
    each line also saying the whole job's share done and the time left."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.stream = stream or sys.stderr
        self.clock = clock
        self.total = 1
        self.done = 0
        self.began = clock()

    def expect(self, total: int) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.began = self.clock()

    def __call__(self, label: str, total: int) -> Callable[[int], None]:
        bar = Progress(label, total, self.stream)

        def tick(n: int) -> None:
            self.done += n
            share = min(1.0, self.done / self.total)
            spent = self.clock() - self.began
            left = spent * (1 - share) / share if share > 0 else 0.0
            bar.label = f"{label}  (all {share:.0%}, {int(left) // 60}:{int(left) % 60:02d} left)"
            bar(n)
        return tick


def terminal_progress(label: str, total: int) -> Progress:
    return Progress(label, total)
