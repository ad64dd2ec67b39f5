"""One daemon per state folder: two would both play and both write the same temp file.

The lock is `flock` on a file in the state file's folder; the kernel lets go of it when
the process ends, however it ends, so a crash never leaves a stale lock. The file holds
the holder's pid so the second daemon can say who is playing.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

LOCK_NAME = "backline.lock"


class InUse(Exception):
    """Another daemon holds the state folder."""


def hold_state_folder(state_path: Path) -> IO[str]:
    """The open, locked lock file (keep it open while running); InUse when taken."""
    folder = Path(state_path).parent
    folder.mkdir(parents=True, exist_ok=True)
    lock = open(folder / LOCK_NAME, "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        pid = lock.read().strip() or "unknown"
        lock.close()
        raise InUse(f"state folder {folder} is in use by backline (pid {pid})") from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock
