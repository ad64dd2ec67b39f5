"""The output safety limiter: nothing the box sends to the PA or the ears goes over the
ceiling (dBTP), and below it nothing is touched, bit for bit.

One gain per *link*: the device channels of an output share one gain so a stereo image
does not move, and outputs that share a device channel (they add up there) are linked
into one gain, as what they sum to is what must stay under the ceiling. Each output
reports what its link caught.

How, per period, with numpy into preallocated buffers only (float32 but where exactness
needs float64; the period size never changes a bit of the output):
- peak: each interval's sample and true peak (the values at 1/4, 2/4, 3/4 to the next
  sample, a 12-tap polyphase FIR per phase, 4x oversampling as ITU-R BS.1770 does), one
  (4 x 12) matrix product over every channel, the largest over the link's channels;
- the gain that peak needs (linear, 1 where it needs none, FLOOR at most), held as the
  minimum over WINDOW frames ahead (van Herk / Gil-Werman), then averaged over WINDOW
  frames (an exact float64 running sum): the gain glides down over WINDOW frames and is
  at or below what the peak needs when it arrives;
- release: back towards 1 at RELEASE_DB_S (a cumulative minimum of cones, no loop);
- the audio is delayed by `delay` frames (WINDOW - 1 + the FIR's half) and multiplied.
Where nothing is needed the gain is exactly 1 and the output the delayed input bit for
bit. A period whose loudest sample could not reach the ceiling even through the FIR
(|x| * sum|taps| below it) while no gain is pending skips all of this: it is only delayed.
A sample that is inf, NaN or beyond HUGE is silence to the gain (it goes out as it came):
no numpy warning from the audio thread, no gain held down for seconds by one bad sample.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import as_strided

if TYPE_CHECKING:
    from ...config import Config

OVERSAMPLE = 4
HALF = 6                      # the FIR reads HALF samples on each side of an interval
RELEASE_DB_S = 40.0           # how fast the gain comes back (dB per second)
MARGIN = 0.9999               # aim a hair under the ceiling: float rounding stays below it
FLOOR = 1e-6                  # the most the gain is turned down (-120 dB)
HUGE = 1e30                   # a sample beyond this (or inf, NaN) is silence to the gain:
                              # it cannot hold the gain down, nor overflow the FIR


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


def _windows(a: np.ndarray, rows: int, columns: int, width: int) -> np.ndarray:
    """A view of `a` (frames x columns): [k, col, j] is a[k + j, col], `width` frames from
    each of `rows` frames, built once so the audio thread only slices it."""
    return as_strided(a, shape=(rows, columns, width),
                      strides=(a.strides[0], a.strides[1], a.strides[0]), writeable=False)


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
        g, c, taps = len(self.links), channels, 2 * HALF
        # (widest link, links): each link's channels, the last repeated to fill its column
        wide = max(len(chans) for _, chans in self.links)
        self._gather = np.array([[chans[min(i, len(chans) - 1)] for _, chans in self.links]
                                 for i in range(wide)], dtype=np.intp).ravel()
        self._link_of = np.zeros(c, dtype=np.intp)
        for i, (_, chans) in enumerate(self.links):
            self._link_of[chans] = i
        self._ceiling = ceiling = 10.0 ** (ceiling_db / 20.0) * MARGIN
        phases = fir_phases()
        self._quiet = ceiling / max(1.0, float(np.abs(phases).sum(axis=1).max()))
        # (4, 12): the sample x[u] itself (tap 5 of the 12 read) and the 3 phases after it
        self._fir = np.vstack([np.eye(1, taps, HALF - 1), phases]).astype(np.float32)
        f32, f64 = np.float32, np.float64
        self._x = np.zeros((d + block, c), f32)            # [delay line | this period]
        self._abs = np.zeros((block + taps, c), f32)
        self._bad = np.zeros((c, block + taps), bool)
        self._read = np.zeros((c, block + taps), f32)      # what the FIR reads, by channel
        # its 12 samples for each channel and interval: (channels, intervals, taps)
        self._reads = _windows(self._read.T, block + 1, c, taps).transpose(1, 0, 2)
        self._win = np.zeros(c * (block + 1) * taps, f32)
        self._ph = np.zeros(OVERSAMPLE * c * (block + 1), f32)
        self._ipk = np.zeros((c, block + 1), f32)           # each interval's peak per channel
        self._ipkg = np.zeros((len(self._gather), block + 1), f32)   # ... gathered by link
        self._lpk = np.zeros((g, block + 1), f32)           # ... per link
        # [0]: the gain (linear, over w) each interval needs; [1]: that held over w+1
        # intervals (w frames) ahead; each with the history its window reaches back to.
        # Over w, summing w of them is the average; in float64 every partial sum of
        # these float32 values (FLOOR/w .. 1/w) is exact, whatever the period.
        blocks = -(-(w + block) // (w + 1))
        self._hist = np.full((2, g, blocks * (w + 1)), 1.0 / w, f32)
        self._need, self._held = self._hist
        self._pre = np.ones_like(self._need)
        self._suf = np.ones_like(self._need)
        self._need_blocks, self._pre_blocks, self._suf_blocks = (
            a.reshape(g, blocks, w + 1) for a in (self._need, self._pre, self._suf))
        self._cs = np.zeros((g, w + block), f64)
        # release: cones rising by k a frame, as one cumulative minimum of the gains
        # scaled by k ** -t (t from the period's start); the frame's own average is
        # taken as it is, so where nothing is needed the gain is 1.0 exactly
        k = math.exp(RELEASE_DB_S / rate * math.log(10) / 20)
        self._k = k
        self._up = k ** np.arange(block, dtype=f64)
        self._down = k ** -np.arange(block, dtype=f64)
        self._avg = np.zeros((g, block), f64)
        self._acc = np.zeros((g, block), f64)
        self._low = np.zeros((g, block), f64)
        self._last = np.ones(g, f64)                        # the gain at the last frame
        self._gain = np.ones((g, block), f32)
        self._cut = np.zeros((g, block), bool)
        self._cuts = np.zeros((g, block), np.int64)         # frames turned down, per link
        self._lows = np.ones((g, block), f32)               # the lowest gain, per link
        self._gch = np.ones((c, block), f32)
        self._busy = False

    @property
    def caught(self) -> np.ndarray:
        """Frames turned down, per link (summed when read, not in the audio thread)."""
        return self._cuts.sum(axis=1)

    def process(self, buf: np.ndarray) -> None:
        """Limit `buf` (frames x channels, float32) in place; what comes out is the audio
        of `delay` frames earlier."""
        for i in range(0, len(buf), self.block):
            self._period(buf[i:i + self.block])

    def _period(self, buf: np.ndarray) -> None:
        n = len(buf)
        d, x = self.delay, self._x
        x[d:d + n] = buf
        seen = self._abs[:n + 2 * HALF]            # every sample the period's FIR would read
        loudest = np.abs(x[d - 2 * HALF:d + n], out=seen).max()     # NaN if any is NaN
        if loudest < self._quiet and not self._busy:
            buf[:] = x[:n]
        else:
            read = self._read[:, :n + 2 * HALF]
            np.copyto(read, x[d - 2 * HALF:d + n].T)
            if not loudest < HUGE:                 # inf, NaN and the absurd are silence here
                bad = self._bad[:, :n + 2 * HALF]
                np.less(seen.T, HUGE, out=bad)
                np.logical_not(bad, out=bad)
                np.copyto(read, 0.0, where=bad)
            self._gains(n)
            np.take(self._gain, self._link_of, axis=0, out=self._gch)
            np.multiply(x[:n], self._gch[:, :n].T, out=buf)
        x[:d] = x[n:n + d]

    def _gains(self, n: int) -> None:
        """The period's gain per link and frame into self._gain[:, :n] (float32, linear),
        from the samples in self._read."""
        w = self.window
        c, m, g = self.channels, n + 1, len(self.links)
        win = self._win[:c * m * 2 * HALF].reshape(c * m, 2 * HALF)
        ph = self._ph[:OVERSAMPLE * c * m].reshape(OVERSAMPLE, c, m)
        ipk = self._ipk[:, :m]
        np.copyto(win.reshape(c, m, 2 * HALF), self._reads[:, :m])
        np.matmul(self._fir, win.T, out=ph.reshape(OVERSAMPLE, c * m))
        np.abs(ph, out=ph)
        np.maximum.reduce(ph, axis=0, out=ipk)
        by_link = np.take(self._ipk, self._gather, axis=0, out=self._ipkg)[:, :m]
        lpk = self._lpk[:, :m]
        np.maximum.reduce(by_link.reshape(-1, g, m), axis=0, out=lpk)
        np.maximum(lpk, self._ceiling, out=lpk)
        np.minimum(lpk, self._ceiling / FLOOR, out=lpk)
        np.divide(self._ceiling / w, lpk, out=self._need[:, w - 1:w + n])
        # held: the minimum over w+1 intervals, from minima to the ends of blocks of w+1
        # on either side (van Herk / Gil-Werman): exact, whatever the period
        np.minimum.accumulate(self._need_blocks, axis=2, out=self._pre_blocks)
        np.minimum.accumulate(self._need_blocks[:, :, ::-1], axis=2,
                              out=self._suf_blocks[:, :, ::-1])
        np.minimum(self._suf[:, :n], self._pre[:, w:w + n], out=self._held[:, w - 1:w - 1 + n])
        cs = self._cs[:, :w + n]
        np.cumsum(self._held[:, :w - 1 + n], axis=1, out=cs[:, 1:])
        avg, acc, low = self._avg[:, :n], self._acc[:, :n], self._low[:, :n]
        np.subtract(cs[:, w:w + n], cs[:, :n], out=avg)
        # release: each frame's gain is its average or, lower, the cone rising from an
        # earlier frame's (last period's last frame included)
        np.multiply(self._last, self._k, out=acc[:, 0])
        np.multiply(avg[:, :n - 1], self._down[:n - 1], out=acc[:, 1:])
        np.minimum.accumulate(acc, axis=1, out=low)
        np.multiply(low, self._up[:n], out=low)
        np.minimum(avg[:, n - 1], low[:, n - 1], out=self._last)
        gain, cut = self._gain[:, :n], self._cut[:, :n]
        np.minimum(avg, low, out=gain)
        np.less(gain, 1.0, out=cut)
        np.add(self._cuts[:, :n], cut, out=self._cuts[:, :n])
        np.minimum(self._lows[:, :n], gain, out=self._lows[:, :n])
        # histories for the next period
        self._hist[:, :, :w] = self._hist[:, :, n:n + w]
        self._busy = bool(self._last.min() < 1.0 or self._held[:, :w - 1].min() < 1.0 / w)

    def flush(self) -> np.ndarray:
        """The last `delay` frames still held (the end of an offline render)."""
        tail = np.zeros((self.delay, self.channels), dtype=np.float32)
        self.process(tail)
        return tail

    def caught_by_output(self) -> tuple[tuple[str, int, float], ...]:
        """(output, frames turned down, largest reduction in dB) for every named output."""
        db = 20 / math.log(10)
        caught = self.caught
        least = self._lows.min(axis=1)
        return tuple((name, int(caught[i]), math.log(float(least[i])) * db)
                     for i, (names, _) in enumerate(self.links) for name in names)
