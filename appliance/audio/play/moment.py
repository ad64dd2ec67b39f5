"""The transport's published moment: one record, built each period and swapped in whole,
from which any thread builds a `State` (`snapshot`). Its fields are the values of that
period, or objects never changed after they are published (a song, a pending command,
the count-in's lists, the mix levels' tuples).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ...vocab.state import Loudness, State, StemLevel, TransportState
from ..mix.mixer import COUNT_IN_INPUT

if TYPE_CHECKING:
    from ...timeline.loudness import Level
    from ..disk.loaded import LoadedSong, Timed
    from ..disk.show import Show
    from ..mix.mixer import Mixer


@dataclass(frozen=True)
class Pending:
    """A command waiting for its frame (the next beat, bar or section)."""
    frame: int           # song frame it happens at
    kind: str            # "jump", "stop", "pause"
    to: int = 0          # jump target
    text: str = ""
    what: str = ""       # the jump target in words ("Chorus", "bar 17")


@dataclass(frozen=True)
class Loop:
    """A vamp: from `end` back to `start` until released."""
    start: int
    end: int
    text: str


class Moment(NamedTuple):
    state: TransportState
    song: LoadedSong | None
    index: int                          # setlist position, from 0
    pos: int                            # song frame
    ci_pos: int                         # count-in frames played
    ci_len: int                         # count-in frames in all (0: none)
    ci_frames: tuple[int, ...]
    ci_bars: tuple[tuple[int, int], ...]
    pending: Pending | None
    loop: Loop | None
    rejected: str
    problem: str
    songs_ended: int
    mix: tuple[StemLevel, ...]
    gains: tuple[tuple[str, float], ...]
    waiting: str
    refusals: int
    timed: Timed | None                 # the song's tempo-shaped fields `pos` is a frame of


class MixLevels:
    """The stems' levels and the outputs' masters as published: made again only when the
    mixer changes (a new song, or its `version` moved), not every period."""

    def __init__(self) -> None:
        self._of: tuple = (None, -1)
        self._levels: tuple[tuple[StemLevel, ...], tuple[tuple[str, float], ...]] = ((), ())

    def of(self, mixer: Mixer | None) -> tuple[tuple[StemLevel, ...], tuple[tuple[str, float], ...]]:
        """The levels of `mixer` (None: the last ones made)."""
        if mixer is not None and (mixer, mixer.version) != self._of:
            self._of = (mixer, mixer.version)
            self._levels = (tuple(StemLevel(i.name, i.gain_db, i.muted, i.solo,
                                            tuple(i.sends.items()))
                                  for i in mixer.inputs if i.name != COUNT_IN_INPUT),
                            tuple(mixer.output_gain_db.items()))
        return self._levels


def snapshot(m: Moment, show: Show, rate: int, **engine_fields) -> State:
    """The State of moment `m` of `show`; any thread may call it."""
    engine_fields.setdefault("problem", m.problem)
    count = len(show.entries)
    nxt = m.index + 1
    common = dict(transport=m.state, index=m.index + 1, count=count, setlist=show.name,
                  next_song=show.entries[nxt].name if nxt < count else "",
                  rejected=m.rejected, refusals=m.refusals, songs_ended=m.songs_ended,
                  **engine_fields)
    song, pos = m.song, m.pos
    if song is None:
        return State(song_name=show.entries[m.index].name if count else "", **common)
    written, frames, p = m.timed
    beats = p.beats
    bar, beat, bpm, meter, phase = 1, 1, 0.0, "", 0.0
    i = min(beats.index_at(pos), beats.count - 1)
    if m.state == TransportState.COUNT_IN and m.ci_frames:
        k = max(0, bisect.bisect_right(m.ci_frames, m.ci_pos) - 1)
        bar, beat = m.ci_bars[k]
        phase = _phase(m.ci_pos, m.ci_frames[k], m.ci_frames[k + 1] if k + 1 < len(m.ci_frames)
                       else m.ci_len)
    elif i >= 0:
        bar, beat = beats.bar_beat(i)
        phase = _phase(pos, beats.frame(i), beats.frame(i + 1)
                       if i + 1 < beats.count else frames)
    if beats.count:
        bpm, meter = beats.tempo(max(i, 0))
    s = int(np.searchsorted(p.section_frames, pos, "right")) - 1
    return State(
        song=written.title, song_name=written.name, key=written.key or "",
        section=written.sections[s].name if s >= 0 else "",
        sections=tuple(x.name for x in written.sections),
        bar=bar, beat=beat, beat_phase=phase, bpm=bpm, meter=meter, frame=pos, seconds=pos / rate,
        song_frames=frames, count_in_left=m.ci_len - m.ci_pos,
        pending=m.pending.text if m.pending else "", vamp=m.loop.text if m.loop else "",
        waiting=f"waiting for {m.waiting}" if m.waiting else "",
        mix=m.mix, output_gain_db=m.gains, disk_underruns=song.underruns,
        failed_stems=tuple(song.failed_stems()),
        stem_problems=tuple(song.troubles()), loudness=loudness(song.level), **common)


def loudness(level: Level | None) -> Loudness:
    """The song's `Level` as the State carries it: the measurement only when its gain
    applies (one made for another mix is not what plays)."""
    if level is None:
        return Loudness()
    m = level.measured
    return Loudness(m.integrated_lufs if m is not None and not level.note else None,
                    level.gain_db, level.note)


def _phase(pos: int, start: int, end: int) -> float:
    """How far through its beat `pos` is, 0 to 1: what a tempo light flashes from."""
    return min(1.0, max(0.0, (pos - start) / (end - start))) if end > start else 0.0
