"""Folders and files brought into the library so that a stick pulled mid-copy or a power cut
leaves the old version or the new one, never half of one: each file is copied into a
staging folder on the library's own disk, checked against the source (its size, and a
BLAKE2 checksum of what was read against one of what was written), and only then renamed
into place.

A file is unchanged when its size and modification time (to the nanosecond) equal the
source's: every copy takes its source's time, so this holds after a sync, and no stem is
read in full again. (A checksum per sync would read every stem off the stick each time.)
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Callable

COPY_BYTES = 1 << 20          # bytes per read when copying and verifying


class CopyError(Exception):
    """A file that could not be copied whole: `file`, and `why` in words."""

    def __init__(self, file: Path, why: str) -> None:
        super().__init__(f"{file}: {why}")
        self.file, self.why = file, why


def signature(path: Path) -> tuple[int, int]:
    """(size, mtime in ns): what says a file is unchanged."""
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def unchanged(src: Path, dest: Path) -> bool:
    try:
        return dest.is_file() and signature(src) == signature(dest)
    except OSError:
        return False


def _digest(path: Path) -> bytes:
    h = hashlib.blake2b()
    with open(path, "rb") as f:
        while block := f.read(COPY_BYTES):
            h.update(block)
    return h.digest()


def copy_verified(src: Path, dest: Path, size: int, tick: Callable[[int], None]) -> None:
    """`src` (listed with `size` bytes) copied to the new file `dest`, fsynced, read back and
    checked; its modification time set to the source's. CopyError when the source changed,
    vanished or could not be read (dest may be left: the staging folder is removed)."""
    h = hashlib.blake2b()
    copied = 0
    try:
        with open(src, "rb") as fin, open(dest, "xb") as fout:
            while block := fin.read(COPY_BYTES):
                h.update(block)
                fout.write(block)
                copied += len(block)
                tick(len(block))
            fout.flush()
            os.fsync(fout.fileno())
        now = src.stat()             # by path: a file removed while it was read is gone
    except OSError as exc:
        raise CopyError(src, f"cannot be copied: {exc.strerror or exc}") from exc
    if copied != size or now.st_size != size:
        raise CopyError(src, f"changed while it was copied ({size} bytes listed, "
                             f"{copied} read, {now.st_size} now)")
    try:
        written = _digest(dest)
    except OSError as exc:
        raise CopyError(dest, f"cannot be read back: {exc.strerror or exc}") from exc
    if written != h.digest():
        raise CopyError(dest, f"what was written differs from {src}")
    os.utime(dest, ns=(now.st_atime_ns, now.st_mtime_ns))


def stage_folder(src: Path, files: dict[str, int], old: Path | None, stage: Path,
                 tick: Callable[[int], None], before: Callable[[Path], None]) -> None:
    """`stage` made to hold `files` (relative path -> size) of `src`: a file unchanged in the
    library's `old` version is hard-linked from it (no copy), the others copied and verified.
    `before(file)` is called with each source file just before it is copied."""
    for rel, size in files.items():
        target = stage / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if old is not None and unchanged(src / rel, old / rel):
            try:
                os.link(old / rel, target)
                continue
            except OSError:
                pass                    # a disk without hard links: copy it
        before(src / rel)
        copy_verified(src / rel, target, size, tick)
    sync_folder(stage)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so the names in it survive a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def swap_in(stage: Path, dest: Path, old: Path) -> None:
    """`stage` becomes `dest`: a file by one rename over it; a folder after an existing
    `dest` is renamed to `old` (then deleted). Open files of the old version stay valid: a
    rename or an unlink never touches a file a process holds open (the playing song's stems)."""
    if stage.is_file():
        os.replace(stage, dest)
        sync_folder(dest.parent)
        return
    if dest.exists():
        old.parent.mkdir(parents=True, exist_ok=True)
        os.rename(dest, old)
    os.rename(stage, dest)
    sync_folder(dest.parent)
    remove(old)


def remove(path: Path) -> None:
    """A file or folder gone, if there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)
