"""`backline sync`'s progress line on the display. The sync runs in its own process (udev's
unit, or by hand) and writes its line to the library's `.sync/status`; the service's loop
reads it each tick and hands it to the display.

The file is not trusted: only its first bytes are read, only its first line is kept, what
is not printable becomes "?", and a file that is not a regular file (a FIFO would block) or
cannot be read is no line. A status file no running sync holds (a sync killed, the power
cut mid-copy) is no line either: a sync holds `.sync`'s lock while it runs.
"""
from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

from ..songs.sync import STATUS_FILE, WORK_DIR

READ_MAX = 256         # bytes read of the status file: a line is far shorter
LINE_MAX = 40          # characters shown: the widest screen's line, and some


def read_status(library: Path) -> str:
    """The progress line of the sync running into `library` now, or ""."""
    work = Path(library) / WORK_DIR
    try:
        fd = os.open(work / STATUS_FILE, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        raw = os.read(fd, READ_MAX) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
    except OSError:
        raw = b""
    finally:
        os.close(fd)
    if not raw or not _running(work):
        return ""
    line = raw.decode("utf-8", "replace").split("\n", 1)[0]
    return "".join(ch if ch.isprintable() else "?" for ch in line).strip()[:LINE_MAX]


def _running(work: Path) -> bool:
    """Whether a sync holds the work folder's lock (songs/sync.py takes it while it runs)."""
    try:
        fd = os.open(work, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)   # released when fd closes
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def show_sync(library: Path, front) -> None:
    """The sync's line to the front panel's display, if it has one (`front`: a FrontPanel)."""
    display = front.display if front is not None else None
    if display is not None:
        display.sync = read_status(library)
