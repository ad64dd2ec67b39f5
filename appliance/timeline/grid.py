"""The song's beats and clicks placed on sample frames at the engine rate.

Everything the listener hears in time (click, sections, later MIDI clock)
comes from here, from the exact tempo map. The click a song plays is a `click_map`, found
on asking; `beats` and `click_schedule` list every beat or click through `Fraction`s, the
slow exact reference the maps are held to (tests/test_beatmap.py, tests/test_click_map.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Iterator

import numpy as np

from .beatmap import BeatMap
from .meter import Meter, MeterMap, MeterSegment
from .song import ClickSpec, Song
from .tempo import TempoMap, TempoPoint

ACCENT, BEAT, SUB = 0, 1, 2   # click kinds: bar downbeat, other beats, subdivisions


@dataclass(frozen=True)
class GridBeat:
    bar: int
    beat: int
    frame: int
    bpm: Fraction
    meter: Meter


def _end_qn(song: Song, rate: int, end_frame: int) -> Fraction:
    return song.tempo.qn_at_seconds(Fraction(end_frame, rate)) + 1


def beats(song: Song, rate: int, end_frame: int) -> Iterator[GridBeat]:
    """Every beat from bar 1 beat 1 (frame 0) to the song's end."""
    for b in song.meters.beats(1, _end_qn(song, rate, end_frame)):
        frame = song.tempo.frame_at(b.qn, rate)
        if frame >= end_frame:
            return
        yield GridBeat(b.bar, b.beat, frame, song.tempo.bpm_at(b.qn), b.meter)


@dataclass(frozen=True)
class CountIn:
    """Clicks before the start position, at the tempo and meter found there."""

    frames: int                  # length; the start position plays at this frame
    beats: list[GridBeat]        # frames relative to the count-in's first frame
    # the same beats as the audio thread reads them, made here with the count-in (by the
    # loader) so that a Play builds nothing per beat: frames, (bar, beat), beat in the bar
    beat_frames: tuple[int, ...] = field(init=False)
    bar_beats: tuple[tuple[int, int], ...] = field(init=False)
    numbers: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "beat_frames", tuple(b.frame for b in self.beats))
        object.__setattr__(self, "bar_beats", tuple((b.bar, b.beat) for b in self.beats))
        object.__setattr__(self, "numbers", tuple(b.beat for b in self.beats))


def count_in(song: Song, rate: int, start_qn: Fraction = Fraction(0)) -> CountIn:
    bars = song.count_in_bars
    bar, _, meter = song.meters.bar_beat_at(start_qn)
    bpm = song.tempo.bpm_at(start_qn)
    beat_frames = meter.beat_qn * 60 * rate / bpm
    total = bars * meter.beats
    beats_ = [GridBeat(bar - bars + i // meter.beats, i % meter.beats + 1,
                       int(i * beat_frames + Fraction(1, 2)), bpm, meter) for i in range(total)]
    return CountIn(int(total * beat_frames + Fraction(1, 2)), beats_)


def clicks_per_beat(spec: ClickSpec) -> Callable[[Meter], int]:
    """How many clicks a beat of a meter gets: every eighth of a compound meter when asked,
    else the song's subdivision."""
    return lambda meter: 3 if (meter.compound and spec.eighths) else spec.subdivision


def click_kind(beat: int, sub: int) -> int:
    """A click's kind from its 0-based beat in the bar and subdivision of that beat."""
    return SUB if sub else (ACCENT if beat == 0 else BEAT)


def click_map(song: Song, rate: int, end_frame: int) -> BeatMap:
    """Every click of the song before `end_frame`, subdivisions included, found on asking:
    its size grows with the tempo and meter changes, not with the song's length."""
    return BeatMap(song.tempo, song.meters, rate, end_frame, clicks_per_beat(song.click))


def count_in_map(ci: CountIn, rate: int) -> BeatMap:
    """The count-in's clicks (its beats, one tempo and one meter) as a map like the song's."""
    first = ci.beats[0]
    return BeatMap(TempoMap([TempoPoint(Fraction(0), first.bpm)]),
                   MeterMap([MeterSegment(Fraction(0), 1, first.meter)]), rate, ci.frames)


def click_schedule(song: Song, rate: int, end_frame: int,
                   start_bar: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(frames int64, kinds int8) of every click from start_bar to end_frame, listed one by
    one through `Fraction`s: the exact reference `click_map` is tested against.

    Frames are song frames (bar 1 beat 1 = 0).
    """
    per_beat = clicks_per_beat(song.click)
    frames: list[int] = []
    kinds: list[int] = []
    for b in song.meters.beats(start_bar, _end_qn(song, rate, end_frame)):
        meter = b.meter
        divisions = per_beat(meter)
        bar_end = song.meters.bar_qn(b.bar + 1)
        for j in range(divisions):
            qn = b.qn + j * meter.beat_qn / divisions
            if qn >= bar_end:
                break
            frame = song.tempo.frame_at(qn, rate)
            if frame >= end_frame:
                break
            frames.append(frame)
            kinds.append(click_kind(b.beat - 1, j))
    return np.array(frames, dtype=np.int64), np.array(kinds, dtype=np.int8)
