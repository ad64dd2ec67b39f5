"""An audio backend module in pure Python ([audio] backend = "null_backend", or
BACKLINE_AUDIO_BACKEND=null_backend): devices that pace nothing, a playback that keeps the
first `CAPACITY` frames written (preallocated; the rest are counted) and a capture that
reads silence. A real implementation of `appliance.audio.backends.device`, not a mock."""
from __future__ import annotations

import numpy as np

from appliance.audio.backends.device import Asked

SAMPLE_FORMATS = ("FLOAT_LE",)
CAPACITY = 1 << 20                    # frames a playback keeps
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

    def write(self, block: np.ndarray) -> int:
        n = len(block)
        k = max(0, min(n, CAPACITY - self.written))
        self.frames[self.written: self.written + k] = block[:k]
        self.written += n
        return n


class NullCapture(_NullDevice):
    def read(self, block: np.ndarray) -> int:
        block.fill(0.0)
        return len(block)


playback = NullPlayback
capture = NullCapture
