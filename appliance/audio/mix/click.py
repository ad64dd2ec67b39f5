"""The click, synthesised: no sample files to lose.

Three short sine pings with a fast attack and exponential decay: a high accent
on each bar's first beat, a lower one on the other beats, a softer one on
subdivisions. A `ClickTrack` plays a map of clicks from appliance.timeline.grid into a
block without allocating.
"""
from __future__ import annotations

import numpy as np

from ...timeline.beatmap import BeatMap
from ...timeline.grid import ACCENT, BEAT, SUB, click_kind

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


MEMO = 64     # clicks whose frame and kind a track remembers (a power of two)


class ClickTrack:
    """A mono source: a map of clicks (`grid.click_map`, `grid.count_in_map`) rendered on
    demand into any block.

    A block asks for the clicks that sound in it, found on the map by arithmetic: nothing
    is listed, so the track is as small for a 24-hour song as for a 3-minute one. Playing
    on from where the last block ended needs no search: a cursor remembers the first click
    that may still sound; a jump finds it with one lookup. A click rings over several
    blocks, so the last MEMO clicks' frames and kinds are remembered (slot = index mod
    MEMO) rather than worked out again every block.
    """

    channels = 1

    def __init__(self, clicks: BeatMap, sounds: list[np.ndarray]) -> None:
        self.clicks = clicks
        self.sounds = sounds
        self._tail = max(len(s) for s in sounds)
        self._next = 0          # the frame the last block ended at
        self._cursor = 0        # the first click that may sound from there
        self._memo_i = [-1] * MEMO
        self._memo_f = [0] * MEMO
        self._memo_k = [0] * MEMO

    def _frame(self, i: int) -> int:
        """Click i's frame, worked out and remembered in its slot with its kind."""
        s = i & (MEMO - 1)
        if self._memo_i[s] != i:
            f, beat, sub = self.clicks.place(i)
            self._memo_i[s], self._memo_f[s], self._memo_k[s] = i, f, click_kind(beat, sub)
        return self._memo_f[s]

    def read_into(self, start: int, out: np.ndarray) -> None:
        """Frames [start, start + n) into `out` (1 × n)."""
        col = out[0]
        col.fill(0.0)
        end = start + col.shape[0]
        count, tail = self.clicks.count, self._tail
        memo_i, memo_f = self._memo_i, self._memo_f    # read in place: a call per click
        if start == self._next:
            lo = self._cursor
            while lo < count:
                s = lo & (MEMO - 1)
                f = memo_f[s] if memo_i[s] == lo else self._frame(lo)
                if f + tail > start:
                    break
                lo += 1
        else:
            lo = self.clicks.index_at(start - tail) + 1
        self._cursor, self._next = lo, end
        i = lo
        while i < count:
            s = i & (MEMO - 1)
            f = memo_f[s] if memo_i[s] == i else self._frame(i)
            if f >= end:
                break
            sound = self.sounds[self._memo_k[s]]
            a, b = max(f, start), min(f + len(sound), end)
            if b > a:
                col[a - start: b - start] += sound[a - f: b - f]
            i += 1
