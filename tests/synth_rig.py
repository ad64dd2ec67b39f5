"""What the synth tests share: charts written for them, a PartsSynth on a real SoundFont,
parts read the way a SongStream reads them, and the pitch a rendering sounds."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from appliance.audio.synth.parts import PartsSynth
from appliance.audio.synth.plan import PartsPlan, Settings
from appliance.timeline.chart import Chart, parse_chart

RATE = 48000
TIMGM = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
DRUMS, BASS, KEYS = 0, 1, 2
A_CHART = "| N.C. | A | A | A | A | A | A | A |"   # bar 1 rests, then A held


def chart(bars: str, *, tempo: int = 120, style: str = "ballad") -> Chart:
    """A one-section chart of `bars` ("| A | A |") in 4/4."""
    return parse_chart(f"tempo: {tempo}\nkey: A\nstyle: {style}\n[Verse]\n{bars}\n")


def synth(ch: Chart, *, transpose: int = 0, intensity: float = 0.6,
          soundfont: Path = TIMGM, seed: int = 0) -> PartsSynth:
    plan = PartsPlan(Settings(ch.tempo, transpose, intensity))
    return PartsSynth(ch, plan, RATE, soundfont=soundfont, seed=seed)


def bar_frame(ch: Chart, bar: int) -> int:
    """The song frame bar `bar` (from 1, 4/4) starts at, at the chart's tempo."""
    return ch.tempo.frame_at(Fraction(4 * (bar - 1)), RATE)


def bar(bar: int) -> tuple[int, Fraction]:
    """Where a change at bar `bar` (from 1, 4/4) is put: its first beat and quarter note."""
    return 4 * (bar - 1), Fraction(4 * (bar - 1))


def read(s: PartsSynth, part: int, start: int, n: int) -> np.ndarray:
    out = np.full((n, 2), np.nan, dtype=np.float32)
    s.readers[part].read_into(start, out)
    return out


def read_all(s: PartsSynth, start: int, n: int, chunk: int = 1 << 14) -> list[np.ndarray]:
    """Every part over [start, start + n), in chunks, the parts in step as a stream reads."""
    outs = [np.empty((n, 2), dtype=np.float32) for _ in s.readers]
    for at in range(0, n, chunk):
        k = min(chunk, n - at)
        for reader, out in zip(s.readers, outs):
            reader.read_into(start + at, out[at:at + k])
    return outs


def peak_hz(block: np.ndarray, lowest: float = 30.0) -> float:
    """The strongest frequency of a block's left channel (Hann window, zero-padded)."""
    x = block[:, 0].astype(np.float64) * np.hanning(block.shape[0])
    size = 1 << 18
    spectrum = np.abs(np.fft.rfft(x, size))
    freqs = np.fft.rfftfreq(size, 1 / RATE)
    spectrum[freqs < lowest] = 0
    return float(freqs[int(np.argmax(spectrum))])


def pitch_class(hz: float) -> int:
    return round(69 + 12 * np.log2(hz / 440.0)) % 12


def first_sound(block: np.ndarray, floor: float = 1e-6) -> int:
    """The first frame of a block that is not silent."""
    loud = np.flatnonzero(np.abs(block).max(axis=1) > floor)
    return int(loud[0]) if len(loud) else -1


def rms(block: np.ndarray) -> float:
    return float(np.sqrt(np.mean(block.astype(np.float64) ** 2)))


def envelope(block: np.ndarray, size: int = 1024) -> np.ndarray:
    """The RMS of each `size` frames (both channels)."""
    n = block.shape[0] // size * size
    return np.sqrt(np.mean(block[:n].astype(np.float64).reshape(-1, size, 2) ** 2, axis=(1, 2)))
