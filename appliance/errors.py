"""Problems with the musician's files: one line each, naming the file and the field.

Bad input must never surface as a traceback on stage; every loader collects
`Problem`s instead of raising, so `backline check` can list them all at once
and the player can go on with what is valid.
"""
from __future__ import annotations

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
    """A problem that stops the current job (not the daemon)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class Problems(list):
    """The list every loader appends to; errors and warnings together."""

    def error(self, file: Path, field: str, message: str) -> None:
        self.append(Problem(Path(file), field, message))

    def warn(self, file: Path, field: str, message: str) -> None:
        self.append(Problem(Path(file), field, message, warning=True))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self if not p.warning]


def read_text(path: Path, problems: Problems) -> str | None:
    """A musician's text file, or None with the reason recorded (missing, unreadable, not UTF-8)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.error(path, "", "file not found")
    except (OSError, UnicodeDecodeError) as exc:
        problems.error(path, "", f"cannot read: {exc}")
    return None
