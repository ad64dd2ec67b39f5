"""Tempo and first downbeat from a click track, and how sure that is.

numpy only: the envelope (|x| of the channels' sum), onsets (where it first reaches half
of each click's own peak, interpolated between samples, so a loud accent and a soft beat
are timed alike), the median interval between onsets for a first period, then a
least-squares fit of onset times to beat numbers: the slope is the beat's length, the
intercept the first beat's time, to a fraction of a millisecond. Accents (every Nth
click louder) say which beat is the downbeat; without them the first onset is taken.
A click whose onsets leave the fitted grid (a tempo change, a ramp) is said to be one,
and its tempo is not guessed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GATE = 0.1            # an onset region starts where the envelope passes this share of the peak
REFRACTORY_S = 0.05   # one click's ring is not a second onset
MAX_RESIDUAL_S = 0.002   # onsets this far off the fitted grid: not one steady tempo
ON_GRID_S = 0.005
ACCENT_DB = 1.0       # an accented beat is at least this much louder than the others


@dataclass(frozen=True)
class ClickTempo:
    bpm: float
    first_beat_s: float      # the first onset on the grid
    downbeat_s: float        # the first downbeat (accented, or the first onset)
    accented: bool           # the downbeat was told by accents
    onsets: int
    residual_ms: float       # RMS distance of the onsets from the fitted grid
    on_grid: float           # share of onsets within 5 ms of the grid
    steady: bool             # one tempo: False means a tempo change (ask for the MIDI map)

    def describe(self) -> str:
        how = "accents" if self.accented else "the first click"
        sure = (f"{self.onsets} clicks, {self.on_grid:.0%} on the grid, "
                f"{self.residual_ms:.2f} ms RMS off it")
        return (f"{self.bpm:.2f} BPM from the click, downbeat at {self.downbeat_s:.4f} s "
                f"(by {how}; {sure})")


def onsets(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(times in seconds, peak levels) of each click in `x` (frames or frames x channels)."""
    env = np.abs(x.sum(axis=1) if x.ndim == 2 else x).astype(np.float32)
    top = float(env.max(initial=0.0))
    if top <= 0:
        return np.zeros(0), np.zeros(0)
    loud = np.flatnonzero(env >= GATE * top)
    if len(loud) == 0:
        return np.zeros(0), np.zeros(0)
    gap = int(REFRACTORY_S * rate)
    starts = loud[np.concatenate([[True], np.diff(loud) > gap])]
    times, peaks = [], []
    for a in starts:
        lo = max(0, a - gap // 4)
        seg = env[lo: a + gap]
        peak = float(seg.max())
        i = int(np.argmax(seg >= 0.5 * peak))       # first sample at half this click's peak
        y1 = float(seg[i])
        y0 = float(seg[i - 1]) if i > 0 else 0.0
        frac = (0.5 * peak - y0) / (y1 - y0) if y1 > y0 else 0.0
        times.append((lo + i - 1 + frac) / rate)
        peaks.append(peak)
    return np.array(times), np.array(peaks)


def detect(x: np.ndarray, rate: int, beats_per_bar: int = 4) -> ClickTempo | None:
    """The click's tempo; None when it has fewer than 4 clicks."""
    t, peaks = onsets(x, rate)
    if len(t) < 4:
        return None
    period = float(np.median(np.diff(t)))
    k = np.round((t - t[0]) / period)
    for _ in range(3):               # refine: the fitted period numbers the beats better
        slope, intercept = np.polyfit(k, t, 1)
        k = np.round((t - intercept) / slope)
    slope, intercept = np.polyfit(k, t, 1)
    resid = t - (intercept + slope * k)
    rms = float(np.sqrt(np.mean(resid ** 2)))
    on_grid = float(np.mean(np.abs(resid) < ON_GRID_S))
    steady = rms < MAX_RESIDUAL_S and on_grid > 0.95 and len(np.unique(k)) == len(k)
    k0 = int(k.min())
    first = intercept + slope * k0
    down, accented = _downbeat(k - k0, peaks, beats_per_bar)
    return ClickTempo(bpm=60.0 / slope, first_beat_s=float(first),
                      downbeat_s=float(first + down * slope), accented=accented,
                      onsets=len(t), residual_ms=rms * 1000, on_grid=on_grid, steady=steady)


def _downbeat(k: np.ndarray, peaks: np.ndarray, n: int) -> tuple[int, bool]:
    """(beats from the first to the first downbeat, told by accents?): the phase of the
    bar whose clicks are louder than every other phase's by ACCENT_DB."""
    if n < 2:
        return 0, False
    levels = []
    for p in range(n):
        sel = peaks[(k.astype(int) % n) == p]
        levels.append(20 * np.log10(np.median(sel)) if len(sel) else -np.inf)
    order = np.argsort(levels)[::-1]
    if levels[order[0]] - levels[order[1]] >= ACCENT_DB:
        return int(order[0]), True
    return 0, False
