"""What the web remote does with the library's and the recordings' files itself (the
daemon's socket reads and writes setlists, and lists songs): a song moved to the
trash, takes listed and one of their files found. Every name from a request is checked
to be one plain folder or file name, so no request reaches outside these folders."""
from __future__ import annotations

import os
import time
import tomllib
from pathlib import Path

from ..audio.record.takes import TAKE_FILE
from ..timeline.library import Library
from ..timeline.song import SONG_FILE

TRASH_DIR = ".trash"


def plain_name(name: str) -> bool:
    """One folder or file name: no slash, not `.`/`..` or hidden, no NUL or newline."""
    return bool(name) and len(name) <= 255 and not name.startswith(".") and \
        not any(ch in name for ch in "/\\\0\n\r")


def trash_song(library: Path, name: str, *, now: float | None = None) -> Path | None:
    """The song's folder moved to `.trash/<time>/<name>` in the library (a rename on the
    same disk); None when there is no such song."""
    lib = Library(library)
    folder = lib.song_dir(name)
    if not plain_name(name) or not (folder / SONG_FILE).is_file():
        return None
    bin_ = Path(library) / TRASH_DIR / time.strftime("%Y-%m-%dT%H-%M-%S",
                                                     time.localtime(now))
    bin_.mkdir(parents=True, exist_ok=True)
    target = bin_ / name
    os.rename(folder, target)
    return target


def takes(recordings: Path) -> list[dict]:
    """Every take (a folder with take.toml): name, song, date, files, seconds."""
    listing = []
    if not Path(recordings).is_dir():
        return listing
    for folder in sorted(Path(recordings).iterdir()):
        meta_path = folder / TAKE_FILE
        if not meta_path.is_file():
            continue
        try:
            meta = tomllib.loads(meta_path.read_text())
        except (OSError, ValueError):
            continue
        rate = meta.get("rate") or 0
        frames = meta.get("frames")
        listing.append({
            "name": folder.name, "song": meta.get("song", ""), "date": meta.get("started", ""),
            "files": sorted(p.name for p in folder.glob("*.wav")),
            "seconds": round(frames / rate, 3) if rate and isinstance(frames, int) else None})
    return listing


def take_file(recordings: Path, name: str, file: str) -> Path | None:
    """One WAV of a take, or None."""
    if not (plain_name(name) and plain_name(file) and file.endswith(".wav")):
        return None
    path = Path(recordings) / name / file
    return path if (Path(recordings) / name / TAKE_FILE).is_file() and path.is_file() else None
