"""One line of text from the state snapshot: what a terminal shows while playing."""
from __future__ import annotations

from ..audio.state import COUNT_IN, HEALTHY, PAUSED, PLAYING, State

_SYMBOL = {PLAYING: ">", PAUSED: "||", COUNT_IN: "..."}


def clock(seconds: float) -> str:
    minutes, secs = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{secs:04.1f}"


def status_line(s: State, rate: int) -> str:
    parts = [f"{_SYMBOL.get(s.transport, '[]')} {s.transport}"]
    if s.song:
        where = f" [{s.index}/{s.count}]" if s.count > 1 else ""
        parts.append(f"{s.song}{where}")
    if s.section:
        parts.append(s.section)
    parts.append(f"{s.bar}.{s.beat}")
    if s.bpm:
        parts.append(f"{s.bpm:g} bpm {s.meter}")
    parts.append(f"{clock(s.seconds)}/{clock(s.song_frames / rate)}")
    for extra in (s.pending, s.vamp):
        if extra:
            parts.append(extra)
    if s.health != HEALTHY or s.xruns:
        parts.append(f"{s.health.upper()} xruns {s.xruns}")
    if s.disk_underruns:
        parts.append(f"disk late {s.disk_underruns}")
    if s.failed_stems:
        parts.append("FAILED " + ",".join(s.failed_stems))
    if s.problem:
        parts.append(s.problem)
    if s.rejected:
        parts.append(f"({s.rejected})")
    return "  ".join(parts)
