"""A stick's `backline/sync.toml`: what a sync may do beyond adding and updating songs.

Both switches default to off, so a stick without the file can never delete anything on the
box or write anything onto itself."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import Problems
from ..tomlfields import Table, load_toml

SYNC_FILE = "sync.toml"


@dataclass(frozen=True)
class SyncSettings:
    mirror: bool = False              # songs and setlists not on the stick go to the trash
    export_recordings: bool = False   # finished takes are copied onto the stick


def read_settings(folder: Path, problems: Problems) -> SyncSettings:
    """The settings of `folder/sync.toml` (defaults when there is none). Any error in it
    leaves both switches off: a mistyped file must not delete songs or write the stick."""
    path = folder / SYNC_FILE
    if not path.exists() and not path.is_symlink():
        return SyncSettings()
    errors = len(problems.errors)
    data = load_toml(path, problems)
    if data is None:
        return SyncSettings()
    table = Table(data, file=path, where="", problems=problems)
    mirror = table.get("mirror", bool, False)
    export = table.get("export_recordings", bool, False)
    table.finish()
    if len(problems.errors) > errors:
        return SyncSettings()
    return SyncSettings(mirror=mirror, export_recordings=export)
