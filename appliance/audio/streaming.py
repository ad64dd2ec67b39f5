"""Stems read ahead by a disk thread into bounded rings; the mixer only copies memory.

Each `StemStream` has two rings: the one playing, and one the transport *cues*
at a jump target (a vamp's loop start, the section a musician asked for) so the
jump finds its audio already in memory. Either ring plays whatever frame it is
asked for next in sequence; the other keeps its continuation, which is what lets
a jump crossfade the old position out while the new one comes in.

The mixer's side (`read_into`, `prepare`, `cue`) never touches the disk and
takes no lock: each side owns its own counters and publishes them as one tuple,
which Python assigns atomically. A restarted ring is a new generation, and data
of an older one is never read. When the disk falls behind, the stem plays
silence for that block (counted in `underruns`) rather than holding up the
audio; an offline render sets `blocking` and waits instead, so it is exact.
"""
from __future__ import annotations

import threading

import numpy as np

from .stems import StemReader

CAPACITY = 1 << 16     # frames held per ring (1.4 s at 48 kHz)
CHUNK = 1 << 14        # frames read from disk at a time
BLOCKING_WAIT_S = 30.0  # an offline render gives a stuck disk this long, then plays silence
_IDLE = -1             # a ring's generation before anything was asked of it


class _Ring:
    def __init__(self, capacity: int, channels: int, gen: int) -> None:
        self.data = np.zeros((capacity, channels), dtype=np.float32)
        self.capacity = capacity
        self.want: tuple[int, int] = (gen, 0)   # mixer side: (generation, first song frame)
        self.consumed = 0                        # mixer side
        self.have: tuple[int, int] = (gen, 0)   # disk side: (generation, frames written)

    @property
    def next_frame(self) -> int:
        return self.want[1] + self.consumed

    def restart(self, frame: int) -> None:
        self.consumed = 0
        self.want = (max(self.want[0], 0) + 1, frame)

    def available(self) -> int:
        gen, written = self.have
        return written - self.consumed if gen == self.want[0] else 0


class StemStream:
    def __init__(self, reader: StemReader, capacity: int = CAPACITY) -> None:
        self.reader = reader
        self.channels = reader.channels
        self.blocking = False
        self.underruns = 0
        self._rings = (_Ring(capacity, reader.channels, 0),
                       _Ring(capacity, reader.channels, _IDLE))
        self._active = 0
        self._ready = threading.Condition()   # only a blocking (offline) reader waits on it

    @property
    def failed(self) -> str | None:
        return self.reader.failed

    # -- the mixer's side ---------------------------------------------------
    def prepare(self, frame: int) -> None:
        """Play from `frame` next (stopped, or a song about to start): restart the active ring."""
        ring = self._rings[self._active]
        if ring.next_frame != frame or ring.want[0] == _IDLE:
            ring.restart(frame)

    def cue(self, frame: int) -> None:
        """A jump to `frame` is coming: fill the other ring from there."""
        if self._rings[self._active].next_frame == frame:
            return
        other = self._rings[1 - self._active]
        if other.next_frame != frame or other.want[0] == _IDLE:
            other.restart(frame)

    def read_into(self, start: int, out: np.ndarray) -> None:
        a = self._active
        if self._rings[a].next_frame != start or self._rings[a].want[0] == _IDLE:
            a = 1 - a
            if self._rings[a].next_frame != start or self._rings[a].want[0] == _IDLE:
                self._rings[a].restart(start)    # an uncued jump: this block will be late
            self._active = a
        ring = self._rings[a]
        n = out.shape[0]
        avail = ring.available()
        if avail < n and self.blocking:
            with self._ready:
                self._ready.wait_for(lambda: ring.available() >= n, timeout=BLOCKING_WAIT_S)
            avail = ring.available()
        if avail < n:
            out.fill(0.0)
            self.underruns += 1
        else:
            i = ring.consumed % ring.capacity
            k = min(n, ring.capacity - i)
            out[:k] = ring.data[i:i + k]
            if k < n:
                out[k:] = ring.data[: n - k]
        ring.consumed += n

    # -- the disk thread's side --------------------------------------------
    def fill(self, chunk: int = CHUNK) -> bool:
        """Read one chunk ahead into the playing ring, else the cued one; True if it read."""
        a = self._active
        return self._fill(self._rings[a], chunk) or self._fill(self._rings[1 - a], chunk)

    def _fill(self, ring: _Ring, chunk: int) -> bool:
        gen, base = ring.want
        if gen == _IDLE:
            return False
        have_gen, written = ring.have
        consumed = ring.consumed
        if have_gen != gen:
            written = 0
        if written < consumed:       # the mixer overtook the disk (an underrun): skip ahead
            written = consumed
        n = min(chunk, ring.capacity - (written - consumed))
        if n <= 0:
            if (have_gen, ring.have[1]) != (gen, written):
                self._publish(ring, gen, written)
            return False
        i = written % ring.capacity
        k = min(n, ring.capacity - i)
        self.reader.read_into(base + written, ring.data[i:i + k])
        if k < n:
            self.reader.read_into(base + written + k, ring.data[: n - k])
        self._publish(ring, gen, written + n)
        return True

    def _publish(self, ring: _Ring, gen: int, written: int) -> None:
        ring.have = (gen, written)
        if self.blocking:
            with self._ready:
                self._ready.notify_all()

    def close(self) -> None:
        self.reader.close()


class DiskThread(threading.Thread):
    """Keeps every stream's rings full. Polls when idle: the audio thread never signals it."""

    IDLE_S = 0.002

    def __init__(self, streams: list[StemStream]) -> None:
        super().__init__(name="backline-disk", daemon=True)
        self.streams = streams
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            busy = False
            for s in self.streams:
                busy = s.fill() or busy
            if not busy:
                self._halt.wait(self.IDLE_S)

    def stop(self) -> None:
        self._halt.set()
        self.join()
