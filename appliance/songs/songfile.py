"""song.toml as an import writes it: only fields appliance/timeline/song.py reads, and on
re-import the musician's own file kept.

Written with tomlkit, which edits a TOML document in place: a re-import keeps the user's
comments, layout, gains, mutes, routes, names and sections, and changes only what the
export says (which files there are, the tempo).
"""
from __future__ import annotations

from dataclasses import dataclass

import tomlkit
from tomlkit.items import AoT, Table

from .names import Role


@dataclass(frozen=True)
class StemEntry:
    file: str        # the file's name in the song folder
    name: str
    role: Role


@dataclass(frozen=True)
class Timing:
    """What song.toml says of time: a MIDI tempo map, or one tempo and meter."""
    tempo_map: str | None = None
    bpm: float | None = None
    meter: str = "4/4"
    pickup_beats: int = 0      # the stems start this many of the meter's notes before bar 2


def _stem_table(s: StemEntry) -> Table:
    t = tomlkit.table()
    t["file"] = s.file
    t["name"] = s.name
    if s.role is Role.CLICK:        # the box makes its own click; unmute to hear this one
        t["muted"] = True
        t["route"] = ["click"]
    elif s.role is Role.CUE:
        t["route"] = ["cue"]
    return t


def _tempo_tables(timing: Timing) -> AoT:
    tables = tomlkit.aot()
    first = tomlkit.table()
    first["bar"] = 1
    first["bpm"] = round(timing.bpm, 4)
    num, den = timing.meter.split("/")
    first["meter"] = f"{timing.pickup_beats}/{den}" if timing.pickup_beats else timing.meter
    tables.append(first)
    if timing.pickup_beats:
        bar2 = tomlkit.table()
        bar2["bar"] = 2
        bar2["meter"] = timing.meter
        tables.append(bar2)
    return tables


def song_toml(stems: list[StemEntry], timing: Timing, existing: str | None = None
              ) -> tuple[str, list[str]]:
    """(the text of song.toml, what a re-import dropped). `existing`: the song.toml there
    now, whose stems still in the export are kept as the user left them."""
    doc = tomlkit.parse(existing) if existing is not None else tomlkit.document()
    for key in ("tempo_map", "tempo"):
        if key in doc:
            del doc[key]
    if timing.tempo_map is not None:
        doc["tempo_map"] = timing.tempo_map
    kept: dict[str, Table] = {}
    dropped: list[str] = []
    wanted = {s.file for s in stems}
    for t in doc.get("stem", []):
        file = t.get("file")
        if file in wanted and file not in kept:
            kept[file] = t
        else:
            dropped.append(str(t.get("name", file)))
    if "stem" in doc:
        del doc["stem"]
    if timing.tempo_map is None:
        doc["tempo"] = _tempo_tables(timing)
    out = tomlkit.aot()
    for s in stems:
        out.append(kept.get(s.file) or _stem_table(s))
    doc["stem"] = out
    return tomlkit.dumps(doc), dropped
