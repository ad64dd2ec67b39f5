"""What the engine needs of an audio device, whatever drives it: a `typing.Protocol` each
backend module implements (ALSA today; a JACK or PipeWire backend is one new module).

A backend module (see `appliance.audio.backends`) has `SAMPLE_FORMATS`, the formats it
converts, and two constructors, `playback(...)` and `capture(...)`, taking the device name
and the keywords `rate`, `channels`, `period`, `periods`, `fmt`. Playback only writes and
capture only reads: an input device has no `write`.
"""
from __future__ import annotations

import errno
from typing import Protocol

import numpy as np

XRUN = -errno.EPIPE    # write/read: the device ran dry (or over); the next call recovers


class DeviceError(Exception):
    """The device cannot be opened, does not give what the config asks, or went away."""


class Device(Protocol):
    """Open or not, and what was granted. `period` is the granted period after `open`."""
    rate: int
    channels: int
    period: int
    periods: int
    fmt: str
    granted: dict

    def open(self) -> None:
        """Open the device; DeviceError saying what is wrong."""

    def close(self) -> None:
        """Close; closing a closed (or vanished) device does nothing."""

    @property
    def is_open(self) -> bool: ...

    @property
    def buffer_frames(self) -> int:
        """Frames the device holds ahead of what is heard (0 before `open`)."""


class Asked:
    """What a device was asked for, and `granted` once open: the part every backend's
    devices share (they may build on it; the protocol does not require it)."""

    def __init__(self, device: str, *, rate: int, channels: int, period: int, periods: int,
                 fmt: str) -> None:
        self.device = device
        self.rate = rate
        self.channels = channels
        self.period = period
        self.periods = periods
        self.fmt = fmt
        self.granted: dict = {}       # format, period, buffer, rate, channels, once open

    @property
    def buffer_frames(self) -> int:
        return self.granted.get("buffer", 0)


class Playback(Device, Protocol):
    def write(self, block: np.ndarray) -> int:
        """Write one period (float32, frames × channels): frames written, or XRUN on an
        underrun; DeviceError when the device is gone (it is closed then)."""


class Capture(Device, Protocol):
    def read(self, block: np.ndarray) -> int:
        """Fill one period (float32, frames × channels): frames read, or XRUN on an overrun
        (input was lost); DeviceError when the device is gone (it is closed then)."""
