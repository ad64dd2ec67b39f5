"""`backline sync PATH`: the songs and setlists of a USB stick's (or any folder's) `backline/`
folder brought into the library, and the finished takes optionally copied back.

Everything is checked before anything changes: each new or changed song is validated as
`backline check` validates it (a song that fails is reported and its old version kept), each
setlist against the songs the library will have, the room on the disk against what will be
copied. Then every file is staged in the library's `.sync/` folder and verified; only when
all of them are there are the songs renamed into place, so a stick pulled mid-copy leaves
the library as it was. A song the daemon is playing keeps playing its old files (they stay
open; see `staging.swap_in`) and the new version is what it loads next.
"""
from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from ..audio.disk.loaded import validate_song
from ..config import Config
from ..errors import BacklineError, Problems
from ..files import replace_file
from ..timeline.library import Library
from ..timeline.setlist import SUFFIX, load_setlist
from .export import export_takes
from .space import mb, shortfall
from .staging import CopyError, copy_verified, remove, stage_folder, swap_in, sync_folder, \
    unchanged
from .sync_settings import SyncSettings, read_settings

STICK_DIR = "backline"        # on the stick: songs/, setlists/, import/, recordings/, sync.toml
IMPORT_DIR = "import"
WORK_DIR = ".sync"            # in the library: staging, old versions, trash, the status line
STATUS_FILE = "status"        # the progress line, for the display; gone when the sync ends


@dataclass(frozen=True)
class Progress:
    done: int                 # bytes copied so far
    total: int                # bytes to copy
    file: Path | None         # the source file about to be copied; None when all are

    def line(self) -> str:
        pct = 100 * self.done // self.total if self.total else 100
        what = f": {self.file.name}" if self.file else ""
        return f"sync {pct}% ({mb(self.done)} of {mb(self.total)}){what}"


@dataclass
class _Item:
    """A song folder or a setlist file to bring in."""
    src: Path
    dest: Path
    files: dict[str, int]     # relative path -> size ({"": size} for a setlist)

    @property
    def label(self) -> str:
        return f"{self.dest.parent.name}/{self.dest.name}"


@dataclass
class SyncResult:
    problems: Problems = field(default_factory=Problems)
    said: list[str] = field(default_factory=list)     # what was done, a line each
    copied: int = 0                                   # bytes
    export_blocked: bool = False   # export_recordings asked of a read-only stick


def sync(source: Path, library: Path, config: Config, *, dry_run: bool = False,
         margin: int | None = None,
         progress: Callable[[Progress], None] = lambda p: None) -> SyncResult:
    """Sync `source/backline/` into `library` (see the module's docstring). `margin`: bytes
    kept free on the library's disk (default: the recorder's, on the recordings' disk)."""
    result = SyncResult()
    stick = Path(source) / STICK_DIR
    if not stick.is_dir():
        result.problems.error(stick, "", "no such folder: a stick needs a backline/ folder "
                                         "(songs/, setlists/, sync.toml)")
        return result
    settings = read_settings(stick, result.problems)
    lib = Library(library)
    work = lib.path / WORK_DIR
    if not dry_run:
        work.mkdir(parents=True, exist_ok=True)
        lock = os.open(work, os.O_RDONLY)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)     # one sync at a time (two sticks plugged in)
            _tidy(work, lib.songs_dir)
            _run(stick, lib, config, settings, result, margin, progress, dry_run)
        finally:
            remove(work / STATUS_FILE)
            os.close(lock)
    else:
        _run(stick, lib, config, settings, result, margin, progress, dry_run)
    return result


def _run(stick: Path, lib: Library, config: Config, settings: SyncSettings, result: SyncResult,
         margin: int | None, progress: Callable[[Progress], None], dry_run: bool) -> None:
    songs, stick_songs = _songs(stick, lib, config, result)
    setlists, stick_setlists = _setlists(stick, lib, stick_songs, result)
    import_folders(stick / IMPORT_DIR, lib.path, config, result, dry_run)
    items = songs + setlists
    needed = sum(_to_copy(i) for i in items)
    if items and not dry_run:
        why = shortfall({lib.path: needed}, config, margin=margin)
        if why:
            result.problems.error(lib.path, "", why)
            return
    if dry_run:
        result.said += [f"would copy {i.label} ({mb(_to_copy(i))})" for i in items]
    elif items and not _bring_in(items, lib, needed, result, progress):
        return
    if settings.mirror:
        _mirror(lib, stick_songs, stick_setlists, result, dry_run)
    if settings.export_recordings:
        result.export_blocked = export_takes(config.recordings, stick / "recordings", result.said,
                                             result.problems, dry_run)


def _visible(folder: Path) -> list[Path]:
    """A folder's entries by name, without hidden ones (a Mac's `._x.wav` and `.DS_Store`)."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) \
        if folder.is_dir() else []


def _files(folder: Path) -> dict[str, int]:
    """Every regular file under `folder` (hidden ones left out): relative path -> size."""
    found = {}
    for here, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(n for n in names if not n.startswith(".")):
            path = Path(here) / name
            if path.is_file():
                found[str(path.relative_to(folder))] = path.stat().st_size
    return found


def _same(item: _Item) -> bool:
    """The library already has exactly these files, each unchanged."""
    if item.dest.is_dir():
        return set(_files(item.dest)) == set(item.files) and \
            all(unchanged(item.src / rel, item.dest / rel) for rel in item.files)
    return unchanged(item.src, item.dest)


def _to_copy(item: _Item) -> int:
    """Bytes this item adds to the disk: the files that cannot be linked from the old one."""
    if item.dest.is_dir():
        return sum(size for rel, size in item.files.items()
                   if not unchanged(item.src / rel, item.dest / rel))
    return sum(item.files.values())


def _songs(stick: Path, lib: Library, config: Config,
           result: SyncResult) -> tuple[list[_Item], set[str]]:
    """The stick's songs that are new or changed and pass validation; and the names of all
    the stick's song folders (a failing song's old version is not the trash's either)."""
    items, names = [], set()
    for src in (p for p in _visible(stick / "songs") if p.is_dir()):
        names.add(src.name)
        item = _Item(src, lib.song_dir(src.name), _files(src))
        if _same(item):
            continue
        found = Problems()
        if validate_song(src, config, found) is None or found.errors:
            result.problems += found
            kept = "the old version kept" if item.dest.exists() else "not copied"
            result.said.append(f"songs/{src.name}: fails validation: {kept}")
            continue
        result.problems += found                 # warnings: said, and the song comes in
        items.append(item)
    return items, names


def _setlists(stick: Path, lib: Library, stick_songs: set[str],
              result: SyncResult) -> tuple[list[_Item], set[str]]:
    """The stick's new or changed setlists whose every song the library will have."""
    songs = set(lib.song_names()) | stick_songs
    items, names = [], set()
    for src in (p for p in _visible(stick / "setlists") if p.suffix == SUFFIX):
        names.add(src.name)
        item = _Item(src, lib.setlist_path(src.stem), {"": src.stat().st_size})
        if _same(item):
            continue
        found = Problems()
        load_setlist(src, songs, found)
        result.problems += found
        if found.errors:
            result.said.append(f"setlists/{src.name}: fails validation: "
                               + ("the old version kept" if item.dest.exists() else "not copied"))
            continue
        items.append(item)
    return items, names


def import_folders(folder: Path, library: Path, config: Config, result: SyncResult,
                   dry_run: bool) -> None:
    """The stick's `import/` folders of bare DAW exports, each made a song as `backline
    import` makes it (the tempo from a MIDI file or a click track in the folder); one that
    cannot be is said, naming the folder, and the rest go on."""
    from .importer import import_folder      # resampling and loudness: only when asked

    for src in (p for p in _visible(folder) if p.is_dir()):
        try:
            done = import_folder(src, library, config=config, dry_run=dry_run)
        except BacklineError as exc:
            result.problems.error(src, "", str(exc))
            continue
        result.problems.extend(done.problems)
        verb = "would import" if dry_run else "imported"
        result.said.append(f"{IMPORT_DIR}/{src.name}: {verb} as {done.song_dir.name} "
                           f"({len(done.stems)} stems; tempo: {done.tempo_note})")


def _bring_in(items: list[_Item], lib: Library, total: int, result: SyncResult,
              progress: Callable[[Progress], None]) -> bool:
    """Stage and verify every item, then rename them all into place. False (the library
    as it was, the staging removed) when any file cannot be copied whole."""
    work = lib.path / WORK_DIR
    stage = work / "stage"
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n

    def before(file: Path) -> None:
        _status(work, Progress(done, total, file), progress)
    try:
        for i, item in enumerate(items):
            here = stage / str(i)
            if item.dest.suffix == SUFFIX:
                here.mkdir(parents=True)
                before(item.src)
                copy_verified(item.src, here / item.dest.name, item.files[""], tick)
            else:
                stage_folder(item.src, item.files, item.dest if item.dest.is_dir() else None,
                             here, tick, before)
    except CopyError as exc:
        remove(stage)
        result.problems.error(exc.file, "", f"{exc.why}: nothing changed in the library")
        return False
    except OSError as exc:              # the library's own disk
        remove(stage)
        result.problems.error(Path(exc.filename or stage), "",
                              f"{exc.strerror or exc}: nothing changed in the library")
        return False
    _status(work, Progress(done, total, None), progress)
    for folder in (lib.songs_dir, lib.path / "setlists"):
        folder.mkdir(parents=True, exist_ok=True)
    for i, item in enumerate(items):
        staged = stage / str(i)
        new = staged / item.dest.name if item.dest.suffix == SUFFIX else staged
        verb = "updated" if item.dest.exists() else "added"
        swap_in(new, item.dest, work / "old" / item.dest.name)
        result.said.append(f"{item.label}: {verb}")
    remove(stage)
    result.copied = done
    return True


def _status(work: Path, p: Progress, progress: Callable[[Progress], None]) -> None:
    """The progress line for the display (`.sync/status`), and for the caller."""
    try:
        replace_file(work / STATUS_FILE, p.line() + "\n")
    except OSError:
        pass                           # the display misses a line; the sync goes on
    progress(p)


def _mirror(lib: Library, songs: set[str], setlists: set[str], result: SyncResult,
            dry_run: bool) -> None:
    """`mirror = true`: what is not on the stick goes to `.sync/trash/<time>/`, recoverable
    by moving it back (a musician deletes the trash when sure)."""
    gone = [p for p in _visible(lib.songs_dir) if p.is_dir() and p.name not in songs]
    gone += [p for p in lib.setlist_paths() if p.name not in setlists]
    trash = lib.path / WORK_DIR / "trash" / f"{datetime.now():%Y-%m-%dT%H-%M-%S}"
    for path in gone:
        label = f"{path.parent.name}/{path.name}"
        if dry_run:
            result.said.append(f"would move {label} to the trash (mirror = true)")
            continue
        (trash / path.parent.name).mkdir(parents=True, exist_ok=True)
        os.rename(path, trash / path.parent.name / path.name)
        result.said.append(f"{label}: moved to {trash / path.parent.name / path.name} "
                           "(mirror = true)")
    if gone and not dry_run:
        sync_folder(lib.songs_dir)


def _tidy(work: Path, songs_dir: Path) -> None:
    """What a sync cut short by a power cut left: a song between its two renames comes
    back, the staging and old versions go."""
    for old in _visible(work / "old"):
        if old.is_dir() and not (songs_dir / old.name).exists():
            os.rename(old, songs_dir / old.name)
    remove(work / "stage")
    remove(work / "old")
