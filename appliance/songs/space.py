"""Room on the disks before an import or sync writes anything, with the recorder's share kept.

The recorder must never be the one to find the disk full mid-take, so an import leaves
RECORD_MARGIN_S of recording of every configured input (at the box's rate and sample
size; at least MIN_MARGIN) free on the recordings' disk, when it is the one written to.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

from ..config import Config
from .room import mb

RECORD_MARGIN_S = 3600       # an hour of takes
MIN_MARGIN = 256 << 20       # bytes: the margin when the box records few or no inputs

Free = Callable[[Path], int]


def disk_free(path: Path) -> int:
    return shutil.disk_usage(_existing(path)).free


def _existing(path: Path) -> Path:
    """The nearest folder of `path` that exists (a library not made yet is on its parent's disk)."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _device(path: Path) -> int:
    return os.stat(_existing(path)).st_dev


def recorder_margin(config: Config) -> int:
    size = 4 if config.record_format == "FLOAT" else 3
    return max(MIN_MARGIN, RECORD_MARGIN_S * config.rate * len(config.inputs or {}) * size)


def shortfall(needs: dict[Path, int], config: Config, free: Free = disk_free) -> str | None:
    """Why the bytes `needs` (per folder written to) do not fit, with the numbers; None
    when they do. Folders on one disk are added up; the recordings' disk keeps its margin."""
    by_disk: dict[int, list] = {}
    for folder, n in needs.items():
        entry = by_disk.setdefault(_device(folder), [folder, 0])
        entry[1] += n
    rec_disk = _device(config.recordings)
    for disk, (folder, n) in by_disk.items():
        margin = recorder_margin(config) if disk == rec_disk else 0
        have = free(folder)
        if n + margin > have:
            kept = f" + {mb(margin)} kept for the recorder" if margin else ""
            return (f"not enough room on the disk of {folder}: needs {mb(n)}{kept}, "
                    f"{mb(have)} free")
    return None
