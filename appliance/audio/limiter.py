"""The output safety limiter: nothing the box sends to the PA or the ears goes over the
ceiling (dBTP), and below it nothing is touched, bit for bit.

One gain per *link*: the device channels of an output share one gain so a stereo image
does not move, and outputs that share a device channel (they add up there) are linked
into one gain, as what they sum to is what must stay under the ceiling. Each output
reports what its link caught.

How, per period, with numpy into preallocated buffers only:
- peak: each frame's sample peak and true peak (the values at 1/4, 2/4, 3/4 between
  samples, a 12-tap polyphase FIR per phase, 4x oversampling as ITU-R BS.1770 does),
  the largest over the link's channels;
- the gain that peak needs (in log units, 0 where it needs none), held as the minimum
  over WINDOW frames ahead, then averaged over WINDOW frames: the gain glides down
  over WINDOW frames and is at or below what the peak needs when it arrives;
- release: back towards 0 at RELEASE_DB_S (a cumulative minimum of cones, no loop);
- the audio is delayed by `delay` frames (WINDOW - 1 + the FIR's half) and multiplied.
Where the gain is exactly 1 the output is the delayed input bit for bit. A period whose
loudest sample could not reach the ceiling even through the FIR (|x| * sum|taps|
below it) while no gain is pending skips all of this: it is only delayed.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import as_strided

if TYPE_CHECKING:
    from ..config import Config

OVERSAMPLE = 4
HALF = 6                      # the FIR reads HALF samples on each side of an interval
RELEASE_DB_S = 40.0           # how fast the gain comes back (dB per second)
SNAP = 1e-9                   # a reduction smaller than this (log units) is none: its gain
                              # rounds to 1.0 in float32 anyway
MARGIN = 0.9999               # aim a hair under the ceiling: float rounding stays below it
FLOOR = math.log(1e-6)        # the most the gain is turned down (-120 dB: inf in, silence)


def window_frames(rate: int) -> int:
    """The look-ahead window: a power of two near 1 ms (64 frames at 44.1 and 48 kHz)."""
    return 1 << max(4, round(math.log2(rate / 1000)))


def delay_frames(rate: int) -> int:
    """How much later the limiter's output is than its input (its look-ahead)."""
    return window_frames(rate) - 1 + HALF


def fir_phases() -> np.ndarray:
    """(3, 12): the values 1/4, 2/4, 3/4 of the way from x[0] to x[1], from x[-5..6]:
    a Kaiser-windowed sinc, each phase scaled to unity gain at DC."""
    k = np.arange(-HALF + 1, HALF + 1, dtype=np.float64)
    rows = []
    for p in range(1, OVERSAMPLE):
        t = k - p / OVERSAMPLE
        h = np.sinc(t) * np.i0(5.0 * np.sqrt(1 - (t / HALF) ** 2)) / np.i0(5.0)
        rows.append(h / h.sum())
    return np.array(rows)


def true_peak(x: np.ndarray) -> float:
    """The largest sample or 4x-interpolated value of `x` (frames x channels), as the
    limiter estimates it: for checks and tests, not for the audio thread."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    pad = np.concatenate([np.zeros((HALF, x.shape[1])), x, np.zeros((HALF, x.shape[1]))])
    peak = float(np.abs(x).max(initial=0.0))
    for h in fir_phases():         # every interval, the edges' (to silence) included
        y = sum(h[j] * pad[j: j + len(x) + 1] for j in range(2 * HALF))
        peak = max(peak, float(np.abs(y).max(initial=0.0)))
    return peak


def links(outputs: dict[str, tuple[int, ...]], channels: int) -> list[tuple[list[str], list[int]]]:
    """Outputs whose device channels overlap, joined: [(output names, 0-based channels)].
    A channel no output uses is a link of its own with no name."""
    groups: list[tuple[list[str], set[int]]] = []
    for name, chans in outputs.items():
        mine = ([name], {c - 1 for c in chans if 1 <= c <= channels})
        for g in [g for g in groups if g[1] & mine[1]]:
            groups.remove(g)
            mine = (g[0] + mine[0], g[1] | mine[1])
        groups.append(mine)
    used = set().union(*(g[1] for g in groups)) if groups else set()
    groups += [([], {c}) for c in range(channels) if c not in used]
    return [(names, sorted(chans)) for names, chans in groups]


def for_config(config: "Config", block: int) -> "Limiter | None":
    """The config's limiter for blocks of up to `block` frames (None when it is off)."""
    if not config.limiter:
        return None
    return Limiter(config.outputs, config.channels, config.rate, block, config.ceiling_db)


class Limiter:
    """Built once per device layout; `process(buf)` limits a period in place."""

    def __init__(self, outputs: dict[str, tuple[int, ...]], channels: int, rate: int,
                 block: int, ceiling_db: float = -1.0) -> None:
        self.rate, self.channels, self.block = rate, channels, block
        self.ceiling_db = ceiling_db
        self.window = w = window_frames(rate)
        self.delay = d = delay_frames(rate)
        self.links = links(outputs, channels)
        g = len(self.links)
        self._perm = np.array([c for _, chans in self.links for c in chans], dtype=np.intp)
        starts, at = [], 0
        for _, chans in self.links:
            starts.append(at)
            at += len(chans)
        self._starts = np.array(starts, dtype=np.intp)
        self._link_of = np.zeros(channels, dtype=np.intp)
        for i, (_, chans) in enumerate(self.links):
            self._link_of[chans] = i
        ceiling = 10.0 ** (ceiling_db / 20.0) * MARGIN
        self._log_ceiling = math.log(ceiling)
        phases = fir_phases()
        self._quiet = ceiling / max(1.0, float(np.abs(phases).sum(axis=1).max()))
        taps = 2 * HALF
        # (taps*channels, 3*channels): one matrix product gives every phase of every channel
        self._fir = np.kron(phases.T, np.eye(channels)).astype(np.float32)
        self._slope = RELEASE_DB_S / rate * math.log(10) / 20
        f32, f64 = np.float32, np.float64
        self._x = np.zeros((d + block, channels), f32)       # [delay line | this period]
        self._win = np.zeros((block + 1, taps * channels), f32)
        self._phased = np.zeros((block + 1, 3 * channels), f32)
        self._ipk = np.zeros((block + 1, channels), f32)    # interval peaks
        self._abs = np.zeros((block + 2 * HALF, channels), f32)
        self._pk = np.zeros((block, channels), f32)         # frame peaks per channel
        self._pkp = np.zeros((block, channels), f32)        # ... ordered by link
        self._lpk = np.zeros((block, g), f32)               # ... per link
        self._r = np.zeros((w - 1 + block, g), f64)         # needed gain (log), with history
        self._t1 = np.zeros_like(self._r)
        self._t2 = np.zeros_like(self._r)
        self._m = np.zeros((w - 1 + block, g), f64)         # held over the window, with history
        self._cs = np.zeros((w + block, g), f64)
        self._avg = np.zeros((block, g), f64)
        self._ramp = np.arange(block, dtype=f64)[:, None] * self._slope
        self._acc = np.zeros((block + 1, g), f64)
        self._low = np.zeros((block + 1, g), f64)
        self._e = np.zeros((block, g), f64)                 # the gain (log), per frame and link
        self._cut = np.zeros((block, g), bool)
        self._cut_n = np.zeros(g, np.int64)
        self._deepest_g = np.zeros(g, f64)
        self._gain = np.zeros((block, g), f32)
        self._gch = np.zeros((block, channels), f32)
        self._last = np.zeros(g, f64)                       # the gain (log) at the last frame
        self._busy = False
        self.caught = np.zeros(g, np.int64)                 # frames turned down, per link
        self.deepest = np.zeros(g, f64)                     # largest reduction (log), per link

    def process(self, buf: np.ndarray) -> None:
        """Limit `buf` (frames x channels, float32) in place; what comes out is the audio
        of `delay` frames earlier."""
        for i in range(0, len(buf), self.block):
            self._period(buf[i:i + self.block])

    def _period(self, buf: np.ndarray) -> None:
        n = len(buf)
        d, x = self.delay, self._x
        x[d:d + n] = buf
        if not self._busy:
            seen = self._abs[:n + 2 * HALF]        # every sample the period's FIR would read
            if np.abs(x[d - 2 * HALF:d + n], out=seen).max() < self._quiet:
                buf[:] = x[:n]
                x[:d] = x[n:n + d]
                return
        self._gains(n)
        np.take(self._gain[:n], self._link_of, axis=1, out=self._gch[:n])
        np.multiply(x[:n], self._gch[:n], out=buf)
        x[:d] = x[n:n + d]

    def _gains(self, n: int) -> None:
        """The period's gain per frame and link into self._gain[:n] (float32, linear)."""
        d, x, c, w = self.delay, self._x, self.channels, self.window
        # interval u..u+1 for u = t0-HALF-1 .. t0-HALF+n-1 reads x[u-5 .. u+6]
        first = d - 2 * HALF                                   # row of x[t0 - 12]
        win = as_strided(x[first:], shape=(n + 1, 2 * HALF * c),
                         strides=(x.strides[0], x.strides[1]))
        np.copyto(self._win[:n + 1], win)
        ph = self._phased[:n + 1]
        np.matmul(self._win[:n + 1], self._fir, out=ph)
        np.abs(ph, out=ph)
        ipk = self._ipk[:n + 1]
        np.maximum(ph[:, :c], ph[:, c:2 * c], out=ipk)
        np.maximum(ipk, ph[:, 2 * c:], out=ipk)
        # frame u's peak: itself and the intervals on both sides
        ax = self._pk[:n]
        np.maximum(ipk[:n], ipk[1:], out=ax)
        np.maximum(ax, np.abs(x[d - HALF:d - HALF + n], out=self._pkp[:n]), out=ax)
        np.take(ax, self._perm, axis=1, out=self._pkp[:n])
        lpk = self._lpk[:n]
        np.maximum.reduceat(self._pkp[:n], self._starts, axis=1, out=lpk)
        r = self._r[w - 1:w - 1 + n]
        np.fmax(lpk, 1e-30, out=lpk)                           # NaN and silence: no need
        np.log(lpk, out=r)
        np.subtract(self._log_ceiling, r, out=r)
        np.minimum(r, 0.0, out=r)
        np.maximum(r, FLOOR, out=r)
        # hold the minimum over the window (doubling: 1, 2, 4 ... frames)
        rows = w - 1 + n
        src, span = self._r[:rows], 1
        dst = self._t1
        while span < w:
            np.minimum(src[span:], src[:-span], out=dst[span:rows])
            dst[:span] = src[:span]
            src, dst = dst[:rows], (self._t2 if dst is self._t1 else self._t1)
            span *= 2
        m = self._m[:rows]
        m[w - 1:] = src[w - 1:]
        # average it over the window: the gain glides and is down when the peak arrives
        cs = self._cs[:rows + 1]
        np.cumsum(m, axis=0, out=cs[1:])
        avg = self._avg[:n]
        np.subtract(cs[w:w + n], cs[:n], out=avg)
        avg *= 1.0 / w
        # release: the lower envelope of cones rising at `slope` from every frame's value
        acc = self._acc[:n + 1]
        np.add(self._last, self._slope, out=acc[0])
        np.subtract(avg, self._ramp[:n], out=acc[1:])
        low = self._low[:n + 1]
        np.minimum.accumulate(acc, axis=0, out=low)
        e = self._e[:n]
        np.add(low[1:], self._ramp[:n], out=e)
        np.minimum(e, 0.0, out=e)
        cut = self._cut[:n]
        np.greater(e, -SNAP, out=cut)
        np.copyto(e, 0.0, where=cut)
        np.logical_not(cut, out=cut)
        np.add.reduce(cut, axis=0, out=self._cut_n)
        self.caught += self._cut_n
        np.minimum.reduce(e, axis=0, out=self._deepest_g)
        np.minimum(self.deepest, self._deepest_g, out=self.deepest)
        self._last[:] = e[n - 1]
        np.exp(e, out=self._gain[:n])
        # histories for the next period
        self._r[:w - 1] = self._r[n:n + w - 1]
        self._m[:w - 1] = self._m[n:n + w - 1]
        self._busy = bool(self._last.min() < 0.0 or self._r[:w - 1].min() < 0.0
                          or self._m[:w - 1].min() < 0.0)

    def flush(self) -> np.ndarray:
        """The last `delay` frames still held (the end of an offline render)."""
        tail = np.zeros((self.delay, self.channels), dtype=np.float32)
        self.process(tail)
        return tail

    def caught_by_output(self) -> tuple[tuple[str, int, float], ...]:
        """(output, frames turned down, largest reduction in dB) for every named output."""
        db = 20 / math.log(10)
        return tuple((name, int(self.caught[i]), float(self.deepest[i]) * db)
                     for i, (names, _) in enumerate(self.links) for name in names)
