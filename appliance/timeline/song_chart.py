"""A chart song's parts of song.toml: its chord chart (`chart = "..."`, else chart.txt beside
it), whose tempo map, meters and sections are the song's, so [[tempo]], tempo_map and
[[section]] beside it are errors rather than a second, conflicting map."""
from __future__ import annotations

from pathlib import Path

from ..errors import Problems
from ..tomlfields import Table
from .chart import CHART_FILE, Chart, chart_from_text, load_chart
from .song_sections import Section


def read_chart(top: Table, folder: Path, problems: Problems) -> Chart | None:
    """The song's chord chart: `chart = "..."` in song.toml, else chart.txt beside it."""
    if not top.has("chart"):
        return load_chart(folder / CHART_FILE, problems)
    text = top.get("chart", str, None)
    return None if text is None else chart_from_text(text, top.file, problems, "chart")


def chart_timing(top: Table, chart: Chart | None):
    """A chart song's tempo and meters are its chart's: [[tempo]] or tempo_map beside it
    would be a second, conflicting map. None when the chart could not be read."""
    for key in ("tempo", "tempo_map"):
        if top.has(key) and not isinstance(top.data.get(key), (int, float)):
            top.error(key, "a chart song's tempo and meter come from its chart; "
                           f"remove {key} (or the chart)")
    top.read_elsewhere("tempo", "tempo_map")
    return None if chart is None else (chart.tempo, chart.meters, [], chart.end_qn)


def chart_sections(top: Table, chart: Chart, tables: list[Table]) -> list[Section]:
    if tables:
        top.error("section", "a chart song's sections come from its chart; remove the "
                             "[[section]] entries (or the chart)")
    return [Section(s.name, s.qn, s.bar, field=f"chart line {s.line}") for s in chart.sections]
