"""Stems read ahead by a disk thread into bounded rings; the mixer only copies memory.

One `DiskThread` keeps every `StemStream` filled ahead of where the mixer will
read. The mixer's side (`read_into`) never touches the disk and takes no lock:
each side owns its own counters and publishes them as one tuple, which Python
assigns atomically. A jump is a new generation: data of an older one is never
read. When the disk falls behind, the stem plays silence for that block (and the
stream counts an underrun) rather than holding up the audio; an offline render
sets `blocking` and waits instead, so it is exact.
"""
from __future__ import annotations

import threading

import numpy as np

from .stems import StemReader

CAPACITY = 1 << 16     # frames held per stem (1.4 s at 48 kHz)
CHUNK = 1 << 14        # frames read from disk at a time
BLOCKING_WAIT_S = 30.0 # an offline render gives a stuck disk this long, then plays silence


class StemStream:
    def __init__(self, reader: StemReader, capacity: int = CAPACITY) -> None:
        self.reader = reader
        self.channels = reader.channels
        self.capacity = capacity
        self.blocking = False
        self.underruns = 0
        self._ring = np.zeros((capacity, reader.channels), dtype=np.float32)
        # mixer side: (generation, song frame the generation starts at), frames consumed
        self._want: tuple[int, int] = (0, 0)
        self._consumed = 0
        # disk side: (generation, frames written since its start)
        self._have: tuple[int, int] = (0, 0)
        self._ready = threading.Condition()   # only the blocking (offline) reader waits on it

    @property
    def failed(self) -> str | None:
        return self.reader.failed

    # -- the mixer's side -------------------------------------------------
    def read_into(self, start: int, out: np.ndarray) -> None:
        n = out.shape[0]
        gen, base = self._want
        if start != base + self._consumed:          # a jump: start a new generation here
            gen += 1
            self._consumed = 0
            self._want = (gen, start)
            base = start
        avail = self._available(gen)
        if avail < n and self.blocking:
            with self._ready:
                self._ready.wait_for(lambda: self._available(gen) >= n, timeout=BLOCKING_WAIT_S)
            avail = self._available(gen)
        if avail < n:
            out.fill(0.0)
            self.underruns += 1
        else:
            i = self._consumed % self.capacity
            k = min(n, self.capacity - i)
            out[:k] = self._ring[i:i + k]
            if k < n:
                out[k:] = self._ring[: n - k]
        self._consumed += n

    def _available(self, gen: int) -> int:
        have_gen, written = self._have
        return written - self._consumed if have_gen == gen else 0

    # -- the disk thread's side -------------------------------------------
    def fill(self, chunk: int = CHUNK) -> bool:
        """Read one chunk ahead if there is room; True when something was read."""
        gen, base = self._want
        have_gen, written = self._have
        consumed = self._consumed
        if have_gen != gen:
            written = 0
        if written < consumed:               # the mixer overtook us (an underrun): skip ahead
            written = consumed
        n = min(chunk, self.capacity - (written - consumed))
        if n <= 0:
            if have_gen != gen or written != self._have[1]:
                self._publish(gen, written)
            return False
        i = written % self.capacity
        k = min(n, self.capacity - i)
        self.reader.read_into(base + written, self._ring[i:i + k])
        if k < n:
            self.reader.read_into(base + written + k, self._ring[: n - k])
        self._publish(gen, written + n)
        return True

    def _publish(self, gen: int, written: int) -> None:
        self._have = (gen, written)
        if self.blocking:
            with self._ready:
                self._ready.notify_all()

    def close(self) -> None:
        self.reader.close()


class DiskThread(threading.Thread):
    """Keeps every stream's ring full. Polls when idle: the audio thread never signals it."""

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
