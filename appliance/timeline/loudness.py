"""A song's measured FOH loudness, kept in `loudness.toml` beside song.toml, and the gain
that plays it at the box's target.

The box writes this file (`backline import`, `backline prepare`); song.toml stays the
musician's. What was measured is kept (integrated loudness, true peak), not the gain, so a
new target or ceiling in the config needs no new measurement. The measurement is tied to
the mix it was made of by a fingerprint (each stem's file, size, modification time, gain,
mute and route, and the box's front-of-house channels; a chart song's chart, parts and
SoundFont): a song edited since is played as mixed, and `check` says to measure it again,
rather than at a gain meant for another mix.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problems
from ..files import replace_file
from ..tomlfields import Table, in_range, load_toml
from .song import Song

LOUDNESS_FILE = "loudness.toml"
TP_MARGIN_DB = 0.1     # kept under the ceiling: two 4x true-peak estimates differ by hundredths


@dataclass(frozen=True)
class Measured:
    integrated_lufs: float       # -inf: silent (under BS.1770's absolute gate)
    true_peak_dbtp: float
    fingerprint: str


@dataclass(frozen=True)
class Level:
    """What the box does with a song's loudness: the gain on its FOH mix and why."""
    gain_db: float
    measured: Measured | None
    note: str            # "" when the gain applies; else why it is 0 dB

    def describe(self) -> str:
        m = self.measured
        if m is None:
            return self.note
        shown = "silent" if m.integrated_lufs == -math.inf else f"{m.integrated_lufs:.1f} LUFS"
        text = f"{shown}, true peak {m.true_peak_dbtp:+.1f} dBTP"
        return f"{text}; {self.note}" if self.note else f"{text}, gain {self.gain_db:+.1f} dB"


def _file(path: Path) -> list:
    """A file as a fingerprint knows it: its name, size and modification time."""
    try:
        st = os.stat(path)
        size, mtime = st.st_size, st.st_mtime_ns
    except OSError:
        size = mtime = -1
    return [path.name, size, mtime]


def _parts(song: Song, sound: Path) -> list:
    """What a chart song's parts add to its mix: the chart as played (bars, chords, the
    tempo map, the transposition), the parts' levels, routes, programs, seed and starting
    intensity, and the SoundFont they sound with (each General MIDI set has its own levels)."""
    chart = song.chart
    played = repr((chart.bars, chart.chords, chart.end_qn, song.tempo.points,
                   song.tempo.factor, song.transpose, song.parts))
    return [hashlib.sha256(played.encode()).hexdigest(), _file(sound)]


def fingerprint(song: Song, front: dict[str, tuple[int, ...]], sound: Path | None = None) -> str:
    """What a measurement of `song`'s FOH mix depends on; another value: measure again.
    `sound`: the SoundFont a chart song's parts play with (None: no parts sound)."""
    stems = [[*_file(s.file), s.gain_db, s.muted,
              sorted((k, list(v) if v else None) for k, v in s.route.items())]
             for s in song.stems]
    mix = [stems, sorted((k, list(v)) for k, v in front.items())]
    if sound is not None:
        mix.append(_parts(song, sound))
    return hashlib.sha256(json.dumps(mix).encode()).hexdigest()[:20]


def parts_silent(why: str) -> str:
    """Why a chart song whose parts cannot sound on this box has no loudness to play at."""
    return f"loudness not measured: its parts cannot sound here ({why})"


def gain_db(m: Measured, target_lufs: float, ceiling_dbtp: float) -> float:
    """The gain that brings the mix to the target, but never its true peak over the ceiling."""
    if not math.isfinite(m.integrated_lufs):
        return 0.0
    return min(target_lufs - m.integrated_lufs, ceiling_dbtp - TP_MARGIN_DB - m.true_peak_dbtp)


def write_measured(folder: Path, m: Measured) -> None:
    """Atomically (see files.replace_file); TOML has no -inf, so a silent song says so."""
    lufs = "\"silent\"" if m.integrated_lufs == -math.inf else f"{m.integrated_lufs:.3f}"
    replace_file(Path(folder) / LOUDNESS_FILE,
                 "# written by backline import / backline prepare: the FOH mix as measured\n"
                 f"integrated_lufs = {lufs}\ntrue_peak_dbtp = {m.true_peak_dbtp:.3f}\n"
                 f"fingerprint = \"{m.fingerprint}\"\n")


def read_measured(folder: Path, problems: Problems) -> Measured | None:
    path = Path(folder) / LOUDNESS_FILE
    data = load_toml(path, problems)
    if data is None:
        return None
    t = Table(data, file=path, where="", problems=problems)
    raw = t.data.get("integrated_lufs")
    lufs = -math.inf if raw == "silent" else t.get("integrated_lufs", float, check=in_range(-200, 30))
    t.read_elsewhere("integrated_lufs")
    peak = t.get("true_peak_dbtp", float, check=in_range(-400, 60))
    fp = t.get("fingerprint", str)
    t.finish()
    if lufs is None or peak is None or fp is None:
        return None
    return Measured(lufs, peak, fp)


def song_level(song: Song, front: dict[str, tuple[int, ...]], target_lufs: float,
               ceiling_dbtp: float, problems: Problems, *, sound: Path | None = None,
               silent_parts: str = "") -> Level:
    """The FOH gain the song plays at; problems gets why none applies, when that is news.
    `sound`: the SoundFont its parts play with; `silent_parts`: why they cannot sound."""
    if not song.loudness:
        return Level(0.0, None, "loudness = false: played as mixed")
    if not front:
        return Level(0.0, None, "no front-of-house output on this box")
    if silent_parts:
        return Level(0.0, None, parts_silent(silent_parts))
    path = song.folder / LOUDNESS_FILE
    if not path.exists():
        return Level(0.0, None, "loudness not measured (backline prepare)")
    m = read_measured(song.folder, problems)
    if m is None:
        return Level(0.0, None, f"{LOUDNESS_FILE} unreadable: played as mixed")
    if m.fingerprint != fingerprint(song, front, sound):
        what = "stems, levels or routes" if sound is None else \
            "stems, levels, routes, the chart, its parts or the SoundFont"
        problems.warn(path, "fingerprint", f"measured for another mix ({what} changed since): "
                      "played as mixed; `backline prepare` measures it again")
        return Level(0.0, m, "measured for another mix: played as mixed")
    return Level(gain_db(m, target_lufs, ceiling_dbtp), m, "")
