"""An audio backend module in pure Python ([audio] backend = "null_backend", or
BACKLINE_AUDIO_BACKEND=null_backend): a playback that keeps the first `CAPACITY` frames
written (preallocated; the rest are counted) and a capture that reads silence. A real
implementation of `appliance.audio.backends.device`, not a mock. Like a card, the playback
paces its writer, at SPEED times real time: an unpaced one let the engine outrun the disk
threads on a busy machine, and a late read is silence."""
from __future__ import annotations

import time

import numpy as np

from appliance.audio.backends.device import Asked

SAMPLE_FORMATS = ("FLOAT_LE",)
CAPACITY = 1 << 20                    # frames a playback keeps
SPEED = 4.0                           # a playback takes a period in 1/SPEED of its time
OPENED: list["_NullDevice"] = []      # every device opened, in order


class _NullDevice(Asked):
    is_open = False

    def open(self) -> None:
        self.granted = {"format": self.fmt, "period": self.period,
                        "buffer": self.period * self.periods, "rate": self.rate,
                        "channels": self.channels}
        self.is_open = True
        OPENED.append(self)

    def close(self) -> None:
        self.is_open = False


class NullPlayback(_NullDevice):
    def __init__(self, device: str, **settings) -> None:
        super().__init__(device, **settings)
        self.frames = np.zeros((CAPACITY, self.channels), dtype=np.float32)
        self.written = 0              # frames written, kept or not
        self._due = 0.0               # when the device takes the next period

    def write(self, block: np.ndarray) -> int:
        n = len(block)
        k = max(0, min(n, CAPACITY - self.written))
        self.frames[self.written: self.written + k] = block[:k]
        self.written += n
        now = time.monotonic()
        self._due = max(self._due, now) + n / self.rate / SPEED
        time.sleep(max(0.0, self._due - now))
        return n


class NullCapture(_NullDevice):
    def read(self, block: np.ndarray) -> int:
        block.fill(0.0)
        return len(block)


playback = NullPlayback
capture = NullCapture
