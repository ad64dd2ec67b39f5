"""A song's count-in: its own click track, played before bar 1 (or before the bar a Play
starts from), with the beats that say which bar and beat of it sounds.

Audio thread: `play` mixes into the period; `begin` takes the count-in's beats as the
loader (bar 1's) or the retimer (another start's, made while the song rested there) made
them: tuples, never changed, so a published moment may keep them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mix.mixer import COUNT_IN_INPUT, CUE_INPUT

if TYPE_CHECKING:
    from ..disk.loaded import LoadedSong


class CountIn:
    def __init__(self) -> None:
        self.track = None
        self.length = self.pos = 0
        self.frames: tuple[int, ...] = ()            # each count-in beat's frame
        self.bars: tuple[tuple[int, int], ...] = ()  # and its (bar, beat)
        self.start = 0                               # the song frame it counts in to

    def begin(self, song: LoadedSong, pos: int) -> None:
        """Count in to song frame `pos` (the song's count-in built for that beat)."""
        ci, self.track = song.count_in_at(pos)
        self.length, self.pos = ci.frames, 0
        self.frames, self.bars = ci.beat_frames, ci.bar_beats    # made by the loader
        self.start = pos
        song.cues.count_in(pos, ci.frames, ci.beat_frames, ci.numbers)

    def cut(self) -> None:
        self.length = self.pos = 0

    @property
    def left(self) -> int:
        return self.length - self.pos

    def play(self, seg: np.ndarray, song: LoadedSong) -> bool:
        """Mix the count-in into `seg` (cut to what is left of it: see `left` before);
        True when it has ended."""
        mix_count_in(seg, song, self.track, self.pos, self.start - self.length + self.pos)
        self.pos += seg.shape[0]
        if self.pos < self.length:
            return False
        self.cut()
        return True


def mix_count_in(seg: np.ndarray, song: LoadedSong, track, pos: int, song_frame: int) -> None:
    """Mix frames from `pos` of a count-in's clicks (`track`) into `seg`, and its numbers
    (`LoadedSong.cues`, told by `CueTrack.count_in`), song frame `song_frame` on."""
    mixer = song.mixer
    mixer.mix_source_into(seg, pos, mixer.input(COUNT_IN_INPUT), track)
    if song.cues.counts:
        mixer.mix_source_into(seg, song_frame, mixer.input(CUE_INPUT),
                              song.cues.count_in_source, advance=False)
