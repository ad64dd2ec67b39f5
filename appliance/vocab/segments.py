"""What sounded when: the audio thread logs every stretch of song it plays as (output
frame, song-timeline frame, length, kind, setlist index, start), and when each period was handed
to the device. MIDI out reads this to send clock and song messages at the frame they
belong to, jumps and vamps included; nothing is inferred from a timer.

The timeline counts a count-in as frames before the start position (as `take.toml` does).
"""
from __future__ import annotations

import numpy as np

KIND_COUNT_IN, KIND_PLAYING = 1, 2      # the KIND column
OUT, TIMELINE, LENGTH, KIND, INDEX, START = range(6)


class SegmentLog:
    """A ring written by the audio thread only; readers keep their own position."""

    def __init__(self, capacity: int = 4096) -> None:
        self.data = np.zeros((capacity, 6), dtype=np.int64)
        self.capacity = capacity
        self.written = 0
        self.handed = (0, 0)      # (output frames handed to the device, perf_counter_ns then)

    def add(self, out_frame: int, timeline: int, length: int, kind: int, index: int,
            start: int) -> None:
        """`start`: the song frame play started from (a count-in ends there)."""
        r = self.written % self.capacity             # scalar stores: no view is made
        data = self.data
        data[r, OUT] = out_frame
        data[r, TIMELINE] = timeline
        data[r, LENGTH] = length
        data[r, KIND] = kind
        data[r, INDEX] = index
        data[r, START] = start
        self.written += 1

    def rows(self, start: int) -> tuple[int, np.ndarray]:
        """Rows from `start` (or the oldest still held) to now: (first row number, copy)."""
        end = self.written
        start = max(start, end - self.capacity)
        idx = np.arange(start, end) % self.capacity
        return start, self.data[idx]
