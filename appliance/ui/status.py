"""One line of text from the state snapshot: what a terminal shows while playing."""
from __future__ import annotations

import math

import numpy as np

from ..vocab.state import Health, Loudness, RecordState, State, TransportState, clock

METER_DB = 48           # a meter shows the top 48 dB
METER_WIDTH = 10

_SYMBOL = {TransportState.PLAYING: ">", TransportState.PAUSED: "||", TransportState.COUNT_IN: "..."}


def time_left(seconds: float) -> str:
    """Recording time on the disk, as a musician reads it: `2 h 10 min`, `45 min`, `30 s`."""
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    return f"{int(seconds // 60)} min" if seconds >= 60 else f"{int(seconds)} s"


def level_text(level: Loudness) -> str:
    """The song's measured loudness and the gain it plays at, "-14.2 LUFS -1.8 dB" (as
    `backline check` says it, shorter), or "" when no gain applies."""
    if level.lufs is None:
        return ""
    shown = "silent" if level.lufs == -math.inf else f"{level.lufs:.1f} LUFS"
    return f"{shown} {level.gain_db:+.1f} dB"


def dynamics(s: State) -> str:
    """A chart song's parts' intensity, "dyn 60%", or "" for a song without parts."""
    i = s.key_tempo.intensity
    return "" if i is None else f"dyn {i * 100:.0f}%"


def song_line(s: State) -> str:
    """The song page's small line: a refusal, else the parts' dynamics and the loudness."""
    return s.rejected or " ".join(filter(None, (dynamics(s), level_text(s.loudness))))


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
    if s.key:
        parts.append(f"key {s.key}")
    parts.append(f"{clock(s.seconds)}/{clock(s.song_frames / rate)}")
    for extra in (s.waiting, s.pending, s.vamp):
        if extra:
            parts.append(extra)
    health = s.health.upper() if s.health != Health.HEALTHY else ""    # now; the counts: history
    if health or s.xruns:
        parts.append(f"{health} xruns {s.xruns}".strip())
    if s.disk_underruns:
        parts.append(f"disk late {s.disk_underruns}")
    parts.extend(f"limited {out} {n}" for out, n in s.limited if n)
    if s.failed_stems:
        parts.append("FAILED " + ",".join(s.failed_stems))
    if s.problem:
        parts.append(s.problem)
    if s.rejected:
        parts.append(f"({s.rejected})")
    return "  ".join(parts)


def meter(peak: float) -> str:
    """`[######----] -12 dB`: a peak meter (0 dBFS full; `!` at the clip)."""
    db = 20 * math.log10(peak) if peak > 0 else -math.inf
    lit = 0 if db == -math.inf else round(METER_WIDTH * max(0.0, 1 + db / METER_DB))
    bar = "#" * lit + "-" * (METER_WIDTH - lit)
    return f"[{bar}]{'!' if peak >= 1.0 else ' '}{'-inf' if db == -math.inf else f'{db:.0f}':>4} dB"


def record_line(r: RecordState, peaks: np.ndarray, inputs: dict[str, int]) -> str:
    """What `backline record` shows: the take's length, a meter per armed input, time left."""
    parts = [f"REC {clock(r.seconds)}" if r.running else "rec stopped"]
    for name in r.armed:
        ch = inputs[name] - 1
        parts.append(f"{name} {meter(float(peaks[ch]) if ch < len(peaks) else 0.0)}")
    if r.left_s is not None:
        parts.append(f"{time_left(r.left_s)} left")
    if r.problem:
        parts.append(r.problem)
    return "  ".join(parts)
