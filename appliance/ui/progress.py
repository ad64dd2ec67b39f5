"""A progress bar for long work (resampling, rendering), drawn only on a terminal."""
from __future__ import annotations

import sys
from typing import TextIO


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


def terminal_progress(label: str, total: int) -> Progress:
    return Progress(label, total)
