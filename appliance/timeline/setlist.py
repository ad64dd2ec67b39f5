"""Setlists: plain text, one song folder name a line, with what happens after it.

    # Friday, main set
    intro-tape   | gapless
    first-song   | continue
    ballad       | crossfade 1500 ms
    closer                          # stop after it (the default)

A line naming a song that is not in the library is reported and skipped: the
rest of the set still plays.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problems, read_text

SUFFIX = ".setlist"
KINDS = ("stop", "continue", "gapless", "crossfade")
_CROSSFADE = re.compile(r"^crossfade\s+(\d+)\s*(ms)?$")
MAX_CROSSFADE_MS = 30_000


@dataclass(frozen=True)
class Transition:
    """What happens when a song ends.

    stop: the box stops and waits. continue: the next song starts by itself
    (with its count-in). gapless: the next song's first frame follows the last
    frame of this one. crossfade: the next song starts `ms` before this one ends.
    """

    kind: str = "stop"
    ms: int = 0

    def __str__(self) -> str:
        return f"crossfade {self.ms} ms" if self.kind == "crossfade" else self.kind


@dataclass(frozen=True)
class SetlistEntry:
    song: str
    transition: Transition
    line: int


@dataclass
class Setlist:
    path: Path
    entries: list[SetlistEntry]

    @property
    def name(self) -> str:
        return self.path.stem


def parse_transition(text: str) -> Transition:
    text = " ".join(text.lower().split())
    if text in ("stop", "continue", "gapless"):
        return Transition(text)
    m = _CROSSFADE.match(text)
    if m:
        ms = int(m.group(1))
        if not 1 <= ms <= MAX_CROSSFADE_MS:
            raise ValueError(f"crossfade must be 1 to {MAX_CROSSFADE_MS} ms, not {ms}")
        return Transition("crossfade", ms)
    raise ValueError(f"transition must be stop, continue, gapless or 'crossfade N ms', not {text!r}")


def load_setlist(path: Path, songs: set[str], problems: Problems) -> Setlist | None:
    """The setlist with every valid line; None only when the file cannot be read."""
    text = read_text(path, problems)
    return None if text is None else parse_setlist(path, text, songs, problems)


def parse_setlist(path: Path, text: str, songs: set[str], problems: Problems) -> Setlist:
    """The setlist `text` (as if read from `path`) with every valid line: what a remote
    saves is checked by the same lines as what `check` reads."""
    errors = len(problems.errors)     # this file's own: `check` shares one list for all
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        name, _, trans_text = (part.strip() for part in text.partition("|"))
        try:
            transition = parse_transition(trans_text) if trans_text else Transition()
        except ValueError as exc:
            problems.error(path, f"line {number}", str(exc))
            continue
        if name not in songs:
            hint = _closest(name, songs)
            problems.error(path, f"line {number}", f"song {name!r} is not in the library"
                           + (f" (did you mean {hint!r}?)" if hint else ""))
            continue
        entries.append(SetlistEntry(name, transition, number))
    if not entries and len(problems.errors) == errors:
        problems.warn(path, "", "lists no songs")
    return Setlist(Path(path), entries)


def setlist_text(entries: list[tuple[str, Transition]]) -> str:
    """The file that reads back as these songs and transitions (a stop is left unsaid)."""
    return "".join(f"{song} | {t}\n" if t.kind != "stop" else f"{song}\n"
                   for song, t in entries)


def _closest(name: str, songs: set[str]) -> str | None:
    match = difflib.get_close_matches(name, sorted(songs), n=1)
    return match[0] if match else None
