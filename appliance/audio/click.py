"""The click, synthesised: no sample files to lose.

Three short sine pings with a fast attack and exponential decay: a high accent
on each bar's first beat, a lower one on the other beats, a softer one on
subdivisions. A `ClickTrack` plays a schedule of (frame, kind) from
appliance.timeline.grid into a block without allocating.
"""
from __future__ import annotations

import bisect

import numpy as np

from ..timeline.grid import ACCENT, BEAT, SUB

LENGTH_S = 0.030
_VOICES = {ACCENT: (1760.0, 1.0), BEAT: (1320.0, 0.8), SUB: (990.0, 0.45)}


def click_sounds(rate: int, level_db: float) -> list[np.ndarray]:
    """The three click waveforms (indexed by kind), float32, at `level_db` (0 dB = full scale)."""
    n = int(rate * LENGTH_S)
    t = np.arange(n) / rate
    attack = np.minimum(1.0, (t + 1.0 / rate) / 0.001)   # the click's own frame is never silent
    envelope = attack * np.exp(-t / 0.006)
    envelope[-32:] *= np.linspace(1.0, 0.0, 32)    # land exactly on silence
    level = 10.0 ** (level_db / 20.0)
    sounds = [np.empty(0, np.float32)] * 3
    for kind, (freq, amp) in _VOICES.items():
        sounds[kind] = (np.cos(2 * np.pi * freq * t) * envelope * amp * level).astype(np.float32)
    return sounds


class ClickTrack:
    """A mono source: the click schedule rendered on demand into any block.

    Playing on from where the last block ended needs no search: a cursor
    remembers the first click that may still sound.
    """

    channels = 1

    def __init__(self, frames: np.ndarray, kinds: np.ndarray, sounds: list[np.ndarray]) -> None:
        self.frames = frames.tolist()
        self.kinds = kinds.tolist()
        self.sounds = sounds
        self._tail = max(len(s) for s in sounds)
        self._next = 0          # the frame the last block ended at
        self._cursor = 0        # the first click that may sound from there

    def read_into(self, start: int, out: np.ndarray) -> None:
        """Frames [start, start + n) into `out` (1 × n)."""
        col = out[0]
        col.fill(0.0)
        end = start + col.shape[0]
        frames = self.frames
        if start == self._next:
            lo = self._cursor
            while lo < len(frames) and frames[lo] + self._tail <= start:
                lo += 1
        else:
            lo = bisect.bisect_right(frames, start - self._tail)
        self._cursor, self._next = lo, end
        hi = lo
        while hi < len(frames) and frames[hi] < end:
            hi += 1
        for i in range(lo, hi):
            f = frames[i]
            sound = self.sounds[self.kinds[i]]
            a, b = max(f, start), min(f + len(sound), end)
            if b > a:
                col[a - start: b - start] += sound[a - f: b - f]
