"""A song's stems read ahead by a disk thread into bounded rings; the mixer only copies memory.

All the stems of a song always play the same song frame, so they share one
`SongStream`: a planar ring (one row per stem channel) that the mixer copies
from in one slice per period. It has two rings: the one playing, and one the
transport *cues* at a jump target (a vamp's loop start, the section a musician
asked for) so the jump finds its audio already in memory. Either ring plays
whatever frame it is asked for next in sequence; the other keeps its
continuation, which lets a jump crossfade the old position out while the new
one comes in. The transport asks `ready_at` before it plays a frame that was not
just playing: a target whose audio is not in memory yet waits, silent, rather
than being read as silence.

The mixer's side (`read_into`, `prepare`, `cue`) never touches the disk and
takes no lock: each side owns its own counters and publishes them as tuples,
which Python assigns atomically. A restarted ring is a new generation, and data
of an older one is never read. When the disk falls behind, the late stems play
silence for that block (counted in `underruns`) rather than holding up the
audio; an offline render sets `blocking` and waits instead, so it is exact.

The disk thread reads a whole chunk of a ring in one go once it is free: a few
reads a second, not a stream of small ones that would keep taking the GIL from the
audio thread. It sleeps until woken (`Wake`, no lock): by the audio thread when it
restarts a ring for a jump, and when a chunk is free, though not in the middle of
the period's work: the mixer marks it (`wake_due`) and the engine wakes the disk
thread just before it waits on the device.
"""
from __future__ import annotations

import threading

import numpy as np

from ..threads.priority import HELPER, realtime
from ..threads.wake import Wake
from .stems import StemReader

CAPACITY = 1 << 16      # frames held per ring (1.4 s at 48 kHz)
CHUNK = 1 << 14         # frames read from disk at a time, per stem
COPY = 1 << 12          # frames moved into the ring per numpy call (each holds the GIL)
BLOCKING_WAIT_S = 30.0  # an offline render gives a stuck disk this long, then plays silence
_IDLE = -1              # a ring's generation before anything was asked of it


class _Ring:
    def __init__(self, rows: int, stems: int, capacity: int, gen: int) -> None:
        self.data = np.zeros((rows, capacity), dtype=np.float32)
        self.capacity = capacity
        self.want: tuple[int, int] = (gen, 0)    # mixer side: (generation, first song frame)
        self.consumed = 0                         # mixer side
        self.have = [(gen, 0)] * stems            # disk side, per stem: (generation, written)
        self.ready: tuple[int, int] = (gen, 0)   # disk side: (generation, written by every stem)

    @property
    def next_frame(self) -> int:
        return self.want[1] + self.consumed

    def restart(self, frame: int) -> None:
        self.consumed = 0
        self.want = (max(self.want[0], 0) + 1, frame)

    def available(self) -> int:
        gen, written = self.ready
        return written - self.consumed if gen == self.want[0] else 0


class SongStream:
    """`capacity` frames per ring, read `chunk` at a time: the stems' deep rings ride out a
    slow disk; the parts' shallow ones (synthesised ahead) let a live change be heard soon."""

    def __init__(self, readers: list[StemReader], capacity: int = CAPACITY, *,
                 chunk: int = CHUNK) -> None:
        if not 0 < chunk <= capacity:
            raise ValueError(f"chunk must be 1 to capacity ({capacity}) frames, not {chunk}")
        self.readers = readers
        self.chunk = chunk
        rows = np.cumsum([0] + [r.channels for r in readers]).tolist()
        self.rows = list(zip(rows[:-1], rows[1:]))
        self.channels = rows[-1]
        self.blocking = False
        self.underruns = 0
        self._rings = (_Ring(self.channels, len(readers), capacity, 0),
                       _Ring(self.channels, len(readers), capacity, _IDLE))
        self._active = 0
        self._wakes: tuple[Wake, ...] = ()     # the disk threads reading this stream
        self.wake_due = False
        self._scratch = [np.zeros((chunk, r.channels), dtype=np.float32) for r in readers]
        self._ready = threading.Condition()   # a blocking (offline) mixer and `wait_primed` wait

    def failed(self) -> list[int]:
        """Indexes of stems whose file failed (they play silence)."""
        return [i for i, r in enumerate(self.readers) if r.failed]

    # -- the mixer's side ---------------------------------------------------
    def prepare(self, frame: int) -> None:
        """Play from `frame` next (stopped, or a song about to start): restart the active ring."""
        ring = self._rings[self._active]
        if ring.next_frame != frame or ring.want[0] == _IDLE:
            ring.restart(frame)
            self._wake()

    def cue(self, frame: int) -> None:
        """A jump to `frame` is coming: fill the other ring from there."""
        if self._rings[self._active].next_frame == frame:
            return
        other = self._rings[1 - self._active]
        if other.next_frame != frame or other.want[0] == _IDLE:
            other.restart(frame)
            self._wake()

    def recue(self) -> None:
        """Start the cued ring again where it stands: what it read ahead was made before a
        change (a synthesised part's new key or intensity), so it is made anew after it."""
        other = self._rings[1 - self._active]
        if other.want[0] != _IDLE:
            other.restart(other.next_frame)
            self._wake()

    def remake(self) -> None:
        """Start both rings again where they stand (stopped or paused: nothing is playing
        them), so what they read ahead is made anew after a change."""
        for ring in self._rings:
            if ring.want[0] != _IDLE:
                ring.restart(ring.next_frame)
        self._wake()

    def ready_at(self, frame: int) -> bool:
        """Whether playing from `frame` next would find its audio in memory: a ring set at
        `frame` holds its first chunk (an offline render waits for the disk instead)."""
        if not self.readers or self.blocking:
            return True
        for ring in self._rings:
            if ring.want[0] != _IDLE and ring.next_frame == frame:
                return ring.available() >= self.chunk
        return False

    def read_into(self, start: int, out: np.ndarray) -> None:
        """Song frames [start, start + n) of every stem channel into `out` (rows × n)."""
        if not self.readers:           # a click-only song
            return
        rings = self._rings
        a = self._active
        ring = rings[a]
        if ring.next_frame != start or ring.want[0] == _IDLE:
            a = 1 - a
            ring = rings[a]
            if ring.next_frame != start or ring.want[0] == _IDLE:
                ring.restart(start)              # an uncued jump: this block will be late
                self._wake()
            self._active = a
        n = out.shape[1]
        if ring.available() < n and self.blocking:
            self._wake()
            with self._ready:
                self._ready.wait_for(lambda: ring.available() >= n, timeout=BLOCKING_WAIT_S)
        i = ring.consumed % ring.capacity
        k = min(n, ring.capacity - i)
        out[:, :k] = ring.data[:, i:i + k]
        if k < n:
            out[:, k:] = ring.data[:, : n - k]
        if ring.available() < n:
            self._silence_late(ring, out, n)
        if (ring.consumed + n) // self.chunk != ring.consumed // self.chunk:
            self.wake_due = True                 # a chunk is free to read into
        ring.consumed += n

    def wake_if_due(self) -> None:
        """Wake the disk threads if the mixer freed a chunk: the engine calls this once
        the period is rendered, so their turn falls while the audio thread waits."""
        if self.wake_due:
            self.wake_due = False
            self._wake()

    def _wake(self) -> None:
        for wake in self._wakes:
            wake.set()

    def attach(self, wake: Wake) -> None:
        """A disk thread that reads this stream, woken when there is work for it."""
        self._wakes = (*self._wakes, wake)

    def detach(self, wake: Wake) -> None:
        self._wakes = tuple(w for w in self._wakes if w is not wake)

    def _silence_late(self, ring: _Ring, out: np.ndarray, n: int) -> None:
        gen = ring.want[0]
        for (a, b), (have_gen, written) in zip(self.rows, ring.have):
            if have_gen != gen or written - ring.consumed < n:
                out[a:b].fill(0.0)
                self.underruns += 1

    # -- the disk thread's side --------------------------------------------
    def fill(self, part: int = 0, parts: int = 1) -> bool:
        """Read one chunk ahead into the playing ring, else the cued one; True if it read.

        With `parts` > 1, several disk threads share the work, each its own stems.
        """
        a = self._active
        return self._fill(self._rings[a], part, parts) or \
            self._fill(self._rings[1 - a], part, parts)

    def _fill(self, ring: _Ring, part: int, parts: int) -> bool:
        gen, base = ring.want
        if gen == _IDLE or not self.readers:
            return False
        consumed = ring.consumed
        # the stem furthest behind reads next
        best, best_written = -1, None
        for s, (have_gen, written) in enumerate(ring.have):
            if s % parts != part:
                continue
            written = written if have_gen == gen else 0
            written = max(written, consumed)     # the mixer overtook this stem: skip ahead
            if best_written is None or written < best_written:
                best, best_written = s, written
        if best < 0:
            return False
        n = min(self.chunk, ring.capacity - (best_written - consumed))
        if n < min(self.chunk, ring.capacity // 2):   # a whole chunk at a time, not dribbles
            return self._publish(ring, gen)
        reader, scratch = self.readers[best], self._scratch[best]
        r0, r1 = self.rows[best]
        i = best_written % ring.capacity
        reader.read_into(base + best_written, scratch[:n])
        for j in range(0, n, COPY):        # short copies: the audio thread never waits long
            m = min(COPY, n - j)
            dst = (i + j) % ring.capacity
            if dst + m <= ring.capacity:
                ring.data[r0:r1, dst:dst + m] = scratch[j:j + m].T
            else:
                split = ring.capacity - dst
                ring.data[r0:r1, dst:] = scratch[j:j + split].T
                ring.data[r0:r1, : m - split] = scratch[j + split:j + m].T
        ring.have[best] = (gen, best_written + n)
        self._publish(ring, gen)
        return True

    def _publish(self, ring: _Ring, gen: int) -> bool:
        ready = min(w if g == gen else 0 for g, w in ring.have)
        if ring.ready != (gen, ready):
            ring.ready = (gen, ready)
            with self._ready:
                self._ready.notify_all()
        return False

    def wait_primed(self, timeout: float) -> bool:
        """Wait (a loader thread, never the audio thread) until the playing ring holds its
        first chunk, so a Play applied next starts with sound rather than a late block."""
        ring = self._rings[self._active]
        if not self.readers or ring.want[0] == _IDLE:
            return True
        with self._ready:
            return self._ready.wait_for(lambda: ring.available() >= self.chunk,
                                        timeout=timeout)

    def close(self) -> None:
        for r in self.readers:
            r.close()


class DiskThread(threading.Thread):
    """Keeps every stream's rings full; sleeps until woken, or `idle_s` at most."""

    IDLE_S = 0.1        # the ring holds 1.4 s: a missed wake-up costs nothing

    def __init__(self, streams: list[SongStream], part: int = 0, parts: int = 1, *,
                 name: str = "backline-disk", idle_s: float = IDLE_S) -> None:
        super().__init__(name=f"{name}{part}", daemon=True)
        self.streams = streams
        self.idle_s = idle_s
        self.part, self.parts = part, parts
        self._halt = threading.Event()
        self._wake = Wake()
        for s in streams:
            s.attach(self._wake)

    def run(self) -> None:
        if not any(s.blocking for s in self.streams):     # an offline render is not real-time
            realtime(HELPER)
        while not self._halt.is_set():
            if not self.turn():
                self._wake.wait(self.idle_s)

    def turn(self) -> bool:
        """One round over the streams: True if any read."""
        busy = False
        for s in self.streams:
            busy = s.fill(self.part, self.parts) or busy
        return busy

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()
        self.join()
        for s in self.streams:
            s.detach(self._wake)
        self._wake.close()
