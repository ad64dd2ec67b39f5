"""The one gain ramp of the transport: a jump's crossfade and a fade-in, the fade to rest
before a stop, a pause or a wait for a jump's audio, and the outgoing song of a setlist
crossfade are each a `Fade` advanced by the frames played.

Audio thread: the gains go into buffers made once, so advancing a fade allocates nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..disk.loaded import LoadedSong

FADE_S = 0.005          # stems crossfade at jumps, fade on stop, pause and resume


class Fade:
    """A linear ramp over `length` frames, `done` of them played; idle when `length` is 0."""

    def __init__(self, block: int) -> None:
        self.length = self.done = 0
        self._gains = np.zeros(block, dtype=np.float32)
        self._steps = np.arange(1, block + 1, dtype=np.float32)

    def start(self, length: int) -> None:
        self.length, self.done = length, 0

    def stop(self) -> None:
        self.length = self.done = 0

    def __bool__(self) -> bool:
        return bool(self.length)

    @property
    def left(self) -> int:
        return self.length - self.done

    def gains(self, k: int, rising: bool) -> np.ndarray:
        """The next `k` frames' gains (the ramp's buffer: use before asking again)."""
        r = self._gains[:k]
        np.add(self._steps[:k], self.done, out=r)
        np.multiply(r, 1.0 / self.length, out=r)
        np.minimum(r, 1.0, out=r)
        if not rising:
            np.subtract(1.0, r, out=r)
        return r

    def advance(self, k: int) -> bool:
        """`k` frames played; True when that ended the fade (it is idle again)."""
        self.done += k
        if self.done < self.length:
            return False
        self.stop()
        return True


class Rest(Fade):
    """A fade to silence, and where it leaves the transport: in state `then` (or waiting
    for a jump's audio) at song frame `at`, with setlist position `select` chosen (None:
    the same song)."""

    def __init__(self, block: int) -> None:
        super().__init__(block)
        self.then, self.at = "", 0
        self.select: int | None = None

    def begin(self, length: int, then: str, at: int, select: int | None) -> None:
        self.start(length)
        self.then, self.at, self.select = then, at, select


def add_faded(seg: np.ndarray, tmp: np.ndarray, song: LoadedSong, frame: int,
              gains: np.ndarray, click: bool = True) -> None:
    """seg += song's mix at `frame`, times `gains` (one per frame); `tmp` is scratch."""
    k = seg.shape[0]
    tmp = tmp[:k]
    tmp.fill(0.0)
    song.mixer.mix_into(tmp, frame, click=click)
    np.multiply(tmp, gains[:, None], out=tmp)
    np.add(seg, tmp, out=seg)
