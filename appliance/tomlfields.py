"""Typed, collecting access to TOML tables: every bad field becomes a `Problem`.

Used by song.toml, config.toml and anything else a musician writes by hand, so
that each file reports all its mistakes, each naming the field, in one pass.
"""
from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any, Callable

from .errors import Problems, read_text

_MISSING = object()
# TOML's bare keys, and the paths callers build of them (`route.foh`, `midi[2]`); any
# other key (empty, with a space, non-ASCII) is shown quoted
_BARE_KEY = re.compile(r"^[A-Za-z0-9_.\[\]-]+$")
_TYPE_NAMES = {bool: "true or false", int: "a whole number", float: "a number",
               str: "a string", list: "a list", dict: "a table"}


def load_toml(path: Path, problems: Problems) -> dict | None:
    """The parsed file, or None with the problem recorded (missing, unreadable, bad syntax)."""
    text = read_text(path, problems)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if where:
            msg = msg[: where.start()].strip()
            problems.error(path, f"line {where.group(1)}", f"TOML syntax: {msg}")
        else:
            problems.error(path, "", f"TOML syntax: {msg}")
        return None


def _as_float(value: int) -> float:
    """A whole number where a float is read; one too big for a float becomes ±inf (refused)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


class Table:
    """One TOML table being read; remembers which keys were used."""

    def __init__(self, data: dict, *, file: Path, where: str, problems: Problems) -> None:
        self.data = data
        self.file = file
        self.where = where
        self.problems = problems
        self._used: set[str] = set()

    def field(self, key: str) -> str:
        """The key's path as TOML writes it: `click.level_db`, `click."level db"`, `""`."""
        key = key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, message: str) -> None:
        self.problems.error(self.file, self.field(key), message)

    def warn(self, key: str, message: str) -> None:
        self.problems.warn(self.file, self.field(key), message)

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = _MISSING, *,
            check: Callable[[Any], str | None] | None = None) -> Any:
        """The value, or `default` (None when required and absent) with a problem recorded.

        `check` returns an error message for a value of the right type but wrong range.
        A float must be finite: TOML allows `nan` and `inf`, which pass every range check
        (NaN compares false) and would reach the audio as NaN or a full-scale level.
        """
        self._used.add(key)
        if key not in self.data:
            if default is _MISSING:
                self.error(key, "is required")
                return None
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and int not in kinds and isinstance(value, int) \
                and not isinstance(value, bool):
            value = _as_float(value)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            shown = [k for k in kinds if not (k is int and float in kinds)]
            names = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in shown)
            self.error(key, f"must be {names}, not {value!r}")
            return None if default is _MISSING else default
        if isinstance(value, float) and not math.isfinite(value):
            self.error(key, f"must be a finite number, not {value}")
            return None if default is _MISSING else default
        if check is not None:
            message = check(value)
            if message:
                self.error(key, message)
                return None if default is _MISSING else default
        return value

    def read_elsewhere(self, *keys: str) -> None:
        """These keys are read by another Table over the same data (not unknown here)."""
        self._used.update(keys)

    def tables(self, key: str) -> list["Table"]:
        """An array of tables (`[[key]]`), each as a Table named key[N] (1-based)."""
        self._used.add(key)
        value = self.data.get(key, [])
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.error(key, "must be a list of tables ([[" + key + "]])")
            return []
        return [Table(v, file=self.file, where=f"{self.field(key)}[{i}]", problems=self.problems)
                for i, v in enumerate(value, 1)]

    def table(self, key: str) -> "Table":
        """A sub-table (`[key]`); an empty one when absent."""
        self._used.add(key)
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            self.error(key, "must be a table")
            value = {}
        return Table(value, file=self.file, where=self.field(key), problems=self.problems)

    def finish(self) -> None:
        """Report keys nobody asked for: a typo must not be silently ignored."""
        for key in self.data:
            if key not in self._used:
                self.error(key, "unknown key")


def in_range(low: float | None = None, high: float | None = None, *,
             low_open: bool = False) -> Callable[[Any], str | None]:
    """A `check` for numbers: low <= v <= high (low < v with low_open).

    Table.get has already refused NaN and ±inf, which these comparisons would let through."""
    def check(value: Any) -> str | None:
        if low is not None and (value <= low if low_open else value < low):
            return f"must be {'above' if low_open else 'at least'} {low}, not {value}"
        if high is not None and value > high:
            return f"must be at most {high}, not {value}"
        return None
    return check


def one_of(*allowed: object) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in allowed else \
            f"must be one of {', '.join(map(str, allowed))}, not {value!r}"
    return check


NAME_MAX, PATH_MAX = 255, 4096      # Linux: bytes in one file name, in a whole path


def a_path(value: str) -> str | None:
    """A `check` for a path a musician writes: one that no file can have is refused here,
    where the field is known, rather than by the OS later (an OSError 'File name too long'
    from a plain exists() check, or a NUL that makes every file 'not found')."""
    if "\0" in value:
        return f"a path cannot hold a NUL character, not {value!r}"
    raw = value.encode("utf-8", "surrogateescape")
    if len(raw) >= PATH_MAX:
        return f"a path is at most {PATH_MAX - 1} bytes, not {len(raw)}"
    longest = max(raw.split(b"/"), key=len)
    if len(longest) > NAME_MAX:
        return (f"a file or folder name is at most {NAME_MAX} bytes, not {len(longest)} "
                f"({longest[:16].decode('utf-8', 'replace')}...)")
    return None
