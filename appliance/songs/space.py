"""Room on the disks before an import or a sync writes anything, with the recorder's share kept.

The recorder must never be the one to find the disk full mid-take, so an import or a sync
leaves RECORD_MARGIN_S of recording of every configured input (at least a stereo pair, at
the box's rate, in its take format) free on the recordings' disk, when it is the one
written to. One policy for both: the musician reads one number in either refusal.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

from ..audio.disk.cache import MB
from ..config import Config

RECORD_MARGIN_S = 3600       # an hour of takes with every input armed

Free = Callable[[Path], int]


def mb(n: int) -> str:
    return f"{n / MB:.1f} MB"


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
    """Bytes kept free for takes: RECORD_MARGIN_S seconds of every configured input (at
    least a stereo pair) in the configured take format."""
    width = 4 if config.record_format == "FLOAT" else 3
    return RECORD_MARGIN_S * config.rate * max(len(config.inputs), 2) * width


def shortfall(needs: dict[Path, int], config: Config, free: Free = disk_free,
              margin: int | None = None) -> str | None:
    """Why the bytes `needs` (per folder written to) do not fit, with the numbers; None
    when they do. Folders on one disk are added up; the recordings' disk keeps the
    recorder's margin (`margin`: these bytes kept free on every disk written to instead)."""
    by_disk: dict[int, list] = {}
    for folder, n in needs.items():
        entry = by_disk.setdefault(_device(folder), [folder, 0])
        entry[1] += n
    rec_disk = _device(config.recordings)
    for disk, (folder, n) in by_disk.items():
        kept = margin if margin is not None else \
            recorder_margin(config) if disk == rec_disk else 0
        have = free(folder)
        if n + kept > have:
            also = f" + {mb(kept)} kept for the recorder" if kept else ""
            return (f"not enough room on the disk of {folder}: needs {mb(n)}{also}, "
                    f"{mb(have)} free")
    return None
