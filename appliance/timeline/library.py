"""A library folder: `songs/<name>/song.toml` and `setlists/<name>.setlist`."""
from __future__ import annotations

from pathlib import Path

from ..errors import Problems
from .setlist import SUFFIX, Setlist, load_setlist
from .song import SONG_FILE

SONGS = "songs"
SETLISTS = "setlists"


class Library:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def songs_dir(self) -> Path:
        return self.path / SONGS

    def song_names(self) -> list[str]:
        if not self.songs_dir.is_dir():
            return []
        return sorted(p.name for p in self.songs_dir.iterdir() if (p / SONG_FILE).is_file())

    def song_dir(self, name: str) -> Path:
        return self.songs_dir / name

    def setlist_paths(self) -> list[Path]:
        folder = self.path / SETLISTS
        return sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []

    def setlist_path(self, name: str) -> Path:
        return self.path / SETLISTS / f"{name}{SUFFIX}"

    def setlist(self, path: Path, problems: Problems) -> Setlist | None:
        return load_setlist(path, set(self.song_names()), problems)
