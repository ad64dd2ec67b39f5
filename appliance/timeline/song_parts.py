"""A chart song's parts in song.toml: `[[part]]` (each part's route to the box's outputs,
gain, mute and GM program, read as a stem's are) and `[parts]` (the seed, the starting
intensity), or `parts = false` to leave them all silent."""
from __future__ import annotations

from dataclasses import dataclass

from ..tomlfields import Table, in_range
from .song_stems import DEFAULT_ROUTE, read_levels

PART_NAMES = ("drums", "bass", "keys")
MAX_SEED = 2 ** 32 - 1          # the generators' random seed: an unsigned 32-bit number
PROGRAMMED = ("bass", "keys")   # the drums play GM's drum kit, which has no program


@dataclass(frozen=True)
class PartSpec:
    name: str
    route: dict[str, tuple[int, ...] | None]   # as a stem's: output -> channels (None: both)
    gain_db: float = 0.0
    muted: bool = False
    program: int | None = None     # a GM program 0-127; None: the part's own (bass, piano)
    explicit_route: bool = False   # False: the default route, whose outputs a box may lack


@dataclass(frozen=True)
class PartsSpec:
    """What the song asks of its parts; every part listed, with defaults where no table."""

    parts: tuple[PartSpec, ...]
    enabled: bool = True           # `parts = false`: none sounds
    seed: int = 0
    intensity: float | None = None    # the starting level, 0..1; None: the box's default


def default_part(name: str) -> PartSpec:
    return PartSpec(name, dict.fromkeys(DEFAULT_ROUTE))


def read_parts(top: Table, has_chart: bool) -> PartsSpec | None:
    """The song's parts: None for a song without a chart (where `[[part]]` and `[parts]`
    are errors that say so)."""
    tables = top.tables("part")
    if not has_chart:
        for key in ("part", "parts"):
            if top.has(key):
                top.error(key, "only a chart song has parts (chart.txt or chart = \"...\"); "
                               f"remove {key} or add a chart")
        top.read_elsewhere("parts")
        return None
    enabled, seed, intensity = _read_settings(top)
    given: dict[str, PartSpec] = {}
    for t in tables:
        name, spec = _read_part(t)
        if name is None:
            continue
        if name in given:
            t.error("name", f"{name!r} has a [[part]] already; give each part one table")
            continue
        given[name] = spec
    return PartsSpec(tuple(given.get(n) or default_part(n) for n in PART_NAMES),
                     enabled, seed, intensity)


def without_part_names(top: Table, stems: list, parts: PartsSpec | None) -> list:
    """The stems, less any named as a part is (the mix and its commands name inputs by
    name, so two `bass` would be one): that stem is an error and left out."""
    if parts is None or not parts.enabled:
        return stems
    kept = list(stems)
    for i, stem in enumerate(stems):
        if stem is not None and stem.name in PART_NAMES:
            top.error(f"stem[{i + 1}].name", f"{stem.name!r} is the name of the chart's "
                                             f"{stem.name} part; give the stem another name")
            kept[i] = None
    return kept


def _read_settings(top: Table) -> tuple[bool, int, float | None]:
    """`parts = false` (or true), else the `[parts]` table: (enabled, seed, intensity)."""
    if isinstance(top.data.get("parts"), bool):
        return top.get("parts", bool), 0, None
    t = top.table("parts")
    seed = t.get("seed", int, 0, check=in_range(0, MAX_SEED))
    intensity = t.get("intensity", (int, float), None, check=in_range(0, 1))
    t.finish()
    return True, seed, None if intensity is None else float(intensity)


def _read_part(t: Table) -> tuple[str | None, PartSpec]:
    """The part's name (None: not a part's) and what it plays: a table with a mistake
    leaves its part silent rather than guess where the musician wanted it."""
    errors = len(t.problems.errors)
    name = t.get("name", str, check=_known_name)
    route, gain_db, muted, explicit = read_levels(t)
    program = t.get("program", int, None, check=in_range(0, 127))
    t.finish()
    if program is not None and name is not None and name not in PROGRAMMED:
        t.error("program", f"the {name} play GM's drum kit; a program is for "
                           f"{' and '.join(PROGRAMMED)}")
    if len(t.problems.errors) != errors:
        return name, PartSpec(name or "", {}, muted=True)
    return name, PartSpec(name, route, gain_db, muted, program, explicit)


def _known_name(name: str) -> str | None:
    if name in PART_NAMES:
        return None
    return f"must be one of {', '.join(map(repr, PART_NAMES))}, not {name!r}"
