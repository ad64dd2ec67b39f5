"""Problems with the musician's files: one line each, naming the file and the field.

Bad input must never surface as a traceback on stage; every loader collects
`Problem`s instead of raising, so `backline check` can list them all at once
and the player can go on with what is valid.
"""
from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of one file."""

    file: Path
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        field = f"{self.field}: " if self.field else ""
        return f"{self.file}: {kind}{field}{self.message}"


class BacklineError(Exception):
    """A problem that stops the current job (not the daemon). `problems`: every problem
    found on the way, warnings included, for the caller to show (by default the one)."""

    def __init__(self, problem: Problem, problems: Problems | None = None) -> None:
        super().__init__(str(problem))
        self.problem = problem
        self.problems: Problems = problems if problems is not None else Problems([problem])


class Problems(list):
    """The list every loader appends to; errors and warnings together."""

    def error(self, file: Path, field: str, message: str) -> None:
        self.append(Problem(Path(file), field, message))

    def warn(self, file: Path, field: str, message: str) -> None:
        self.append(Problem(Path(file), field, message, warning=True))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self if not p.warning]


def not_a_file(path: Path, missing: str = "not found") -> str | None:
    """Why `path` is no regular file (`missing`, "is a folder", "is a FIFO" ...), or None.

    Asked before anything is opened: opening a FIFO or a device would block `check`, the
    loader or the daemon, and "not found" for a folder or a symlink loop misleads."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "is a broken symlink" if os.path.islink(path) else missing
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symlink loop"
        return f"cannot be read: {exc.strerror or exc}"
    return _kind(mode)


def _kind(mode: int) -> str | None:
    """What a stat mode is, said as `not_a_file` says it; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder"
    if stat.S_ISFIFO(mode):
        return "is a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    return "is not a regular file"


def read_text(path: Path, problems: Problems) -> str | None:
    """A musician's text file, or None with the reason recorded (missing, not a regular
    file, unreadable, not UTF-8)."""
    why = not_a_file(path, "file not found")
    if why is not None:
        problems.error(path, "", why)
        return None
    try:
        # O_NONBLOCK: should it have become a FIFO since the stat, the open still returns
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), encoding="utf-8") as f:
            why = _kind(os.fstat(f.fileno()).st_mode)
            if why is not None:
                problems.error(path, "", why)
                return None
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        problems.error(path, "", f"cannot read: {exc}")
    return None
