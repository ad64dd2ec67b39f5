"""The box's cache of made stems (resampled copies, key/tempo variants): what both kinds share.

An entry is named by a digest of what it is made from: the source file's path, size and
mtime (a changed stem makes a new entry) and whatever else shapes it. Every use sets the
entry's access time, so when the cache would pass its cap (`[library] cache_mb`) the
entries used least recently go first; the disk's free space is checked before an entry is
made, so a full cache disk is refused with the numbers rather than failing halfway.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

HEADER_BYTES = 4096      # a WAV/W64 header, and then some
MB = 1 << 20
ENTRIES = ("*.w64", "*.wav")     # what the cache holds; a name starting "." is being written


class CacheFull(Exception):
    """An entry does not fit: the message says how much it needs and what there is."""


def source_key(path: Path) -> str:
    """A stem's content identity as the cache sees it: path, size and mtime."""
    src = Path(path).resolve()
    st = src.stat()
    return f"{src}|{st.st_size}|{st.st_mtime_ns}"


def entry(cache_dir: Path, name: str, key: str, suffix: str) -> Path:
    """The cache file for `key`, named so a person can tell whose it is."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return Path(cache_dir) / f"{name}-{digest}{suffix}"


def make_room(target: Path, needs: int, cap_mb: int | None) -> None:
    """Make `needs` bytes of room for `target`: least recently used entries go while the
    cache would pass its cap; CacheFull when it cannot fit the cap or the disk."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if cap_mb is not None:
        if needs > cap_mb * MB:
            raise CacheFull(f"needs {mb(needs)}, more than the cache may hold "
                            f"({cap_mb} MB, [library] cache_mb)")
        _evict(target.parent, cap_mb * MB - needs, keep=target)
    free = shutil.disk_usage(target.parent).free
    if needs > free:
        raise CacheFull(f"needs {mb(needs)}, the cache's disk has {mb(free)} free")


def mb(n: int) -> str:
    return f"{n / MB:.1f} MB"


def used(path: Path) -> None:
    """Mark a cache entry as used now (its access time; the mtime stays the entry's age)."""
    try:
        os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns))
    except OSError:
        pass    # a read-only cache still plays


def _evict(cache_dir: Path, room: int, keep: Path) -> None:
    """Remove the least recently used entries until the rest take at most `room` bytes."""
    entries = []
    for p in (p for pattern in ENTRIES for p in cache_dir.glob(pattern)):
        if p != keep and not p.name.startswith("."):
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
