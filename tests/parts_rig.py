"""What the parts' tests share: a chart song's bass alone, and the pitch class it sounds."""
from __future__ import annotations

import math

import numpy as np

RATE = 48000
# song.toml's [[part]] tables that leave the bass alone, on its own output `bass`
ONLY_BASS = ('[[part]]\nname = "bass"\nroute = ["bass"]\n'
             '[[part]]\nname = "drums"\nmuted = true\n[[part]]\nname = "keys"\nmuted = true\n')


def pitch_class(x: np.ndarray, low: float = 30.0, high: float = 130.0) -> int:
    """The pitch class (0: C) of the strongest frequency from `low` to `high` Hz: by
    default a bass's fundamentals, below the harmonics a fingered bass is loud in."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    band = (freqs >= low) & (freqs <= high)
    return round(12 * math.log2(freqs[band][np.argmax(spectrum[band])] / 440) + 69) % 12
