"""The song's beats and clicks placed on sample frames at the engine rate.

Everything the listener hears in time (click, sections, later MIDI clock)
comes from here, computed once when a song is loaded, from the exact tempo map.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import numpy as np

from .meter import Meter
from .song import Song

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


def count_in(song: Song, rate: int, start_qn: Fraction = Fraction(0)) -> CountIn:
    bars = song.count_in_bars
    bar, _, meter = song.meters.bar_beat_at(start_qn)
    bpm = song.tempo.bpm_at(start_qn)
    beat_frames = meter.beat_qn * 60 * rate / bpm
    total = bars * meter.beats
    beats_ = [GridBeat(bar - bars + i // meter.beats, i % meter.beats + 1,
                       int(i * beat_frames + Fraction(1, 2)), bpm, meter) for i in range(total)]
    return CountIn(int(total * beat_frames + Fraction(1, 2)), beats_)


def click_schedule(song: Song, rate: int, end_frame: int,
                   start_bar: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(frames int64, kinds int8) of every click from start_bar to end_frame.

    Frames are song frames (bar 1 beat 1 = 0). A few bytes per beat: an hour
    at 120 bpm with sixteenths is under 300 kB, so the whole song is scheduled
    at load and the audio thread only searches it.
    """
    spec = song.click
    frames: list[int] = []
    kinds: list[int] = []
    for b in song.meters.beats(start_bar, _end_qn(song, rate, end_frame)):
        meter = b.meter
        divisions = 3 if (meter.compound and spec.eighths) else spec.subdivision
        bar_end = song.meters.bar_qn(b.bar + 1)
        for j in range(divisions):
            qn = b.qn + j * meter.beat_qn / divisions
            if qn >= bar_end:
                break
            frame = song.tempo.frame_at(qn, rate)
            if frame >= end_frame:
                break
            frames.append(frame)
            kinds.append(SUB if j else (ACCENT if b.beat == 1 else BEAT))
    return np.array(frames, dtype=np.int64), np.array(kinds, dtype=np.int8)


def count_in_schedule(ci: CountIn) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([b.frame for b in ci.beats], dtype=np.int64),
            np.array([ACCENT if b.beat == 1 else BEAT for b in ci.beats], dtype=np.int8))
