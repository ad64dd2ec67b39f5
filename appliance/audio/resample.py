"""Stems at another sample rate are resampled once, with soxr, into a cache.

soxr (the SoX resampler) is a well-tested, band-limited resampler; resampling
is done here, before playing, never in the audio thread. The cache entry is
keyed by the source file's path, size and mtime and the target rate, and is
written to a temporary name and renamed, so a power cut never leaves a
half-written entry that looks valid.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf
import soxr

from .stems import StemInfo

QUALITY = "HQ"
CHUNK = 65536
_VERSION = "1"


def cache_path(info: StemInfo, rate: int, cache_dir: Path) -> Path:
    src = info.spec.file.resolve()
    st = src.stat()
    key = f"{src}|{st.st_size}|{st.st_mtime_ns}|{rate}|{QUALITY}|{_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return Path(cache_dir) / f"{src.stem}-{rate}-{digest}.w64"


def playable_path(info: StemInfo, rate: int, cache_dir: Path,
                  progress: Callable[[int], None] | None = None) -> Path:
    """The file to stream: the stem itself, or its resampled copy (made now if needed)."""
    if info.source_rate == rate:
        return info.spec.file
    target = cache_path(info, rate, cache_dir)
    if target.exists():
        try:
            if sf.info(str(target)).frames == info.frames:
                return target
        except Exception:
            pass   # a damaged cache entry is simply made again
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    try:
        _resample(info, rate, tmp, progress)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
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
