"""The transport's playhead: which frames of which song sound at each sample.

`render` fills one period, cut at each event: a pending command's frame, a vamp's end,
the song's end or its crossfade's start (the setlist cursor says which song and when).
Jumps crossfade the stems (the click continuous); a jump whose audio is not in memory
yet fades out, then *waits* silent at its target until the disk has read it (see
docs/engine.md, Jumps). Every change of level is a `Fade`: the fade-in or a jump's
crossfade, the fade to rest, the outgoing song of a setlist crossfade.

Which song it holds, starting and resting, and what it publishes: `Stage` (stage.py).

Audio thread only: no disk, no logging, no locks; songs come ready from the SongBank.
"""
from __future__ import annotations

import numpy as np

from ...vocab.segments import KIND_COUNT_IN, KIND_PLAYING, SegmentLog
from ...vocab.state import TransportState
from .fade import add_faded
from .stretched import StretchedSong
from .stage import WAIT_FOR_AUDIO


class Playhead(StretchedSong):
    """The transport's part that renders: a period at a time, cut at each event."""

    def render(self, out: np.ndarray, log: SegmentLog | None = None, out_frame: int = 0) -> None:
        """Add one period (any length) to `out`, which the caller has zeroed; what played
        goes into `log`, `out_frame` being the period's first output frame."""
        self._take_ready()
        if self.state == TransportState.STOPPED:
            self._take_variant()
            self._take_kept()
        self._take_retime()
        self._take_stretched()
        n = out.shape[0]
        i = 0
        guard = 0
        while i < n and guard < 64:
            state, timeline, silent = self.state, self.timeline_frame, self._silent
            self._out = out_frame + i
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
            self._plan_next()
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
        if self.retiming is not None and self.retiming.frame >= self.pos:
            event = min(event, self.retiming.frame)
        if self.plan_switch is not None and self.plan_switch >= self.pos:
            event = min(event, self.plan_switch)
        if self._stretch_at is not None and self._stretch_at[0] >= self.pos:
            event = min(event, self._stretch_at[0])
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
                elif self.pending is not None and self.pending.kind == "jump":
                    song.cue(self.pending.to)     # a target a tempo change moved
        else:
            song.mixer.mix_into(seg, self.pos)
            self.pos += k
        self._out += k
        out = self.setlist.out
        if out is not None:
            add_faded(seg, self._tmp, out, self.setlist.out_pos, self.setlist.out_fade.gains(k, False),
                      click=self.setlist.out_click)
            self.setlist.out_played(k)

    def _finish_rest(self) -> None:
        q = self._quiet
        if q.then == WAIT_FOR_AUDIO:     # the old position is silent: wait at the target
            self.pos, self._wait_fade = q.at, self.fade
            self._plan_next()
            return
        select, q.select = q.select, None
        self._rest(q.then, q.at)
        if select is not None:
            self._select(select)

    def _event(self) -> None:
        if self.plan_switch == self.pos:     # the parts changed here: a cued target anew
            self._plan_reached()
            return                           # the next step takes any other event here
        if self._stretch_at is not None and self._stretch_at[0] == self.pos:
            self._stretch()                  # the stems stretched to the new tempo take over
            return
        r = self.retiming
        if r is not None and r.frame == self.pos:     # a new tempo: the same beat in its map
            to = self._retime_at(self.pos)
            self._jump(to, f"bar {self._bar_at(to)}")
            return
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
        """Crossfade to `to`; if its audio is not in memory yet, fade out and wait for it.
        A tempo change still waiting for its beat comes with the jump: `to` in its map."""
        if self.retiming is not None:
            to = self._retime_at(to)
        if self.song.stream.ready_at(to):
            self._fade_in(self.fade, from_frame=self.pos)
            self.pos = to
            self._plan_next()
        else:
            self.song.cue(to)
            self._begin_rest(WAIT_FOR_AUDIO, to)
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
