"""Stems at another sample rate are resampled once, with soxr, into a cache.

soxr (the SoX resampler) is a well-tested, band-limited resampler; resampling
is done here, before playing, never in the audio thread. The cache entry is
keyed by the source file's path, size and mtime and the target rate, and is
written to a temporary name and renamed, so a power cut never leaves a
half-written entry that looks valid.

The cache is capped (`[library] cache_mb`): before an entry is made, the entries used
least recently (their access time, set on every use) are removed until it fits, and
the disk's free space is checked, so a full cache disk is refused with the numbers
rather than failing halfway through a stem.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf
import soxr

from .stems import StemInfo, sf_reason

QUALITY = "HQ"
CHUNK = 65536
_VERSION = "1"
HEADER_BYTES = 4096      # a W64 header, and then some
MB = 1 << 20


class ResampleError(Exception):
    """A stem could not be resampled into the cache; the message says why, with numbers."""


def cache_path(info: StemInfo, rate: int, cache_dir: Path) -> Path:
    src = info.spec.file.resolve()
    st = src.stat()
    key = f"{src}|{st.st_size}|{st.st_mtime_ns}|{rate}|{QUALITY}|{_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return Path(cache_dir) / f"{src.stem}-{rate}-{digest}.w64"


def playable_path(info: StemInfo, rate: int, cache_dir: Path,
                  progress: Callable[[int], None] | None = None,
                  cap_mb: int | None = None) -> Path:
    """The file to stream: the stem itself, or its resampled copy (made now if needed).
    ResampleError when it cannot be made (too big for the cache, no room, unreadable)."""
    if info.source_rate == rate:
        return info.spec.file
    target = cache_path(info, rate, cache_dir)
    if target.exists():
        try:
            if sf.info(str(target)).frames == info.frames:
                _used(target)
                return target
        except Exception:
            pass   # a damaged cache entry is simply made again
    needs = info.frames * info.channels * 4 + HEADER_BYTES
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if cap_mb is not None:
            if needs > cap_mb * MB:
                raise ResampleError(f"needs {_mb(needs)}, more than the cache may hold "
                                    f"({cap_mb} MB, [library] cache_mb)")
            _evict(target.parent, cap_mb * MB - needs, keep=target)
        free = shutil.disk_usage(target.parent).free
        if needs > free:
            raise ResampleError(f"needs {_mb(needs)}, the cache's disk has {_mb(free)} free")
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        try:
            _resample(info, rate, tmp, progress)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise ResampleError(f"cannot write the cache {cache_dir}: {exc}") from exc
    except sf.SoundFileError as exc:
        raise ResampleError(f"cannot resample it: {sf_reason(exc)}") from exc
    _used(target)
    return target


def _mb(n: int) -> str:
    return f"{n / MB:.1f} MB"


def _used(path: Path) -> None:
    """Mark a cache entry as used now (its access time; the mtime stays the entry's age)."""
    try:
        os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns))
    except OSError:
        pass    # a read-only cache still plays


def _evict(cache_dir: Path, room: int, keep: Path) -> None:
    """Remove the least recently used entries until the rest take at most `room` bytes."""
    entries = []
    for p in cache_dir.glob("*.w64"):
        if p != keep:
            try:
                st = p.stat()
            except OSError:
                continue
            entries.append((st.st_atime_ns, st.st_size, p))
    entries.sort()
    total = sum(size for _, size, _ in entries)
    for _, size, p in entries:
        if total <= room:
            break
        p.unlink(missing_ok=True)     # a song playing it keeps its open file
        total -= size


def _resample(info: StemInfo, rate: int, dest: Path,
              progress: Callable[[int], None] | None) -> None:
    stream = soxr.ResampleStream(info.source_rate, rate, info.channels, dtype="float32",
                                 quality=QUALITY)
    written = 0
    with sf.SoundFile(str(info.spec.file)) as src, \
            sf.SoundFile(str(dest), "w", rate, info.channels, subtype="FLOAT", format="W64") as out:
        buf = np.empty((CHUNK, info.channels), dtype=np.float32)
        done = 0
        while True:
            got = src.read(CHUNK, dtype="float32", out=buf)
            n = got.shape[0]
            done += n
            last = done >= info.source_frames or n == 0
            y = stream.resample_chunk(got, last=last)
            y = y[: info.frames - written]
            out.write(y)
            written += y.shape[0]
            if progress:
                progress(n)
            if last:
                break
        if written < info.frames:   # soxr may give a frame less than the rounded length
            out.write(np.zeros((info.frames - written, info.channels), dtype=np.float32))
