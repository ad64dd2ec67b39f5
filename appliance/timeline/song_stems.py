"""A song's [[stem]] entries (each file, its route to the box's outputs, gain, mute) and
its [click] table, read from song.toml with every mistake named by field."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..tomlfields import Table, a_path, in_range

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DEFAULT_ROUTE = ("foh", "ears")


@dataclass(frozen=True)
class StemSpec:
    name: str
    file: Path
    route: dict[str, tuple[int, ...] | None]  # output name -> 1-based file channels (None: all)
    gain_db: float = 0.0
    muted: bool = False
    explicit_route: bool = True   # False: the default route, whose outputs a box may lack
    keep_pitch: bool = False      # at another key or tempo: only time-stretched (drums, speech)


@dataclass(frozen=True)
class ClickSpec:
    enabled: bool = True
    level_db: float = -6.0
    subdivision: int = 1
    eighths: bool = False       # compound meters: click every eighth, not only the pulse
    output: str = "click"


def read_stems(top: Table, folder: Path) -> list[StemSpec | None]:
    stems: list[StemSpec | None] = []
    names: set[str] = set()
    for t in top.tables("stem"):
        errors = len(t.problems.errors)
        file = t.get("file", str, check=a_path)
        name = t.get("name", str, Path(file).stem if file else "")
        route, gain_db, muted, explicit = read_levels(t)
        keep_pitch = t.get("keep_pitch", bool, False)
        t.finish()
        if name in names:
            t.error("name", f"{name!r} is used by another stem; give each stem its own name")
        names.add(name)
        if len(t.problems.errors) != errors:
            stems.append(None)
            continue
        stems.append(StemSpec(name, folder / file, route, gain_db, muted, explicit,
                              keep_pitch))
    return stems


def read_levels(t: Table) -> tuple[dict[str, tuple[int, ...] | None], float, bool, bool]:
    """What a stem and a part share: route, gain_db, muted, and whether the route was given."""
    gain_db = t.get("gain_db", (int, float), 0.0, check=in_range(-120, 24))
    return read_route(t), float(gain_db), t.get("muted", bool, False), t.has("route")


def read_route(t: Table) -> dict[str, tuple[int, ...] | None]:
    value = t.get("route", (list, dict), list(DEFAULT_ROUTE))
    if isinstance(value, list):
        if not all(isinstance(name, str) for name in value):
            t.error("route", f"must list output names like [\"foh\", \"ears\"], not {value!r}")
            return {}
        value = dict.fromkeys(value)
    route: dict[str, tuple[int, ...] | None] = {}
    for name, channels in value.items():
        if not isinstance(name, str) or check_output_name(name):
            t.error("route", check_output_name(str(name)))
            continue
        if channels is None:
            route[name] = None
        elif (isinstance(channels, list) and channels
              and all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in channels)):
            route[name] = tuple(channels)
        else:
            t.error(f"route.{name}", f"must be a list of file channel numbers from 1, not {channels!r}")
    return route


def read_click(t: Table) -> ClickSpec:
    spec = ClickSpec(
        enabled=t.get("enabled", bool, True),
        level_db=t.get("level_db", (int, float), -6.0, check=in_range(-60, 12)),
        subdivision=t.get("subdivision", int, 1, check=in_range(1, 4)),
        eighths=t.get("eighths", bool, False),
        output=t.get("output", str, "click", check=check_output_name),
    )
    t.finish()
    return spec


def check_output_name(name: str) -> str | None:
    if NAME_RE.match(name):
        return None
    return f"output names are lower-case letters, digits, - and _, not {name!r}"
