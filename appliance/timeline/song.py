"""A song folder: `song.toml` read into a `Song`, every mistake reported by field.

The format is documented in docs/song-format.md. Nothing here touches audio
data: stems are described, and opened by appliance.audio.disk.stems.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..errors import Problems
from ..tomlfields import Table, a_path, in_range, load_toml
from .chart import CHART_FILE, Chart, chart_from_text, load_chart
from .meter import Meter, MeterMap
from .midi_import import read_midi_events
from .midi_import import read_midi_timing
from .midi_messages import parse_midi
from .tempo import MAX_BPM, MAX_SECONDS, MIN_BPM, TempoMap, TempoPoint

SONG_FILE = "song.toml"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DEFAULT_ROUTE = ("foh", "ears")
MAX_COUNT_IN = 8                 # bars
MAX_TRANSPOSE = 12               # semitones either way
MIN_FACTOR, MAX_FACTOR = Fraction(1, 2), Fraction(2)   # a tempo factor: half to double speed
MAX_GUIDE_BEATS = 32             # a section's guide word starts at most this many beats before it


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
class Section:
    name: str
    qn: Fraction
    bar: int
    midi: tuple = ()               # mido Messages sent when the section starts
    field: str = ""                # what names it in song.toml: "section[2]", or "tempo_map"
    guide: str | None = None       # the word said before it (None: its name, if a known word)
    guide_beats: int | None = None  # how many beats before it (None: one bar)


@dataclass(frozen=True)
class ClickSpec:
    enabled: bool = True
    level_db: float = -6.0
    subdivision: int = 1
    eighths: bool = False       # compound meters: click every eighth, not only the pulse
    output: str = "click"


@dataclass
class Song:
    folder: Path
    title: str
    tempo: TempoMap                    # as played: `tempo.factor` is the song's tempo factor
    meters: MeterMap
    key: str | None = None
    transpose: Fraction = Fraction(0)  # semitones the stems are played at (cents: fractions)
    sections: list[Section] = field(default_factory=list)
    count_in_bars: int = 0
    count_in_voice: bool | None = None   # None: the box's default ([voice] count_in)
    end_qn: Fraction | None = None     # explicit length or a MIDI map's last event
    click: ClickSpec = field(default_factory=ClickSpec)
    stems: list[StemSpec] = field(default_factory=list)
    midi: tuple = ()               # mido Messages sent when the song is selected
    midi_events: tuple = ()        # (quarter note, Message) of the song's MIDI file
    loudness: bool = True          # False: played as mixed, not at the box's target loudness
    chart: Chart | None = None     # a chord chart: its tempo, meters and sections are the song's

    @property
    def name(self) -> str:
        return self.folder.name

    def at(self, tempo: Fraction, transpose: Fraction) -> "Song":
        """The song played at tempo factor `tempo` and `transpose` semitones instead."""
        return dataclasses.replace(self, tempo=self.tempo.at_factor(tempo),
                                   transpose=Fraction(transpose))

    def section_index(self, name: str) -> int | None:
        for i, s in enumerate(self.sections):
            if s.name.casefold() == name.casefold():
                return i
        return None


def load_song(folder: Path, problems: Problems) -> Song | None:
    """The song, or None when song.toml is unusable; problems gets every mistake."""
    folder = Path(folder)
    path = folder / SONG_FILE
    data = load_toml(path, problems)
    if data is None:
        return None
    before = len(problems.errors)
    top = Table(data, file=path, where="", problems=problems)
    title = top.get("title", str, folder.name)
    key = top.get("key", str, None)
    count_in = top.get("count_in", int, 0, check=in_range(0, MAX_COUNT_IN))
    count_in_voice = top.get("count_in_voice", bool, None)
    length_bars = top.get("length_bars", int, None, check=in_range(1))
    channel = top.get("midi_channel", int, 1, check=in_range(1, 16)) or 1
    song_midi = read_midi_list(top, "midi", channel)
    midi_file = top.get("midi_file", str, None)
    loudness = top.get("loudness", bool, True)
    events: list = []
    if midi_file:
        try:
            events = read_midi_events(folder / midi_file)
        except ValueError as exc:      # a lights track that cannot be read: the song plays
            top.warn("midi_file", f"{midi_file}: {exc}; not sent")
    has_chart = top.has("chart") or os.path.lexists(folder / CHART_FILE)
    chart = _read_chart(top, folder, problems) if has_chart else None
    timing = _chart_timing(top, chart) if has_chart else _read_timing(top, folder, problems)
    click = _read_click(top.table("click"))
    stems = _read_stems(top, folder)
    section_tables = top.tables("section")
    top.read_elsewhere(*KEY_TEMPO_KEYS)
    top.finish()
    if timing is None:
        return None
    tempo, meters, markers, midi_end = timing
    # A bad key or tempo is reported, and the song plays as written: kept apart until then.
    key_tempo = Problems()
    transpose, factor = _read_key_tempo(Table(data, file=path, where="", problems=key_tempo),
                                        tempo)
    if chart is not None:
        sections = _chart_sections(top, chart, section_tables)
    elif section_tables:
        sections = _read_sections(section_tables, meters, tempo, channel)
    else:
        sections = _read_markers(top, markers, meters)
    _warn_same_names(top, sections)
    end_qn = meters.bar_qn(length_bars + 1) if length_bars else midi_end
    if length_bars and tempo.seconds_at(end_qn) > MAX_SECONDS:
        top.error("length_bars", f"{length_bars} bars last {_hours(tempo, end_qn)}; "
                                 f"{_LIMIT}")
    if not stems and end_qn is None and len(problems.errors) == before:
        problems.error(path, "length_bars",
                       "a song without stems needs length_bars (or a MIDI tempo_map) to know its end")
    fatal = [p for p in problems.errors[before:] if not p.field.startswith("stem[")]
    problems.extend(key_tempo)
    if fatal:       # stem problems alone do not stop the show: the rest of the song plays
        return None
    return Song(folder=folder, title=title or folder.name,
                key=key or (chart.key if chart else None), transpose=transpose,
                tempo=tempo.at_factor(factor), meters=meters,
                sections=sections, count_in_bars=count_in or 0,
                count_in_voice=count_in_voice, end_qn=end_qn, click=click,
                stems=[s for s in stems if s is not None], midi=song_midi,
                midi_events=tuple(events), loudness=loudness, chart=chart)


@dataclass(frozen=True)
class _TempoChange:
    """One [[tempo]] entry as read, before it is placed on the meter map."""
    table: Table
    bar: int
    beat: Fraction
    bpm: Fraction | None
    ramp: bool
    meter: Meter | None


KEY_TEMPO_KEYS = ("transpose", "tempo_factor", "bpm")


def _read_key_tempo(t: Table, tempo: TempoMap) -> tuple[Fraction, Fraction]:
    """(transpose in semitones, tempo factor) the song asks for; a bad one is an error on
    `t` and reads as 0 or 1, so the song plays at its written key or tempo. The factor is
    `tempo_factor`, or a target `bpm` for bar 1 (`tempo` is the map: TOML has one key for a
    number and the `[[tempo]]` entries, so the factor has a name of its own)."""
    semitones = t.get("transpose", (int, float), 0,
                      check=in_range(-MAX_TRANSPOSE, MAX_TRANSPOSE))
    factor = Fraction(1)
    if isinstance(t.data.get("tempo"), (int, float)):
        t.error("tempo", "is the tempo map ([[tempo]] entries); a tempo factor is "
                         f"tempo_factor = {t.data['tempo']!r}")
    if t.has("bpm") and t.has("tempo_factor"):
        t.error("tempo_factor", "give either tempo_factor or bpm (a target tempo), not both")
    elif t.has("bpm"):
        bpm = t.get("bpm", (int, float), None, check=in_range(MIN_BPM, MAX_BPM))
        if bpm is not None:
            written = tempo.bpm_at(Fraction(0))
            factor = Fraction(str(bpm)) / written
            if not MIN_FACTOR <= factor <= MAX_FACTOR:
                t.error("bpm", f"{bpm:g} BPM is {float(factor):.3g} times bar 1's "
                               f"{float(written):g}; a song plays at {float(MIN_FACTOR):g} "
                               f"to {float(MAX_FACTOR):g} times its tempo")
                factor = Fraction(1)
    elif t.has("tempo_factor"):
        value = t.get("tempo_factor", (int, float), None,
                      check=in_range(float(MIN_FACTOR), float(MAX_FACTOR)))
        factor = Fraction(str(value)) if value is not None else Fraction(1)
    return Fraction(str(semitones)), factor


def _read_chart(top: Table, folder: Path, problems: Problems) -> Chart | None:
    """The song's chord chart: `chart = "..."` in song.toml, else chart.txt beside it."""
    if not top.has("chart"):
        return load_chart(folder / CHART_FILE, problems)
    text = top.get("chart", str, None)
    return None if text is None else chart_from_text(text, top.file, problems, "chart")


def _chart_timing(top: Table, chart: Chart | None):
    """A chart song's tempo and meters are its chart's: [[tempo]] or tempo_map beside it
    would be a second, conflicting map. None when the chart could not be read."""
    for key in ("tempo", "tempo_map"):
        if top.has(key) and not isinstance(top.data.get(key), (int, float)):
            top.error(key, "a chart song's tempo and meter come from its chart; "
                           f"remove {key} (or the chart)")
    top.read_elsewhere("tempo", "tempo_map")
    return None if chart is None else (chart.tempo, chart.meters, [], chart.end_qn)


def _chart_sections(top: Table, chart: Chart, tables: list[Table]) -> list[Section]:
    if tables:
        top.error("section", "a chart song's sections come from its chart; remove the "
                             "[[section]] entries (or the chart)")
    return [Section(s.name, s.qn, s.bar, field=f"chart line {s.line}") for s in chart.sections]


def _read_timing(top: Table, folder: Path, problems: Problems):
    if isinstance(top.data.get("tempo"), (int, float)):
        top.read_elsewhere("tempo")           # a factor written as `tempo`: _read_key_tempo
    midi_name = top.get("tempo_map", str, None)
    tables = top.tables("tempo") if isinstance(top.data.get("tempo", []), (list, dict)) else []
    if midi_name is not None:
        if tables:
            top.error("tempo", "give either tempo_map or [[tempo]] entries, not both")
            return None
        try:
            t = read_midi_timing(folder / midi_name)
        except ValueError as exc:
            top.error("tempo_map", f"{midi_name}: {exc}")
            return None
        for warning in t.warnings:
            top.warn("tempo_map", f"{midi_name}: {warning}")
        return t.tempo, t.meters, t.markers, t.end_qn
    if not tables:
        top.error("tempo", "is required: at least one [[tempo]] with bar = 1 and bpm (or tempo_map)")
        return None

    changes: list[_TempoChange] = []
    ok = True
    for t in tables:
        bar = t.get("bar", int, check=in_range(1))
        beat = t.get("beat", (int, float), 1, check=in_range(1))
        bpm = t.get("bpm", (int, float), None, check=in_range(MIN_BPM, MAX_BPM))
        ramp = t.get("ramp", bool, False)
        meter_text = t.get("meter", str, None)
        t.finish()
        meter = None
        if meter_text is not None:
            try:
                meter = Meter.parse(meter_text)
            except ValueError as exc:
                t.error("meter", str(exc))
                ok = False
            if beat != 1:
                t.error("meter", "a meter change must be on beat 1")
                ok = False
        if bar is None or beat is None or (bpm is None and t.has("bpm")):
            ok = False
            continue
        changes.append(_TempoChange(t, bar, Fraction(str(beat)),
                                    Fraction(str(bpm)) if bpm else None, ramp, meter))
    if not ok or not changes:
        return None

    first = changes[0]
    if (first.bar, first.beat) != (1, 1) or first.bpm is None:
        first.table.error("bar", "the first [[tempo]] must be at bar 1, beat 1, with a bpm")
        return None
    if first.ramp:
        first.table.error("ramp", "the first tempo has nothing to ramp from")
        return None
    for a, b in zip(changes, changes[1:]):
        if (b.bar, b.beat) <= (a.bar, a.beat):
            b.table.error("bar", f"bar {b.bar} beat {b.beat} must come after {a.table.where} "
                                 f"(bar {a.bar} beat {a.beat}); [[tempo]] entries go in order")
            return None
    meter_changes = [(ch.bar, ch.meter) for ch in changes if ch.meter is not None]
    if first.meter is None:
        meter_changes.insert(0, (1, Meter(4, 4)))
    meters = MeterMap.from_bars(meter_changes)
    points: list[TempoPoint] = []
    placed: list[tuple[Table, int, Fraction]] = []
    for ch in changes:
        try:
            qn = meters.qn_at(ch.bar, ch.beat)
        except ValueError as exc:
            ch.table.error("beat", str(exc))
            return None
        placed.append((ch.table, ch.bar, qn))
        if ch.bpm is None:
            if ch.ramp:
                ch.table.error("ramp", "a ramp needs the bpm it arrives at")
                return None
            continue
        points.append(TempoPoint(qn, ch.bpm, ch.ramp))
    tempo = TempoMap(points)
    late = [(t, bar, qn) for t, bar, qn in placed if tempo.seconds_at(qn) > MAX_SECONDS]
    for t, bar, qn in late:
        t.error("bar", f"bar {bar} is {_hours(tempo, qn)} into the song; {_LIMIT}")
    return None if late else (tempo, meters, [], None)


_LIMIT = f"a song lasts at most {MAX_SECONDS // 3600} hours"


def _hours(tempo: TempoMap, qn: Fraction) -> str:
    """How far into the song a position is, for a message about the length limit."""
    hours = tempo.seconds_at(qn) / 3600
    return f"{float(hours):.1f} hours" if hours < 10**6 else "over a million hours"


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


def _read_sections(tables: list[Table], meters: MeterMap, tempo: TempoMap,
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
            t.error("bar", f"bar {bar} is {_hours(tempo, qn)} into the song; {_LIMIT}")
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


def _read_markers(top: Table, markers: list[tuple[Fraction, str]],
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


def _warn_same_names(top: Table, sections: list[Section]) -> None:
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


def _read_click(t: Table) -> ClickSpec:
    spec = ClickSpec(
        enabled=t.get("enabled", bool, True),
        level_db=t.get("level_db", (int, float), -6.0, check=in_range(-60, 12)),
        subdivision=t.get("subdivision", int, 1, check=in_range(1, 4)),
        eighths=t.get("eighths", bool, False),
        output=t.get("output", str, "click", check=_check_output_name),
    )
    t.finish()
    return spec


def _check_output_name(name: str) -> str | None:
    if NAME_RE.match(name):
        return None
    return f"output names are lower-case letters, digits, - and _, not {name!r}"


def _read_stems(top: Table, folder: Path) -> list[StemSpec | None]:
    stems: list[StemSpec | None] = []
    names: set[str] = set()
    for t in top.tables("stem"):
        errors = len(t.problems.errors)
        file = t.get("file", str, check=a_path)
        name = t.get("name", str, Path(file).stem if file else "")
        gain_db = t.get("gain_db", (int, float), 0.0, check=in_range(-120, 24))
        muted = t.get("muted", bool, False)
        keep_pitch = t.get("keep_pitch", bool, False)
        route = _read_route(t)
        explicit = t.has("route")
        t.finish()
        if name in names:
            t.error("name", f"{name!r} is used by another stem; give each stem its own name")
        names.add(name)
        if len(t.problems.errors) != errors:
            stems.append(None)
            continue
        stems.append(StemSpec(name, folder / file, route, float(gain_db), muted, explicit,
                              keep_pitch))
    return stems


def _read_route(t: Table) -> dict[str, tuple[int, ...] | None]:
    value = t.get("route", (list, dict), list(DEFAULT_ROUTE))
    if isinstance(value, list):
        if not all(isinstance(name, str) for name in value):
            t.error("route", f"must list output names like [\"foh\", \"ears\"], not {value!r}")
            return {}
        value = dict.fromkeys(value)
    route: dict[str, tuple[int, ...] | None] = {}
    for name, channels in value.items():
        if not isinstance(name, str) or _check_output_name(name):
            t.error("route", _check_output_name(str(name)))
            continue
        if channels is None:
            route[name] = None
        elif (isinstance(channels, list) and channels
              and all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in channels)):
            route[name] = tuple(channels)
        else:
            t.error(f"route.{name}", f"must be a list of file channel numbers from 1, not {channels!r}")
    return route
