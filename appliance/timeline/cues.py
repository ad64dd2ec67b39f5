"""Where the voice speaks: the count-in's numbers and each section's guide word, placed
on sample frames from the song's tempo and meter maps (so a scaled tempo map moves them too).

Pure: words are names here (`word_key` spelling), their sounds and lengths come from
appliance.audio.disk.voice. docs/song-format.md (Voice) says the rules.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Mapping

from .meter import MeterMap
from .song import Section, Song

NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
           "eleven", "twelve")
VOCABULARY = ("Intro", "Verse", "Pre-chorus", "Chorus", "Bridge", "Solo", "Break", "Breakdown",
              "Interlude", "Tag", "Outro", "Ending", "Last time", "Acapella", "Build", "Drop",
              "Key change", "Vamp")


def word_key(word: str) -> str:
    """A word as its file is named: lower case, spaces as '-' ("Last time" -> "last-time")."""
    return "-".join(word.lower().split())


BUILT_IN = NUMBERS + tuple(word_key(w) for w in VOCABULARY)


@dataclass(frozen=True)
class Cue:
    frame: int        # where the word's first frame sounds (song frames)
    word: str         # its key
    target: int       # the frame it announces: its section's start


def guide_word(section: Section) -> str | None:
    """The key of the word said before `section`: its `guide`, else its name when that is
    a built-in word; None: silent (`guide = ""`, or a name outside the vocabulary)."""
    text = section.guide if section.guide is not None else section.name
    key = word_key(text)
    if not key or (section.guide is None and key not in BUILT_IN):
        return None
    return key


def beats_before(meters: MeterMap, qn: Fraction, beats: Fraction) -> Fraction:
    """The position `beats` beats before `qn`, each beat of the meter it falls in (a meter
    change on the way counts the beats of each side; before bar 1, the first meter's)."""
    qns = [s.qn for s in meters.segments]
    while True:
        i = max(0, bisect.bisect_left(qns, qn) - 1)       # the segment just before qn
        seg = meters.segments[i]
        room = (qn - seg.qn) / seg.meter.beat_qn
        if i == 0 or room >= beats:
            return qn - beats * seg.meter.beat_qn
        beats -= room
        qn = seg.qn


def lead_beats(song: Song, section: Section) -> Fraction:
    """How many beats before `section` its word starts: `guide_beats`, else one bar of
    the meter before it."""
    if section.guide_beats is not None:
        return Fraction(section.guide_beats)
    return Fraction(song.meters.meter_at_bar(section.bar - 1).beats)


def guide_cues(song: Song, rate: int, lengths: Mapping[str, int]) -> list[Cue]:
    """The song's guide cues in time order. A cue before frame 0 is left out (bar 1 has no
    room before it; the count-in has its numbers), as is one whose word has no sound
    (not in `lengths`) and one that would start while the previous word still sounds: every
    word that plays, plays whole."""
    placed = []
    for s in song.sections:
        key = guide_word(s)
        if key is None or key not in lengths:
            continue
        frame = song.tempo.frame_at(beats_before(song.meters, s.qn, lead_beats(song, s)), rate)
        if frame >= 0:
            placed.append(Cue(frame, key, song.tempo.frame_at(s.qn, rate)))
    return list(_one_at_a_time(sorted(placed, key=lambda c: c.frame), lengths))


def _one_at_a_time(cues: list[Cue], lengths: Mapping[str, int]) -> Iterable[Cue]:
    free = None
    for c in cues:
        if free is None or c.frame >= free:
            free = c.frame + lengths[c.word]
            yield c


def count_in_words(beats: Iterable[int]) -> list[str | None]:
    """The number said on each count-in beat (its 1-based beat in the bar, as the click
    counts the meter: 6/8 has two, 7/8 seven); None past twelve."""
    return [NUMBERS[b - 1] if b <= len(NUMBERS) else None for b in beats]
