"""The playhead between periods: which song it holds (taken from the SongBank when ready,
a variant swapped in while stopped), starting, resting and waiting for a jump target's
audio, and the `Moment` it publishes. Rendering a period is `Playhead`'s (playhead.py).

Audio thread only: no disk, no logging, no locks; songs come ready from the SongBank.
"""
from __future__ import annotations

import numpy as np

from ...vocab.state import TransportState
from ..disk.loaded import LoadedSong
from ..disk.show import SongBank
from .count_in import CountIn
from .cursor import SetlistCursor
from .fade import FADE_S, Fade, Rest
from .live_mix import LiveMix
from .moment import Loop, MixLevels, Moment, Pending

WAIT_FOR_AUDIO = "wait"  # a fade-out that ends waiting for a jump target's audio


class Stage(LiveMix):
    def __init__(self, bank: SongBank, *, rate: int, channels: int, block: int) -> None:
        super().__init__()
        self.bank, self.rate, self.channels, self.block = bank, rate, channels, block
        self.fade = max(1, int(rate * FADE_S))
        self._tmp = np.zeros((block, channels), dtype=np.float32)
        self.setlist = SetlistCursor(bank, rate=rate, block=block)
        self.song: LoadedSong | None = None
        self.state = TransportState.LOADING
        self.autoplay = False
        self.pos = 0
        self.pending: Pending | None = None
        self.loop: Loop | None = None
        self.rejected = ""
        self.refusals = 0        # counted, so the same refusal again is news again
        self.problem = ""
        self.songs_ended = 0
        self.count_in = CountIn()
        self._in = Fade(block)           # stems fading in: a jump's crossfade, or a fade-in
        self._in_from: int | None = None  # a jump's old position, fading out meanwhile
        self._quiet = Rest(block)        # a fade to silence, then stop, pause or wait
        self._waiting = ""     # what a jump or start waits for the audio of ("": not waiting)
        self._wait_fade = 0    # and its fade-in once that audio is in memory
        self._levels = MixLevels()
        if not self.setlist.count:           # an empty library: the box idles, and says so
            self.state, self.problem = TransportState.STOPPED, "no songs"
        self.setlist.want()
        self._take_ready()
        self.publish()

    # -- songs --------------------------------------------------------------
    def _take_ready(self) -> None:
        if self.state != TransportState.LOADING:
            return
        song, problem, dead_end = self.setlist.take()
        if problem:
            self.problem = problem
        if dead_end:
            self.state = TransportState.STOPPED
            self.autoplay = False
            return
        if song is None:
            return
        self._switch(song)
        self.state = TransportState.STOPPED
        if self.autoplay:
            self.autoplay = False
            self._start()

    def _take_variant(self) -> None:
        """Stopped: the song again at the key and tempo the musician chose, once the loader
        holds it in place of the one here (never mid-song); its stems' levels as they were."""
        new = self.bank.get(self.setlist.index)
        if new is None or new is self.song or self.song is None:
            return
        self._carry_levels(self.song, new)
        self._switch(new)

    def _carry_levels(self, old: LoadedSong, new: LoadedSong) -> None:
        """`new` (the same song at another key or tempo) with `old`'s stems' levels."""
        for inp in new.mixer.inputs:
            try:
                was = old.mixer.input(inp.name)
            except KeyError:
                continue
            inp.gain_db, inp.muted, inp.solo = was.gain_db, was.muted, was.solo
            inp.sends.update(was.sends)

    def _switch(self, song: LoadedSong) -> None:
        self.song = self.bank.keys.playing = song
        self.pos = 0
        self.pending = None
        self.loop = None
        self.problem = self.setlist.arrived()
        self._carry_mix()
        song.prepare(0)

    def _select(self, index: int) -> None:
        song = self.setlist.move(index)
        if song is None:
            self.song = None
            self.state = TransportState.LOADING
        else:
            self._switch(song)
            self.state = TransportState.STOPPED

    # -- starting and stopping --------------------------------------------------------
    def _start(self) -> None:
        """Play from the current position, after the song's count-in if it has one."""
        song = self.song
        song.prepare(self.pos)
        if song.song.count_in_bars:
            self.count_in.begin(song, self.pos)
            self.state = TransportState.COUNT_IN
        else:
            self.state = TransportState.PLAYING
            self._sound_from_here(0)

    def _rest(self, state: str, pos: int) -> None:
        """Go quiet at once (nothing is sounding, or the count-in is cut)."""
        self.state = state
        self.pos = pos
        self.pending = None
        self.loop = None
        self.count_in.cut()
        self._in.stop()
        self._quiet.stop()
        self._waiting = ""
        if self.song is not None:
            self.song.prepare(pos)

    def _begin_rest(self, state: str, pos: int, select: int | None = None) -> None:
        """Fade to silence over FADE_S, then stop or pause at `pos` (and maybe change song)."""
        self._quiet.begin(self.fade, state, pos, select)
        self.pending = None

    @property
    def _stopping(self) -> bool:
        """Fading out to stop or pause (not to wait for a jump's audio)."""
        return bool(self._quiet) and self._quiet.then != WAIT_FOR_AUDIO

    @property
    def _silent(self) -> bool:
        """Waiting for audio not in memory yet: playing, but nothing sounds and the
        position stands (the old position's fade-out is over)."""
        return bool(self._waiting) and not self._quiet

    def _sound_from_here(self, fade: int) -> None:
        """Play on from `pos` (stems fading in over `fade` frames; 0: at full level) now if
        its audio is in memory, else wait silent for it."""
        if self.song.stream.ready_at(self.pos):
            if fade:
                self._fade_in(fade)
        else:
            self._waiting = f"bar {self._bar_at(self.pos)}"
            self._wait_fade = fade

    def _fade_in(self, frames: int, from_frame: int | None = None) -> None:
        self._in_from = from_frame
        self._in.start(frames)

    # -- what everyone else reads ---------------------------------------------
    def _bar_at(self, frame: int) -> int:
        return self.song.positions.beats.bar_at(frame)

    def publish(self) -> None:
        """What readers see: one record, swapped in whole (cheap enough for every period)."""
        song, ci = self.song, self.count_in
        mix, gains = self._levels.of(song.mixer if song is not None else None)
        self.moment = Moment(self.state, song, self.setlist.index, self.pos, ci.pos, ci.length,
                             ci.frames, ci.bars, self.pending, self.loop, self.rejected,
                             self.problem, self.songs_ended, mix, gains, self._waiting,
                             self.refusals, song.timed if song is not None else None)

    @property
    def timeline_frame(self) -> int:
        """The song frame sounding now, counting the count-in as frames before bar 1."""
        return self.pos - self.count_in.left
