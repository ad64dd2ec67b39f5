"""A song's sections: its [[section]] entries (or a MIDI tempo map's markers) placed on
the meter map, in order and each in its own place, and the MIDI messages a song or section
sends."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..tomlfields import Table, in_range
from .meter import MeterMap
from .midi_messages import parse_midi
from .song_timing import LENGTH_LIMIT, hours
from .tempo import MAX_SECONDS, TempoMap

MAX_GUIDE_BEATS = 32             # a section's guide word starts at most this many beats before it


@dataclass(frozen=True)
class Section:
    name: str
    qn: Fraction
    bar: int
    midi: tuple = ()               # mido Messages sent when the section starts
    field: str = ""                # what names it in song.toml: "section[2]", or "tempo_map"
    guide: str | None = None       # the word said before it (None: its name, if a known word)
    guide_beats: int | None = None  # how many beats before it (None: one bar)


def read_midi_list(t: Table, key: str, channel: int) -> tuple:
    """MIDI messages a song sends: a bad one is a warning naming it, the rest are sent."""
    texts = t.get(key, list, [])
    out = []
    for i, text in enumerate(texts, 1):
        try:
            if not isinstance(text, str):
                raise ValueError(f"{text!r} is not text like \"program 5\"")
            out.append(parse_midi(text, channel))
        except ValueError as exc:
            t.warn(f"{key}[{i}]", f"{exc}; left out")
    return tuple(out)


def read_sections(tables: list[Table], meters: MeterMap, tempo: TempoMap,
                  channel: int = 1) -> list[Section]:
    sections: list[Section] = []
    for t in tables:
        name = t.get("name", str)
        bar = t.get("bar", int, check=in_range(1))
        beat = t.get("beat", (int, float), 1, check=in_range(1))
        midi = read_midi_list(t, "midi", channel)
        guide = t.get("guide", str, None)
        guide_beats = t.get("guide_beats", int, None, check=in_range(1, MAX_GUIDE_BEATS))
        t.finish()
        if name is None or bar is None or beat is None:
            continue
        try:
            qn = meters.qn_at(bar, Fraction(str(beat)))
        except ValueError as exc:
            t.error("beat", str(exc))
            continue
        if tempo.seconds_at(qn) > MAX_SECONDS:
            t.error("bar", f"bar {bar} is {hours(tempo, qn)} into the song; {LENGTH_LIMIT}")
            continue
        if sections and qn == sections[-1].qn:
            t.error("bar", f"{name!r} is at the same position as {sections[-1].name!r} "
                           f"({_position(meters, qn)}); give each section its own place")
            continue
        if sections and qn < sections[-1].qn:
            t.error("bar", f"{name!r} at bar {bar} must come after {sections[-1].name!r} "
                           f"(bar {sections[-1].bar}); sections go in order")
            continue
        sections.append(Section(name, qn, bar, midi, t.where, guide, guide_beats))
    return sections


def read_markers(top: Table, markers: list[tuple[Fraction, str]],
                 meters: MeterMap) -> list[Section]:
    """A MIDI tempo map's markers as sections. A DAW export may hold two markers at one
    place; the box could not tell them apart, so the second is left out, with a warning."""
    sections: list[Section] = []
    for i, (qn, text) in enumerate(markers, 1):
        name = text or f"Marker {i}"
        if sections and qn == sections[-1].qn:
            top.warn("tempo_map", f"marker {name!r} is at the same position as "
                                  f"{sections[-1].name!r} ({_position(meters, qn)}); left out")
            continue
        sections.append(Section(name, qn, meters.bar_beat_at(qn)[0], field="tempo_map"))
    return sections


def warn_same_names(top: Table, sections: list[Section]) -> None:
    """A jump by name (MIDI, the menu) finds a section in any case and takes the first:
    a second section of that name is reached only by stepping through the sections."""
    first: dict[str, Section] = {}
    for s in sections:
        other = first.setdefault(s.name.casefold(), s)
        if other is not s:
            top.warn(s.field, f"{s.name!r} has the name of {other.name!r} (bar {other.bar}; "
                              "names match in any case): a jump by name goes to the first")


def _position(meters: MeterMap, qn: Fraction) -> str:
    bar, beat, _ = meters.bar_beat_at(qn)
    return f"bar {bar}" if beat == 1 else f"bar {bar} beat {float(beat):g}"
