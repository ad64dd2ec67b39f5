"""Stems at another sample rate are resampled once, with soxr, into a cache.

soxr (the SoX resampler) is a well-tested, band-limited resampler; resampling
is done here, before playing, never in the audio thread. The cache entry is
keyed by the source file's path, size and mtime and the target rate, and is
written to a temporary name and renamed, so a power cut never leaves a
half-written entry that looks valid.

The cache's cap, its least-recently-used eviction and its free-space check are
cache.py's, shared with the key/tempo variants (variants.py).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf
import soxr

from .cache import HEADER_BYTES, CacheFull, entry, make_room, source_key, used
from .stems import StemInfo, sf_reason

QUALITY = "HQ"
CHUNK = 65536
_VERSION = "1"


class ResampleError(Exception):
    """A stem could not be resampled into the cache; the message says why, with numbers."""


def cache_path(info: StemInfo, rate: int, cache_dir: Path) -> Path:
    key = f"{source_key(info.spec.file)}|{rate}|{QUALITY}|{_VERSION}"
    return entry(cache_dir, f"{info.spec.file.resolve().stem}-{rate}", key, ".w64")


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
                used(target)
                return target
        except Exception:
            pass   # a damaged cache entry is simply made again
    needs = info.frames * info.channels * 4 + HEADER_BYTES
    try:
        make_room(target, needs, cap_mb)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        try:
            _resample(info, rate, tmp, progress)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except CacheFull as exc:
        raise ResampleError(str(exc)) from exc
    except OSError as exc:
        raise ResampleError(f"cannot write the cache {cache_dir}: {exc}") from exc
    except sf.SoundFileError as exc:
        raise ResampleError(f"cannot resample it: {sf_reason(exc)}") from exc
    used(target)
    return target


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
