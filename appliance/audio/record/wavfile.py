"""Recorded takes: one WAV file per armed input, valid on disk at every sync.

A take must survive a power cut or kill -9. The data is appended unbuffered and the
header's sizes are rewritten for the frames written so far at every sync, then fsynced,
so the file on disk is a readable WAV up to the last sync (the caller syncs at least
once a second). A file growing past 4 GiB turns RF64 (EBU Tech 3306): the header keeps a
28-byte 'JUNK' chunk from the start, which becomes the 'ds64' chunk with 64-bit sizes,
so the header never changes length and the data never moves. A file left by a crash
(sizes behind the data) is set right by `repair` at the next start.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from struct import pack, unpack_from

import numpy as np

RF64_AT = 0xFFFFFFFF - (1 << 20)   # bytes of data after which the header becomes RF64 (a margin below 4 GiB)

WAVE_FORMAT_PCM = 1
WAVE_FORMAT_IEEE_FLOAT = 3
SUBTYPES = {"PCM_24": (WAVE_FORMAT_PCM, 3), "FLOAT": (WAVE_FORMAT_IEEE_FLOAT, 4)}   # tag, bytes
DS64_BYTES = 28           # riff size, data size, sample count (64-bit each), table length
NO_SIZE = 0xFFFFFFFF      # a 32-bit size field of an RF64 file: "see ds64"
PCM_24_FULL = 1 << 23
HEADER_SCAN = 4096        # repair looks for the data chunk this far into the file


@dataclass(frozen=True)
class _Format:
    tag: int
    channels: int
    rate: int
    width: int            # bytes per sample

    @property
    def block_align(self) -> int:
        return self.channels * self.width

    def fmt_body(self) -> bytes:
        """WAVEFORMAT for PCM; non-PCM formats carry cbSize (0) as the WAV spec asks."""
        body = pack("<HHIIHH", self.tag, self.channels, self.rate,
                    self.rate * self.block_align, self.block_align, 8 * self.width)
        return body if self.tag == WAVE_FORMAT_PCM else body + pack("<H", 0)


def _chunk(cid: bytes, body: bytes) -> bytes:
    return cid + pack("<I", len(body)) + body


def _header(fmt: _Format, data_len: int, rf64_at: int) -> bytes:
    """Everything before the samples, sized for data_len bytes; the same length either form."""
    rf64 = data_len > rf64_at
    frames = data_len // fmt.block_align
    fact = b"" if fmt.tag == WAVE_FORMAT_PCM else _chunk(b"fact", pack("<I", NO_SIZE if rf64 else frames))
    tail = _chunk(b"fmt ", fmt.fmt_body()) + fact + b"data"
    riff_size = 4 + 8 + DS64_BYTES + len(tail) + 4 + data_len
    if rf64:
        head = pack("<4sI4s", b"RF64", NO_SIZE, b"WAVE") + _chunk(
            b"ds64", pack("<QQQI", riff_size, data_len, frames, 0))
    else:
        head = pack("<4sI4s", b"RIFF", riff_size, b"WAVE") + _chunk(b"JUNK", bytes(DS64_BYTES))
    return head + tail + pack("<I", NO_SIZE if rf64 else data_len)


def _settle(fd: int, fmt: _Format, data_len: int, rf64_at: int) -> int:
    """Cut a partial trailing frame, write the sizes of what is left, fsync; returns the frames."""
    whole = data_len - data_len % fmt.block_align
    header = _header(fmt, whole, rf64_at)
    if whole != data_len:
        os.ftruncate(fd, len(header) + whole)
    os.pwrite(fd, header, 0)
    os.fsync(fd)
    return whole // fmt.block_align


class TakeFile:
    """One recorded input: a WAV file valid at every sync."""

    def __init__(self, path: Path, *, rate: int, channels: int = 1, subtype: str = "PCM_24",
                 rf64_at: int = RF64_AT) -> None:
        if subtype not in SUBTYPES:
            raise ValueError(f"subtype {subtype!r}: use one of {', '.join(SUBTYPES)}")
        tag, width = SUBTYPES[subtype]
        self.path = Path(path)
        self._fmt = _Format(tag, channels, rate, width)
        self._rf64_at = rf64_at
        self._data = 0    # bytes of samples that reached the file
        self._file = open(self.path, "xb", buffering=0)   # never overwrite a take
        try:
            self.sync()
        except OSError:   # not even a header (disk full): leave no empty take behind
            self._file.close()
            self.path.unlink()
            raise
        self._file.seek(0, os.SEEK_END)

    @property
    def frames(self) -> int:
        return self._data // self._fmt.block_align

    def write(self, block: np.ndarray) -> None:
        """Append a float32 block, (frames,) or (frames, channels). OSError (disk full) propagates;
        the bytes that did reach the file are counted, so close() still keeps every whole frame."""
        samples = block if block.ndim == 2 else block[:, np.newaxis]
        if samples.shape[1] != self._fmt.channels:
            raise ValueError(f"{self.path}: a block of {samples.shape[1]} channels "
                             f"for a {self._fmt.channels}-channel file")
        if self._fmt.tag == WAVE_FORMAT_PCM:
            ints = np.rint(np.clip(samples, -1.0, 1.0 - 1.0 / PCM_24_FULL) * PCM_24_FULL)
            data = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
        else:
            data = samples.astype("<f4").tobytes()
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            self._data += written
            view = view[written:]

    def sync(self) -> None:
        """Make the file on disk a valid WAV holding every frame written so far."""
        frames = _settle(self._file.fileno(), self._fmt, self._data, self._rf64_at)
        self._data = frames * self._fmt.block_align
        self._file.seek(0, os.SEEK_END)   # after a partial frame was cut

    def cut(self, frames: int) -> None:
        """Keep only the first `frames` (a take's files all end on the same frame) and sync."""
        keep = min(self._data, frames * self._fmt.block_align)
        if keep < self._data:
            os.ftruncate(self._file.fileno(), len(_header(self._fmt, 0, self._rf64_at)) + keep)
            self._data = keep
        self.sync()

    def close(self) -> None:
        """Sync and close; a second call does nothing."""
        if self._file.closed:
            return
        try:
            self.sync()
        finally:
            self._file.close()


def repair(path: Path, *, rf64_at: int = RF64_AT) -> int:
    """A file left by a crash (header sizes behind the data): sets the sizes from the file's
    length (a partial trailing frame is cut off), RF64 if the data passed rf64_at; returns
    the frames it now holds. ValueError naming the file when TakeFile did not write it."""
    with open(path, "r+b") as f:
        head = f.read(HEADER_SCAN)
        size = os.fstat(f.fileno()).st_size
        fmt, pos = None, 12
        if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
            while pos + 8 <= len(head) and head[pos:pos + 4] != b"data":
                cid, chunk_len = head[pos:pos + 4], unpack_from("<I", head, pos + 4)[0]
                if cid == b"fmt " and pos + 24 <= len(head):
                    tag, channels, rate, _, _, bits = unpack_from("<HHIIHH", head, pos + 8)
                    fmt = _Format(tag, channels, rate, bits // 8)
                pos += 8 + chunk_len + (chunk_len & 1)
        data_at = pos + 8
        if (fmt is None or (fmt.tag, fmt.width) not in SUBTYPES.values() or fmt.channels < 1
                or head[pos:pos + 4] != b"data" or len(_header(fmt, 0, rf64_at)) != data_at
                or size < data_at):
            raise ValueError(f"{path}: not a WAV/RF64 take written by the recorder")
        return _settle(f.fileno(), fmt, size - data_at, rf64_at)
