"""A song folder: `song.toml` read into a `Song`, every mistake reported by field.

The format is documented in docs/song-format.md. Nothing here touches audio
data: stems are described, and opened by appliance.audio.disk.stems. The parts of the
file have readers of their own: song_stems ([[stem]], [click]), song_parts ([[part]],
[parts]), song_sections ([[section]], markers, MIDI messages), song_key_tempo
(transpose, tempo_factor, bpm), song_timing ([[tempo]] or tempo_map); a top-level field
is read here.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..errors import Problems
from ..tomlfields import Table, in_range, load_toml
from .meter import MeterMap
from .chart import CHART_FILE, Chart
from .midi_import import read_midi_events
from .song_chart import chart_sections, chart_timing, read_chart
from .song_key_tempo import KEY_TEMPO_KEYS, read_key_tempo
from .song_parts import PartsSpec, read_parts, without_part_names
from .song_sections import Section, read_markers, read_midi_list, read_sections, warn_same_names
from .song_stems import ClickSpec, StemSpec, read_click, read_stems
from .song_timing import LENGTH_LIMIT, hours, read_timing
from .tempo import MAX_SECONDS, TempoMap

SONG_FILE = "song.toml"
MAX_COUNT_IN = 8                 # bars


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
    parts: PartsSpec | None = None    # a chart song's parts: routes, levels, seed

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
    chart = read_chart(top, folder, problems) if has_chart else None
    timing = chart_timing(top, chart) if has_chart else read_timing(top, folder, problems)
    click = read_click(top.table("click"))
    stems = read_stems(top, folder)
    parts = read_parts(top, has_chart)
    stems = without_part_names(top, stems, parts)
    section_tables = top.tables("section")
    top.read_elsewhere(*KEY_TEMPO_KEYS)
    top.finish()
    if timing is None:
        return None
    tempo, meters, markers, midi_end = timing
    # A bad key or tempo is reported, and the song plays as written: kept apart until then.
    key_tempo = Problems()
    transpose, factor = read_key_tempo(Table(data, file=path, where="", problems=key_tempo),
                                       tempo)
    if chart is not None:
        sections = chart_sections(top, chart, section_tables)
    elif section_tables:
        sections = read_sections(section_tables, meters, tempo, channel)
    else:
        sections = read_markers(top, markers, meters)
    warn_same_names(top, sections)
    end_qn = meters.bar_qn(length_bars + 1) if length_bars else midi_end
    if length_bars and tempo.seconds_at(end_qn) > MAX_SECONDS:
        top.error("length_bars", f"{length_bars} bars last {hours(tempo, end_qn)}; "
                                 f"{LENGTH_LIMIT}")
    if not stems and end_qn is None and len(problems.errors) == before:
        problems.error(path, "length_bars",
                       "a song without stems needs length_bars (or a MIDI tempo_map) to know its end")
    fatal = [p for p in problems.errors[before:] if not p.field.startswith(("stem[", "part"))]
    problems.extend(key_tempo)
    if fatal:       # stem and part problems alone do not stop the show: the rest plays
        return None
    return Song(folder=folder, title=title or folder.name,
                key=key or (chart.key if chart else None), transpose=transpose,
                tempo=tempo.at_factor(factor), meters=meters,
                sections=sections, count_in_bars=count_in or 0,
                count_in_voice=count_in_voice, end_qn=end_qn, click=click,
                stems=[s for s in stems if s is not None], midi=song_midi,
                midi_events=tuple(events), loudness=loudness, chart=chart,
                parts=parts)
