"""A song without stems at a new tempo, made ready off the audio thread.

A tap or a BPM nudge on a song with no stems (a chart song: its parts are synthesised as
it plays, its click is arithmetic) changes its tempo at the next beat. Everything that
depends on the tempo map (beats and bars, section frames, the click, the voice's cues,
the song's length in frames, bar 1's count-in) is worked out here, on the retimer thread,
as one `Timing`, published whole (one reference) for the audio thread to take: it switches
the song to it at a beat, moving to the same beat in the new map (see Playhead).

The audio thread asks (`ask`: one reference and an eventfd write, no lock); the newest
request wins, and an answer to an older one is never taken.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from ...lifetime import Lifetime
from ...timeline import cues, grid
from ...timeline.song import Song
from ..mix.click import ClickTrack
from ..mix.cue_track import CueTrack
from ..threads.priority import HELPER, realtime
from ..threads.wake import Wake

if TYPE_CHECKING:
    from .loaded import LoadedSong, Positions

log = logging.getLogger("backline")


@dataclass(frozen=True)
class Timing:
    """What of a song depends on its tempo map, at one tempo factor."""

    song: Song
    frames: int                  # bar 1 beat 1 to the end
    positions: Positions
    click: ClickTrack
    cues: CueTrack | None
    count_ins: dict              # start quarter note -> (CountIn, its click): bar 1's made here
    of: LoadedSong               # the song it was made for
    asked: int                   # the request it answers

    def frame(self, before: Positions, frame: int) -> int:
        """Where song frame `frame` of the map `before` falls in this one."""
        return same_beat(before, self.positions, frame)


def same_beat(before: Positions, after: Positions, frame: int) -> int:
    """Where song frame `frame` of the map `before` falls in the map `after`: at the same
    beat, and as far into it (a loop's ends, a jump's target, a pending command's frame)."""
    old, new = before.beats, after.beats
    i = old.index_at(frame)
    if i < 0:                      # before bar 1: no beat to hold on to
        return frame
    a, b = old.frame(i), old.frame(i + 1)
    na, nb = new.frame(i), new.frame(i + 1)
    return na + (frame - a) * (nb - na) // (b - a) if b > a else na


def timing(loaded: LoadedSong, factor: Fraction, asked: int = 0) -> Timing:
    """`loaded` (a song without stems) at tempo factor `factor`: its written tempo changes
    keep their ratios. Tempo maths and lists: never on the audio thread."""
    from .loaded import Positions, song_frames
    rate = loaded.rate
    song = loaded.song.at(factor, loaded.song.transpose)
    frames = song_frames(song, [], rate)
    click = ClickTrack(grid.click_map(song, rate, frames), loaded.click.sounds)
    voice, track = loaded.cues, None
    if voice is not None:
        lengths = {k: len(v) for k, v in voice.words.items()}
        track = CueTrack(voice.words, cues.guide_cues(song, rate, lengths), voice.counts)
    count_ins = {}
    if song.count_in_bars:
        ci = grid.count_in(song, rate, Fraction(0))
        count_ins[Fraction(0)] = (ci, ClickTrack(grid.count_in_map(ci, rate), click.sounds))
    return Timing(song, frames, Positions.of(song, rate, frames), click, track, count_ins,
                  loaded, asked)


class Retimer(threading.Thread, Lifetime, ends="close"):
    """The thread that does the transport's tempo maths: it makes `Timing`s, and the
    count-in of a start the song rests at. `with Retimer() as r:` does not start it (the
    SongBank starts it with its loader); leaving the block ends it."""

    POLL_S = 1.0          # woken by `ask`; the poll only backs a lost wake-up

    def __init__(self) -> None:
        super().__init__(name="backline-retimer", daemon=True)
        self._asked: tuple[int, LoadedSong, Fraction] | None = None
        self.asks = 0                      # requests made (the audio thread counts them)
        self.ready: Timing | None = None   # the newest answer, swapped in whole
        self.answered = 0                  # the last request answered (or failed): set after
                                           # `ready`, so a reader who sees it finds `ready` set
        self._counts: tuple[int, LoadedSong | None, int] = (0, None, 0)   # a count-in asked
        self._halt = threading.Event()
        self._wake = Wake()

    # -- the audio thread's side ---------------------------------------------------
    def count_in(self, song: LoadedSong, frame: int) -> None:
        """Make `song`'s count-in before song `frame` ready (it rests there: a Play next)."""
        self._counts = (self._counts[0] + 1, song, frame)
        self._wake.set()

    def ask(self, song: LoadedSong, factor: Fraction) -> int:
        """Make `song` ready at `factor`; the request's number (its answer's `asked`)."""
        self.asks += 1
        self._asked = (self.asks, song, factor)
        self._wake.set()
        return self.asks

    def take(self, song: LoadedSong) -> Timing | None:
        """The answer to the newest request, once, if it is for `song`."""
        ready = self.ready
        if ready is None or ready.asked != self.asks or ready.of is not song:
            return None
        self.ready = None
        return ready

    # -- the retimer thread --------------------------------------------------------
    def run(self) -> None:
        realtime(HELPER)
        done = counted = 0
        while not self._halt.is_set():
            n, song, frame = self._counts
            if n != counted:
                counted = n
                try:
                    song.make_count_in(frame)
                except Exception as exc:     # never dies: the Play makes it itself
                    log.error("count-in of %s at frame %d: %s", song.song.name, frame,
                              exc or repr(exc))
            asked = self._asked
            if asked is not None and asked[0] != done:
                done = asked[0]
                try:
                    self.ready = timing(asked[1], asked[2], asked[0])
                except Exception as exc:     # never dies: the song plays on at its tempo
                    log.error("tempo change of %s to %g%%: %s; it plays on as it was",
                              asked[1].song.name, float(asked[2] * 100), exc or repr(exc))
                self.answered = done
                continue
            self._wake.wait(self.POLL_S)

    def close(self) -> None:
        """Idempotent: the thread ended (if started), its wake-up closed."""
        self._halt.set()
        self._wake.set()
        if self.is_alive():
            self.join()
        self._wake.close()
