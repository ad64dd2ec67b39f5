"""Room on the library's disk: a sync (or an import) that would leave the recorder too little
is refused up front with the numbers, instead of failing halfway or filling the disk a take
needs."""
from __future__ import annotations

import shutil
from pathlib import Path

from ..audio.disk.cache import MB
from ..config import Config

RECORDER_MARGIN_S = 30 * 60   # a set's worth of takes with every input armed stays free


def recorder_margin(config: Config) -> int:
    """Bytes kept free for takes: RECORDER_MARGIN_S seconds of every configured input (at
    least a stereo pair) in the configured take format."""
    width = 4 if config.record_format == "FLOAT" else 3
    return RECORDER_MARGIN_S * max(len(config.inputs), 2) * config.rate * width


def mb(n: int) -> str:
    return f"{n / MB:.1f} MB"


def room_problem(folder: Path, needed: int, margin: int) -> str | None:
    """Why `needed` bytes cannot go onto `folder`'s disk while keeping `margin` free, with
    the numbers; None when they fit."""
    free = shutil.disk_usage(folder).free
    if needed + margin <= free:
        return None
    return (f"not enough space: {mb(needed)} needed, {mb(free)} free, and {mb(margin)} "
            f"is kept free for recording")
