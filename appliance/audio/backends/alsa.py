"""The ALSA backend (pyalsaaudio): playback and capture, two implementations of
`device.Playback` and `device.Capture` that share opening and checking what was granted;
playback writes periods, capture reads them.

ALSA may grant other settings than asked; the rate and channel count must match
the config (anything else would play at the wrong speed or on the wrong
outputs), while the sample format and period size are taken as granted and
converted. Conversion uses preallocated buffers; pyalsaaudio's `read` hands back a
new bytes object each period (its API has no read-into), the one allocation left.
"""
from __future__ import annotations

import numpy as np

from .device import XRUN, Asked, DeviceError

SAMPLE_FORMATS = ("S16_LE", "S24_LE", "S32_LE", "FLOAT_LE")   # what this backend converts; config offers these
_SCALE = {"S16_LE": (32768.0, np.int16), "S24_LE": (8388608.0, np.int32),
          "S32_LE": (2147483648.0, np.int32)}


class _AlsaPcm(Asked):
    """What playback and capture share: opening the PCM and checking what was granted."""
    KIND = ""     # the alsaaudio PCM type, set by each direction

    def __init__(self, device: str, *, rate: int, channels: int, period: int, periods: int,
                 fmt: str = "S32_LE") -> None:
        if fmt not in SAMPLE_FORMATS:
            raise ValueError(f"format must be one of {', '.join(SAMPLE_FORMATS)}, not {fmt!r}")
        super().__init__(device, rate=rate, channels=channels, period=period, periods=periods,
                         fmt=fmt)
        self._pcm = None

    def open(self) -> None:
        """Open the device; DeviceError saying what is wrong."""
        import alsaaudio
        try:
            pcm = alsaaudio.PCM(type=getattr(alsaaudio, self.KIND), mode=alsaaudio.PCM_NORMAL,
                                rate=self.rate, channels=self.channels,
                                format=getattr(alsaaudio, f"PCM_FORMAT_{self.fmt}"),
                                periodsize=self.period, periods=self.periods, device=self.device)
        except alsaaudio.ALSAAudioError as exc:
            raise DeviceError(f"cannot open {self.device!r}: {exc}") from None
        info = pcm.info()
        problem = None
        if info["rate"] != self.rate:
            problem = f"runs at {info['rate']} Hz, the config asks for {self.rate}"
        elif info["channels"] != self.channels:
            problem = f"has {info['channels']} channels, the config asks for {self.channels}"
        elif info["format_name"] not in SAMPLE_FORMATS:
            problem = f"gives {info['format_name']} samples; use a 'plug' device"
        if problem:
            pcm.close()
            raise DeviceError(f"{self.device!r} {problem}")
        self.granted = {"format": info["format_name"], "period": info["period_size"],
                        "buffer": info["buffer_size"], "rate": info["rate"],
                        "channels": info["channels"]}
        self.period = info["period_size"]
        fmt = info["format_name"]
        self._scale, dtype = _SCALE.get(fmt, (1.0, np.float32))
        self._float = np.zeros((self.period, self.channels), dtype=np.float32)
        self._out = np.zeros((self.period, self.channels), dtype=dtype)
        self._pcm = pcm

    @property
    def is_open(self) -> bool:
        return self._pcm is not None

    def close(self) -> None:
        if self._pcm is not None:
            try:
                self._pcm.close()
            except Exception:   # a device that is gone may fail to close; it is closed for us
                pass
            self._pcm = None


class AlsaPlayback(_AlsaPcm):
    """The outputs, written a period at a time by the audio thread."""
    KIND = "PCM_PLAYBACK"

    def write(self, block: np.ndarray) -> int:
        """Write one period (float32, frames × channels). Frames written, or XRUN on an
        underrun (the next write recovers); DeviceError when the device is gone."""
        import alsaaudio
        if self._scale == 1.0:
            data = block
        else:
            f = self._float
            np.clip(block, -1.0, 1.0 - 1.0 / self._scale, out=f)
            np.multiply(f, self._scale, out=f)
            np.copyto(self._out, f, casting="unsafe")
            data = self._out
        try:
            return self._pcm.write(data)
        except alsaaudio.ALSAAudioError as exc:
            self.close()
            raise DeviceError(f"{self.device!r} stopped answering: {exc}") from None


class AlsaCapture(_AlsaPcm):
    """The inputs of the same device, read a period at a time in the audio thread."""
    KIND = "PCM_CAPTURE"

    def read(self, block: np.ndarray) -> int:
        """Fill one period (float32, frames × channels). Frames read, or XRUN on an
        overrun (input was lost; the next read recovers); DeviceError when gone."""
        import alsaaudio
        try:
            frames, data = self._pcm.read()
        except alsaaudio.ALSAAudioError as exc:
            self.close()
            raise DeviceError(f"{self.device!r} stopped answering: {exc}") from None
        if frames <= 0:
            return XRUN if frames == XRUN else 0
        raw = np.frombuffer(data, dtype=self._out.dtype).reshape(-1, self.channels)
        n = min(frames, len(block))
        if self._scale == 1.0:
            block[:n] = raw[:n]
        elif self.granted["format"] == "S24_LE":      # 24 bits in 32: the top byte is not sign
            wide = self._out[:n]
            np.left_shift(raw[:n], 8, out=wide)
            np.multiply(wide, 1.0 / 2147483648.0, out=block[:n], casting="unsafe")
        else:
            np.multiply(raw[:n], 1.0 / self._scale, out=block[:n], casting="unsafe")
        return n


playback = AlsaPlayback     # the backend's constructors (see device.py)
capture = AlsaCapture
