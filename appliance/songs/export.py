"""`export_recordings = true`: finished takes copied onto the stick's `backline/recordings/`,
each staged under a hidden name, verified and renamed, so a pulled stick never holds half a
take under its real name. A take still being written (its take.toml says `complete = false`,
or there is none yet) is left for the next sync; one already on the stick is not copied
again."""
from __future__ import annotations

import os
from pathlib import Path

from ..audio.record.takes import TAKE_FILE
from ..errors import Problems
from ..tomlfields import load_toml
from .staging import CopyError, remove, stage_folder, unchanged


def _finished(take: Path) -> bool:
    meta = load_toml(take / TAKE_FILE, Problems()) if (take / TAKE_FILE).is_file() else None
    return bool(meta) and meta.get("complete") is True


def _read_only(folder: Path) -> bool:
    return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)


def export_takes(recordings: Path, dest: Path, said: list[str], problems: Problems,
                 dry_run: bool) -> bool:
    """Copy the new finished takes of `recordings` into `dest`; True when the stick is
    read-only and takes were waiting (the caller mounts it writable and runs again)."""
    takes = [t for t in sorted(recordings.iterdir()) if t.is_dir() and not t.name.startswith(".")] \
        if recordings.is_dir() else []
    for take in takes:
        if not _finished(take):
            said.append(f"recordings/{take.name}: still being written (or unfinished: "
                        "`backline recover`): left for the next sync")
            continue
        files = {str(p.relative_to(take)): p.stat().st_size
                 for p in sorted(take.rglob("*")) if p.is_file()}
        there = dest / take.name
        if there.is_dir() and all(unchanged(take / rel, there / rel) for rel in files):
            continue
        if dry_run:
            said.append(f"would copy recordings/{take.name} to the stick")
            continue
        if _read_only(dest.parent):
            said.append(f"{dest.parent}: read-only: takes not exported")
            return True
        stage = dest / f".{take.name}.part"
        try:
            dest.mkdir(exist_ok=True)
            remove(stage)
            stage_folder(take, files, None, stage, lambda n: None, lambda f: None)
            remove(there)
            os.rename(stage, there)
        except (CopyError, OSError) as exc:
            remove(stage)
            problems.error(there, "", f"the take cannot be exported: {exc}")
            return False
        said.append(f"recordings/{take.name}: exported")
    return False
