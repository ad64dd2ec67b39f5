"""The transport's playhead: which frames of which song sound at each sample.

`render` fills one period, cut at each event: a pending command's frame, a vamp's end,
the song's end or its crossfade's start (the setlist cursor says which song and when).
Jumps crossfade the stems (the click continuous); a jump whose audio is not in memory
yet fades out, then *waits* silent at its target until the disk has read it (see
docs/engine.md, Jumps). Every change of level is a `Fade`: the fade-in or a jump's
crossfade, the fade to rest, the outgoing song of a setlist crossfade.

Audio thread only: no disk, no logging, no locks; songs come ready from the SongBank.
"""
from __future__ import annotations

import numpy as np

from ...vocab.segments import KIND_COUNT_IN, KIND_PLAYING, SegmentLog
from ...vocab.state import TransportState
from ..disk.loaded import LoadedSong
from ..disk.show import SongBank
from .count_in import CountIn
from .cursor import SetlistCursor
from .fade import FADE_S, Fade, Rest, add_faded
from .live_mix import LiveMix
from .moment import Loop, MixLevels, Moment, Pending

_WAIT = "wait"          # a fade-out that ends waiting for a jump target's audio


class Playhead(LiveMix):
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
        for inp in new.mixer.inputs:
            try:
                old = self.song.mixer.input(inp.name)
            except KeyError:
                continue
            inp.gain_db, inp.muted, inp.solo = old.gain_db, old.muted, old.solo
            inp.sends.update(old.sends)
        self._switch(new)

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
            self.count_in.begin(song, self.pos, self.rate)
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
        return bool(self._quiet) and self._quiet.then != _WAIT

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

    # -- rendering -------------------------------------------------------------
    def render(self, out: np.ndarray, log: SegmentLog | None = None, out_frame: int = 0) -> None:
        """Add one period (any length) to `out`, which the caller has zeroed; what played
        goes into `log`, `out_frame` being the period's first output frame."""
        self._take_ready()
        if self.state == TransportState.STOPPED:
            self._take_variant()
        n = out.shape[0]
        i = 0
        guard = 0
        while i < n and guard < 64:
            state, timeline, silent = self.state, self.timeline_frame, self._silent
            k = self._step(out[i: i + min(n - i, self.block)])
            if log is not None and k > 0 and state in (TransportState.PLAYING, TransportState.COUNT_IN) and not silent:
                log.add(out_frame + i, timeline, k, KIND_COUNT_IN if state == TransportState.COUNT_IN else
                        KIND_PLAYING, self.setlist.index, self.pos)
            i += k
            guard = guard + 1 if k == 0 else 0
            if k == 0 and self.state not in (TransportState.PLAYING, TransportState.COUNT_IN):
                break
        self.publish()

    def _step(self, seg: np.ndarray) -> int:
        if self.state == TransportState.COUNT_IN:
            k = min(seg.shape[0], self.count_in.left)
            if self.count_in.play(seg[:k], self.song):
                self.state = TransportState.PLAYING
                self._sound_from_here(0)
            return k
        if self.state != TransportState.PLAYING:
            return 0
        if self._silent:
            return self._wait(seg.shape[0])
        k = seg.shape[0]
        event = None
        if self._quiet:                   # a fade-out plays to its end, past any event
            k = min(k, self._quiet.left)
        else:
            event = self._next_event()
            k = min(k, event - self.pos)
            if self._in:
                k = min(k, self._in.left)
        if self.setlist.out is not None:
            k = min(k, self.setlist.out_fade.left)
        if k > 0:
            self._sound(seg[:k], k)
        if self.pos == event and self.state == TransportState.PLAYING:
            self._event()
        return k

    def _wait(self, n: int) -> int:
        """`n` frames of silence while the audio at `pos` is not in memory; 0 once it is,
        and play goes on from there. A command pending acts at once: nothing moves."""
        p = self.pending
        if p is not None:
            self.pending = None
            if p.kind == "stop":
                self._rest(TransportState.STOPPED, 0)
                return 0
            if p.kind == "pause":
                self._rest(TransportState.PAUSED, self.pos)
                return 0
            self.loop = None
            self.pos, self._waiting, self._wait_fade = p.to, p.what, self.fade
        song = self.song
        song.cue(self.pos)               # a ring is headed for it (a no-op when one is)
        if not song.stream.ready_at(self.pos):
            return n
        self._waiting = ""
        if self._wait_fade:
            self._fade_in(self._wait_fade)
        return 0

    def _next_event(self) -> int:
        event = self.setlist.takes_over_at(self.song, self.pos)
        if self.loop is not None and self.pos < self.loop.end:
            event = min(event, self.loop.end)
        if self.pending is not None and self.pending.frame >= self.pos:
            event = min(event, self.pending.frame)
        return max(event, self.pos)

    def _sound(self, seg: np.ndarray, k: int) -> None:
        song = self.song
        song.cues.follow(self.loop, self.pending)     # the voice says where the song goes
        if self._quiet:
            add_faded(seg, self._tmp, song, self.pos, self._quiet.gains(k, False))
            self.pos += k
            if self._quiet.advance(k):
                self._finish_rest()
        elif self._in:
            if self._in_from is not None:     # a jump: the old position fades out, click left out
                add_faded(seg, self._tmp, song, self._in_from, self._in.gains(k, False), click=False)
                self._in_from += k
            song.mixer.mix_into(seg, self.pos, stem_ramp=self._in.gains(k, True))
            self.pos += k
            if self._in.advance(k):
                self._in_from = None
                if self.loop is not None:
                    song.cue(self.loop.start)
        else:
            song.mixer.mix_into(seg, self.pos)
            self.pos += k
        out = self.setlist.out
        if out is not None:
            add_faded(seg, self._tmp, out, self.setlist.out_pos, self.setlist.out_fade.gains(k, False))
            self.setlist.out_played(k)

    def _finish_rest(self) -> None:
        q = self._quiet
        if q.then == _WAIT:              # the old position is silent: wait at the target
            self.pos, self._wait_fade = q.at, self.fade
            return
        select, q.select = q.select, None
        self._rest(q.then, q.at)
        if select is not None:
            self._select(select)

    def _event(self) -> None:
        p = self.pending
        if p is not None and p.frame == self.pos:
            self.pending = None
            if p.kind == "jump":
                self.loop = None
                self._jump(p.to, p.what)
            elif p.kind == "stop":
                self._begin_rest(TransportState.STOPPED, 0)
            else:
                self._begin_rest(TransportState.PAUSED, self.pos)
            return
        if self.loop is not None and self.pos == self.loop.end:
            self._jump(self.loop.start, f"bar {self._bar_at(self.loop.start)}")
            return
        transition = self.setlist.entry.transition
        if self.pos >= self.song.frames:
            self._song_end(transition.kind)
        elif transition.kind == "crossfade":
            self._crossfade()

    def _jump(self, to: int, what: str) -> None:
        """Crossfade to `to`; if its audio is not in memory yet, fade out and wait for it."""
        if self.song.stream.ready_at(to):
            self._fade_in(self.fade, from_frame=self.pos)
            self.pos = to
        else:
            self.song.cue(to)
            self._begin_rest(_WAIT, to)
            self._waiting = what

    def _song_end(self, kind: str) -> None:
        self.songs_ended += 1
        nxt = self.setlist.index + 1
        if kind == "stop" or nxt >= self.setlist.count:
            self._rest(TransportState.STOPPED, 0)
            if nxt < self.setlist.count:
                self._select(nxt)
            return
        song = self.setlist.move(nxt)
        if song is None:                 # not ready in time: start as soon as it is
            self.song = None
            self.state = TransportState.LOADING
            self.autoplay = self.setlist.onward = True
            self._take_ready()           # past a song that cannot load, if the next is ready
            return
        self._switch(song)
        if kind == "continue":
            self._start()
        else:                            # gapless: the next frame is the new song's first
            self.state = TransportState.PLAYING

    def _crossfade(self) -> None:
        song = self.setlist.hand_over(self.song, self.pos)
        if song is None:
            return
        self._switch(song)
        self.state = TransportState.PLAYING
        self._fade_in(max(1, self.setlist.out_fade.length))

    def wake_disks(self) -> None:
        """The period is rendered: the disk threads may refill what it consumed while
        the audio thread waits on the device."""
        if self.song is not None:            # two tests, not a loop over a new tuple:
            self.song.stream.wake_if_due()   # this runs every period
        if self.setlist.out is not None:
            self.setlist.out.stream.wake_if_due()

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
                             self.refusals)

    @property
    def timeline_frame(self) -> int:
        """The song frame sounding now, counting the count-in as frames before bar 1."""
        return self.pos - self.count_in.left
