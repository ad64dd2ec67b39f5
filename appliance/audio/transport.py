"""The transport: which frames of which song sound at each sample.

`render` fills one period. Commands (`apply`) are taken at the start of a period
and act at a sample-exact song frame: now (the period's first frame) or the next
beat, bar or section boundary, found by searching the song's position arrays.
Jumps and vamp loops are click-continuous (the click plays from the new
position without a gap or a doubled beat) and crossfade the stems over a few
milliseconds, the old position's audio coming from the stream's second ring.
A jump whose target is not in memory yet (not cued in time) fades the old
position out instead, then *waits*: silent, the position standing at the
target, nothing logged as played, until the disk has read it; then the target
fades in from its own first frame. A Play or Resume whose audio is not read yet
waits the same way.

Everything here runs in the audio thread: no disk, no logging, no locks; songs
are loaded by the SongBank's thread and picked up when ready.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..vocab import commands as c
from ..vocab.segments import KIND_COUNT_IN, KIND_PLAYING, SegmentLog
from ..vocab.state import State, StemLevel, TransportState
from .live_mix import LiveMix
from .loaded import COUNT_IN_INPUT, LoadedSong
from .show import SongBank

FADE_S = 0.005          # stems crossfade at jumps, fade on stop, pause and resume
_WAIT = "wait"          # a fade-out that ends waiting for a jump target's audio


@dataclass(frozen=True)
class Pending:
    frame: int           # song frame it happens at
    kind: str            # "jump", "stop", "pause"
    to: int = 0          # jump target
    text: str = ""
    what: str = ""       # the jump target in words ("Chorus", "bar 17")


@dataclass(frozen=True)
class Loop:
    start: int
    end: int
    text: str


class Transport(LiveMix):
    def __init__(self, bank: SongBank, *, rate: int, channels: int, block: int) -> None:
        self.bank = bank
        self.rate = rate
        self.channels = channels
        self.block = block
        self.fade = max(1, int(rate * FADE_S))
        self._tmp = np.zeros((block, channels), dtype=np.float32)
        self._ramp = np.zeros(block, dtype=np.float32)
        self._steps = np.arange(1, block + 1, dtype=np.float32)
        self.count = len(bank.show.entries)
        self.index = 0
        self.song: LoadedSong | None = None
        self.state = TransportState.LOADING
        self.autoplay = False
        self.pos = 0
        self.pending: Pending | None = None
        self.loop: Loop | None = None
        self.rejected = ""
        self.refusals = 0        # counted, so the same refusal again is news again
        self.problem = ""
        self._onward = True          # a song that cannot load is skipped: at the start and
        self._skipped = ""           # at a transition; what was skipped is said until the next
        self.songs_ended = 0
        self.output_gain_db: dict[str, float] = {}
        self.click_db: float | None = None
        self.click_sends: dict[str, float] = {}
        self.click_muted = False
        # count-in
        self._ci_track = None
        self._ci_len = self._ci_pos = 0
        self._ci_frames: list[int] = []
        self._ci_bars: list[tuple[int, int]] = []
        # stem fades: a jump's crossfade (from the old position) or a fade-in
        self._fade_from: int | None = None
        self._fade_len = self._fade_done = 0
        # a fade to silence before stopping or pausing
        self._stop_left = 0
        self._stop_then = TransportState.STOPPED
        self._stop_at = 0
        self._stop_select: int | None = None
        # a jump or start waiting for its audio: what it waits for ("" when not waiting),
        # and the fade-in once it is in memory
        self._waiting = ""
        self._wait_fade = 0
        # the previous song, fading out under the next (a setlist crossfade)
        self._out: LoadedSong | None = None
        self._out_index = 0
        self._out_pos = self._out_len = self._out_done = 0
        self._crossfade_missed = False
        self._mix_of: tuple = (None, -1)     # whose mix levels were last published
        self._mix: tuple[tuple[StemLevel, ...], tuple[tuple[str, float], ...]] = ((), ())
        if not self.count:                   # an empty library: the box idles, and says so
            self.state, self.problem = TransportState.STOPPED, "no songs"
        self._want()
        self._take_ready()
        self.publish()

    # -- songs --------------------------------------------------------------
    def _want(self) -> None:
        wanted = [self.index, self.index + 1]
        if self._out is not None:
            wanted.append(self._out_index)
        self.bank.want(tuple(p for p in wanted if p < self.count))

    def _take_ready(self) -> None:
        if self.state != TransportState.LOADING:
            return
        song = self.bank.get(self.index)
        broken = self.bank.broken(self.index)
        while song is None and broken is not None:
            self.problem = f"{self.bank.show.entries[self.index].name}: {broken.message}"
            if not (self._onward and self.index + 1 < self.count):
                self.state = TransportState.STOPPED
                self.autoplay = self._onward = False
                return
            self.problem = self._skipped = f"{self.problem}; skipped"   # the set goes on
            self.index += 1
            self._want()
            song, broken = self.bank.get(self.index), self.bank.broken(self.index)
        if song is None:
            return
        self._onward = False
        self._switch(song)
        self.state = TransportState.STOPPED
        if self.autoplay:
            self.autoplay = False
            self._start()

    def _switch(self, song: LoadedSong) -> None:
        self.song = song
        self.pos = 0
        self._crossfade_missed = False
        self.pending = None
        self.loop = None
        self.problem, self._skipped = self._skipped, ""
        mixer = song.mixer
        for name, db in self.output_gain_db.items():
            mixer.output_gain_db[name] = db
        self._carry_click()
        mixer.update(glide=False)
        song.prepare(0)

    def _select(self, index: int) -> None:
        self.index = index
        self._want()
        song = self.bank.get(index)
        if song is None:
            self.song = None
            self.state = TransportState.LOADING
        else:
            self._switch(song)
            self.state = TransportState.STOPPED

    # -- commands -------------------------------------------------------------
    def apply(self, cmd: c.Command) -> None:
        self._take_ready()
        handler = getattr(self, f"_cmd_{type(cmd).__name__}", None)
        self.reject(cmd, handler(cmd) if handler else "not a transport or mix command")

    def reject(self, cmd: c.Command, reason: str) -> None:
        """Say why `cmd` changed nothing (`reason` empty: it was taken), and publish."""
        if reason:
            self.rejected = f"{cmd.name}: {reason}"
            self.refusals += 1
        self.publish()

    def _target(self, at: c.At) -> int:
        """The song frame a quantised command acts at (never before the current one)."""
        p = self.song.positions
        if at is c.At.NOW or self.state != TransportState.PLAYING:
            return self.pos
        if at is c.At.BEAT:
            return min(p.beats.next_beat(self.pos), self.song.frames)
        if at is c.At.BAR:                # the bar after the last one ends past the song
            return p.beats.next_bar(self.pos)
        frames = p.section_frames
        i = int(np.searchsorted(frames, self.pos, "right"))
        return int(frames[i]) if i < len(frames) else self.song.frames

    def _cmd_Play(self, cmd: c.Play) -> str:
        if self.song is None and self.state != TransportState.LOADING:     # a song that cannot load, or none
            return self.problem or "no song loaded"
        if self.state == TransportState.LOADING:
            self.autoplay = True
        elif self.state == TransportState.PAUSED:
            return self._cmd_Resume(c.Resume())
        elif self.state == TransportState.STOPPED:
            self._start()
        else:
            return "already playing"
        return ""

    def _cmd_TogglePlay(self, cmd: c.TogglePlay) -> str:
        if self.state in (TransportState.PLAYING, TransportState.COUNT_IN) and not self._stopping:
            return self._cmd_Stop(c.Stop())
        return self._cmd_Play(c.Play())

    def _cmd_Stop(self, cmd: c.Stop) -> str:
        if self.state == TransportState.LOADING:
            self.autoplay = False
            return ""
        if self.state in (TransportState.STOPPED, TransportState.PAUSED):
            if self.state == TransportState.STOPPED and self.pos == 0:
                return "already stopped"
            self._rest(TransportState.STOPPED, 0)
        elif self.state == TransportState.COUNT_IN:
            self._rest(TransportState.STOPPED, self.pos)
        else:
            self._at(cmd.at, "stop", text="stop")
        return ""

    def _cmd_Pause(self, cmd: c.Pause) -> str:
        if self.state == TransportState.COUNT_IN:
            self._rest(TransportState.STOPPED, self.pos)
        elif self.state != TransportState.PLAYING:
            return "not playing"
        else:
            self._at(cmd.at, "pause", text="pause")
        return ""

    def _cmd_Resume(self, cmd: c.Resume) -> str:
        if self.state != TransportState.PAUSED:
            return "not paused"
        self.song.prepare(self.pos)
        self.state = TransportState.PLAYING
        self._sound_from_here(self.fade)
        return ""

    def _cmd_Restart(self, cmd: c.Restart) -> str:
        return self._go(0, cmd.at, "bar 1")

    def _cmd_Seek(self, cmd: c.Seek) -> str:
        p = self.song.positions if self.song else None
        if p is None:
            return "no song loaded"
        last = p.beats.last_bar
        if cmd.bar > last or p.beats.bar_frame(cmd.bar) >= self.song.frames:
            return f"bar {cmd.bar} is past the end (the last bar is {last})"
        return self._go(p.beats.bar_frame(cmd.bar), cmd.at, f"bar {cmd.bar}")

    def _cmd_Jump(self, cmd: c.Jump) -> str:
        if self.song is None:
            return "no song loaded"
        sections = self.song.song.sections
        if isinstance(cmd.section, int):
            i = cmd.section - 1
            if i >= len(sections):
                return f"no section {cmd.section}: this song has {len(sections)}"
        else:
            i = self.song.song.section_index(cmd.section)
            if i is None:
                names = ", ".join(s.name for s in sections) or "none"
                return f"no section {cmd.section!r} (sections: {names})"
        return self._go(int(self.song.positions.section_frames[i]), cmd.at, sections[i].name)

    def _cmd_NextSection(self, cmd: c.NextSection) -> str:
        if self.song is None:
            return "no song loaded"
        frames = self.song.positions.section_frames
        i = int(np.searchsorted(frames, self.pos, "right"))
        if i >= len(frames):
            return "no section after this one"
        return self._go(int(frames[i]), cmd.at, self.song.song.sections[i].name)

    def _go(self, frame: int, at: c.At, text: str) -> str:
        if self.song is None:
            return "no song loaded"
        if self.state == TransportState.PLAYING and self._stopping:
            self._stop_at = frame        # it rests there once the fade is done, not cut short
        elif self.state == TransportState.PLAYING:
            self.song.cue(frame)
            self._at(at, "jump", frame, f"jump to {text}", text)
        elif self.state == TransportState.COUNT_IN:
            return "wait for the count-in to finish"
        else:
            self._rest(TransportState.STOPPED if self.state != TransportState.PAUSED else TransportState.PAUSED, frame)
        return ""

    def _at(self, at: c.At, kind: str, to: int = 0, text: str = "", what: str = "") -> None:
        frame = self._target(at)
        where = "" if frame == self.pos else f" at bar {self._bar_at(frame)}"
        self.pending = Pending(frame, kind, to, text + where, what)

    def _cmd_Vamp(self, cmd: c.Vamp) -> str:
        if self.state != TransportState.PLAYING:
            return "vamp while playing"
        p = self.song.positions
        if cmd.bars:
            i = p.beats.bar_at(self.pos) - 1
            end_bar = min(i + cmd.bars, p.beats.last_bar)
            start = p.beats.bar_frame(i + 1)
            end = min(p.beats.bar_frame(end_bar + 1), self.song.frames)
            text = f"vamp bars {i + 1}-{end_bar}"
        else:
            if not len(p.section_frames):
                return "this song has no sections: vamp a number of bars"
            i = int(np.searchsorted(p.section_frames, self.pos, "right")) - 1
            if i < 0:
                return "not in a section yet"
            start = int(p.section_frames[i])
            end = int(p.section_frames[i + 1]) if i + 1 < len(p.section_frames) else self.song.frames
            text = f"vamp {self.song.song.sections[i].name}"
        if end <= self.pos:
            return "the loop would end before now"
        self.loop = Loop(start, end, text)
        if not self._silent:             # a wait's ring is not taken from it: cued once it plays
            self.song.cue(start)
        return ""

    def _cmd_ReleaseVamp(self, cmd: c.ReleaseVamp) -> str:
        if self.loop is None:
            return "no vamp to release"
        self.loop = None
        return ""

    def _cmd_Cancel(self, cmd: c.Cancel) -> str:
        if self.pending is None and self.loop is None:
            return "nothing pending"
        self.pending = None
        self.loop = None
        return ""

    def _cmd_NextSong(self, cmd: c.NextSong) -> str:
        if self.index + 1 >= self.count:
            return "this is the last song of the setlist"
        return self._change_song(self.index + 1)

    def _cmd_PreviousSong(self, cmd: c.PreviousSong) -> str:
        if self.index == 0:
            return "this is the first song of the setlist"
        return self._change_song(self.index - 1)

    def _cmd_SelectSong(self, cmd: c.SelectSong) -> str:
        if cmd.index > self.count:
            return f"the setlist has {self.count} songs"
        return self._change_song(cmd.index - 1)

    def _change_song(self, index: int) -> str:
        if self.bank.broken(index) is not None:
            return f"{self.bank.show.entries[index].name} cannot play: {self.bank.broken(index).message}"
        self._onward = False             # the musician's choice: a song that cannot load says so
        if self.state == TransportState.PLAYING and not self._silent:
            self._begin_rest(TransportState.STOPPED, 0, select=index)
        else:
            self._rest(TransportState.STOPPED, 0)
            self._select(index)
        return ""

    # -- starting and stopping --------------------------------------------------------
    def _start(self) -> None:
        """Play from the current position, after the song's count-in if it has one."""
        song = self.song
        song.prepare(self.pos)
        if song.song.count_in_bars:
            ci, track = song.count_in(song.song.tempo.qn_at_seconds(Fraction(self.pos, self.rate)))
            self._ci_track, self._ci_len, self._ci_pos = track, ci.frames, 0
            self._ci_frames = [b.frame for b in ci.beats]
            self._ci_bars = [(b.bar, b.beat) for b in ci.beats]
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
        self._ci_len = self._ci_pos = 0
        self._fade_len = self._fade_done = 0
        self._stop_left = 0
        self._waiting = ""
        if self.song is not None:
            self.song.prepare(pos)

    def _begin_rest(self, state: str, pos: int, select: int | None = None) -> None:
        """Fade to silence over FADE_S, then stop or pause at `pos` (and maybe change song)."""
        self._stop_left = self.fade
        self._stop_then = state
        self._stop_at = pos
        self._stop_select = select
        self.pending = None

    @property
    def _stopping(self) -> bool:
        """Fading out to stop or pause (not to wait for a jump's audio)."""
        return bool(self._stop_left) and self._stop_then != _WAIT

    @property
    def _silent(self) -> bool:
        """Waiting for audio not in memory yet: playing, but nothing sounds and the
        position stands (the old position's fade-out is over)."""
        return bool(self._waiting) and not self._stop_left

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
        self._fade_from = from_frame
        self._fade_len = frames
        self._fade_done = 0

    # -- rendering -------------------------------------------------------------
    def render(self, out: np.ndarray, log: SegmentLog | None = None, out_frame: int = 0) -> None:
        """Add one period (any length) to `out`, which the caller has zeroed; what played
        goes into `log`, `out_frame` being the period's first output frame."""
        self._take_ready()
        n = out.shape[0]
        i = 0
        guard = 0
        while i < n and guard < 64:
            state, timeline, silent = self.state, self.timeline_frame, self._silent
            k = self._step(out[i: i + min(n - i, self.block)])
            if log is not None and k > 0 and state in (TransportState.PLAYING, TransportState.COUNT_IN) and not silent:
                log.add(out_frame + i, timeline, k, KIND_COUNT_IN if state == TransportState.COUNT_IN else
                        KIND_PLAYING, self.index, self.pos)
            i += k
            guard = guard + 1 if k == 0 else 0
            if k == 0 and self.state not in (TransportState.PLAYING, TransportState.COUNT_IN):
                break
        self.publish()

    def _step(self, seg: np.ndarray) -> int:
        if self.state == TransportState.COUNT_IN:
            k = min(seg.shape[0], self._ci_len - self._ci_pos)
            mixer = self.song.mixer
            mixer.mix_source_into(seg[:k], self._ci_pos, mixer.input(COUNT_IN_INPUT),
                                  self._ci_track)
            self._ci_pos += k
            if self._ci_pos >= self._ci_len:
                self.state = TransportState.PLAYING
                self._ci_len = self._ci_pos = 0
                self._sound_from_here(0)
            return k
        if self.state != TransportState.PLAYING:
            return 0
        if self._silent:
            return self._wait(seg.shape[0])
        k = seg.shape[0]
        event = None
        if self._stop_left:              # a fade-out plays to its end, past any event
            k = min(k, self._stop_left)
        else:
            event = self._next_event()
            k = min(k, event - self.pos)
            if self._fade_len:
                k = min(k, self._fade_len - self._fade_done)
        if self._out is not None:
            k = min(k, self._out_len - self._out_done)
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
        song = self.song
        event = song.frames
        entry = self.bank.show.entries[self.index]
        if entry.transition.kind == "crossfade" and self.index + 1 < self.count \
                and not self._crossfade_missed:
            event = max(self.pos, song.frames - entry.transition.ms * self.rate // 1000)
        if self.loop is not None and self.pos < self.loop.end:
            event = min(event, self.loop.end)
        if self.pending is not None and self.pending.frame >= self.pos:
            event = min(event, self.pending.frame)
        return max(event, self.pos)

    def _ramp_values(self, done: int, length: int, k: int, rising: bool) -> np.ndarray:
        r = self._ramp[:k]
        np.add(self._steps[:k], done, out=r)
        np.multiply(r, 1.0 / length, out=r)
        np.minimum(r, 1.0, out=r)
        if not rising:
            np.subtract(1.0, r, out=r)
        return r

    def _faded(self, seg: np.ndarray, song: LoadedSong, frame: int, ramp: np.ndarray,
               click: bool = True) -> None:
        """seg += song's mix at `frame`, times `ramp` (one gain per frame)."""
        k = seg.shape[0]
        tmp = self._tmp[:k]
        tmp.fill(0.0)
        song.mixer.mix_into(tmp, frame, click=click)
        np.multiply(tmp, ramp[:, None], out=tmp)
        np.add(seg, tmp, out=seg)

    def _sound(self, seg: np.ndarray, k: int) -> None:
        song = self.song
        if self._stop_left:
            done = self.fade - self._stop_left
            self._faded(seg, song, self.pos, self._ramp_values(done, self.fade, k, False))
            self._stop_left -= k
            self.pos += k
            if not self._stop_left:
                self._finish_rest()
        elif self._fade_len:
            if self._fade_from is not None:     # a jump: the old position fades out, click left out
                ramp = self._ramp_values(self._fade_done, self._fade_len, k, False)
                self._faded(seg, song, self._fade_from, ramp, click=False)
                self._fade_from += k
            ramp = self._ramp_values(self._fade_done, self._fade_len, k, True)
            song.mixer.mix_into(seg, self.pos, stem_ramp=ramp)
            self._fade_done += k
            self.pos += k
            if self._fade_done >= self._fade_len:
                self._fade_len = self._fade_done = 0
                self._fade_from = None
                if self.loop is not None:
                    song.cue(self.loop.start)
        else:
            song.mixer.mix_into(seg, self.pos)
            self.pos += k
        if self._out is not None:
            ramp = self._ramp_values(self._out_done, self._out_len, k, False)
            self._faded(seg, self._out, self._out_pos, ramp)
            self._out_pos += k
            self._out_done += k
            if self._out_done >= self._out_len:
                self._out = None
                self._want()

    def _finish_rest(self) -> None:
        if self._stop_then == _WAIT:     # the old position is silent: wait at the target
            self.pos, self._wait_fade = self._stop_at, self.fade
            return
        select = self._stop_select
        self._stop_select = None
        self._rest(self._stop_then, self._stop_at)
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
        entry = self.bank.show.entries[self.index]
        if self.pos >= self.song.frames:
            self._song_end(entry.transition.kind)
        elif entry.transition.kind == "crossfade":
            self._crossfade(entry.transition.ms)

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
        nxt = self.index + 1
        if kind == "stop" or nxt >= self.count:
            self._rest(TransportState.STOPPED, 0)
            if nxt < self.count:
                self._select(nxt)
            return
        song = self.bank.get(nxt)
        self.index = nxt
        self._want()
        if song is None:                 # not ready in time: start as soon as it is
            self.song = None
            self.state = TransportState.LOADING
            self.autoplay = self._onward = True
            self._take_ready()           # past a song that cannot load, if the next is ready
            return
        self._switch(song)
        if kind == "continue":
            self._start()
        else:                            # gapless: the next frame is the new song's first
            self.state = TransportState.PLAYING

    def _crossfade(self, ms: int) -> None:
        song = self.bank.get(self.index + 1)
        if song is None:                 # not ready: play this one to its end, then wait
            self._crossfade_missed = True
            return
        self._out, self._out_index = self.song, self.index
        self._out_pos = self.pos
        self._out_len = self.song.frames - self.pos
        self._out_done = 0
        self.index += 1
        self._want()
        self._switch(song)
        self.state = TransportState.PLAYING
        self._fade_in(max(1, self._out_len))

    def wake_disks(self) -> None:
        """The period is rendered: the disk threads may refill what it consumed while
        the audio thread waits on the device."""
        if self.song is not None:            # two tests, not a loop over a new tuple:
            self.song.stream.wake_if_due()   # this runs every period
        if self._out is not None:
            self._out.stream.wake_if_due()

    # -- what everyone else reads ---------------------------------------------
    def _bar_at(self, frame: int) -> int:
        return self.song.positions.beats.bar_at(frame)

    def publish(self) -> None:
        """What readers see: one tuple, swapped in whole (cheap enough for every period)."""
        song = self.song
        if song is not None and (song.mixer, song.mixer.version) != self._mix_of:
            self._mix_of = (song.mixer, song.mixer.version)
            self._mix = (tuple(StemLevel(i.name, i.gain_db, i.muted, i.solo,
                                         tuple(i.sends.items()))
                               for i in song.mixer.inputs if i.name != COUNT_IN_INPUT),
                         tuple(song.mixer.output_gain_db.items()))
        self.moment = (self.state, song, self.index, self.pos, self._ci_pos, self._ci_len,
                       self._ci_frames, self._ci_bars, self.pending, self.loop, self.rejected,
                       self.problem, self.songs_ended, self._mix, self._waiting, self.refusals)

    @property
    def timeline_frame(self) -> int:
        """The song frame sounding now, counting the count-in as frames before bar 1."""
        return self.pos - (self._ci_len - self._ci_pos)

    def snapshot(self, moment: tuple | None = None, **engine_fields) -> State:
        """The State of a published moment (default: the last); any thread may call it."""
        (state, song, index, pos, ci_pos, ci_len, ci_frames, ci_bars, pending, loop, rejected,
         problem, songs_ended, (mix, gains), waiting, refusals) = moment or self.moment
        engine_fields.setdefault("problem", problem)
        show = self.bank.show
        nxt = index + 1
        common = dict(transport=state, index=index + 1, count=self.count, setlist=show.name,
                      next_song=show.entries[nxt].name if nxt < self.count else "",
                      rejected=rejected, refusals=refusals, songs_ended=songs_ended,
                      **engine_fields)
        if song is None:
            return State(song_name=show.entries[index].name if self.count else "", **common)
        p, beats = song.positions, song.positions.beats
        bar, beat, bpm, meter, phase = 1, 1, 0.0, "", 0.0
        i = min(beats.index_at(pos), beats.count - 1)
        if state == TransportState.COUNT_IN and ci_frames:
            k = max(0, bisect.bisect_right(ci_frames, ci_pos) - 1)
            bar, beat = ci_bars[k]
            phase = _phase(ci_pos, ci_frames[k], ci_frames[k + 1] if k + 1 < len(ci_frames)
                           else ci_len)
        elif i >= 0:
            bar, beat = beats.bar_beat(i)
            phase = _phase(pos, beats.frame(i), beats.frame(i + 1)
                           if i + 1 < beats.count else song.frames)
        if beats.count:
            bpm, meter = beats.tempo(max(i, 0))
        s = int(np.searchsorted(p.section_frames, pos, "right")) - 1
        return State(
            song=song.song.title, song_name=song.song.name, key=song.song.key or "",
            section=song.song.sections[s].name if s >= 0 else "",
            sections=tuple(x.name for x in song.song.sections),
            bar=bar, beat=beat, beat_phase=phase, bpm=bpm, meter=meter, frame=pos, seconds=pos / self.rate,
            song_frames=song.frames, count_in_left=ci_len - ci_pos,
            pending=pending.text if pending else "", vamp=loop.text if loop else "",
            waiting=f"waiting for {waiting}" if waiting else "",
            mix=mix, output_gain_db=gains, disk_underruns=song.underruns,
            failed_stems=tuple(song.failed_stems()),
            stem_problems=tuple(song.stem_problems()), **common)


def _phase(pos: int, start: int, end: int) -> float:
    """How far through its beat `pos` is, 0 to 1: what a tempo light flashes from."""
    return min(1.0, max(0.0, (pos - start) / (end - start))) if end > start else 0.0
