"""The transport: the commands that move it, each taken at the start of a period.

`apply` finds a command's handler (`_cmd_<Name>`: here for the transport, in `LiveMix` for
the mix) and publishes what it changed or why it changed nothing. A quantised command acts
at a sample-exact song frame: now (the period's first frame) or the next beat, bar or
section boundary, found by searching the song's position arrays; until then it is
`pending`, and the playhead (`playhead.py`) cuts the period at its frame.

Commands run in the audio thread between periods: no disk, no logging, no locks.
"""
from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np

from ...vocab import commands as c
from ...vocab.state import State, TransportState
from .live import NO_PARTS, NOTHING_TO_TRANSPOSE
from .moment import Loop, Moment, Pending, snapshot
from .playhead import Playhead


class Transport(Playhead):
    @property
    def index(self) -> int:
        """The setlist position playing, from 0."""
        return self.setlist.index

    @property
    def count(self) -> int:
        """Songs in the setlist."""
        return self.setlist.count

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
            self._quiet.at = frame        # it rests there once the fade is done, not cut short
        elif self.state == TransportState.PLAYING:
            self.song.cue(frame)
            self._at(at, "jump", frame, f"jump to {text}", text)
            self._parts_jump()
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
            self._parts_jump()
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
        self.setlist.onward = False             # the musician's choice: a song that cannot load says so
        if self.state == TransportState.PLAYING and not self._silent:
            self._begin_rest(TransportState.STOPPED, 0, select=index)
        else:
            self._rest(TransportState.STOPPED, 0)
            self._select(index)
        return ""

    # -- key and tempo: a song with stems from the next stop (the loader prepares it);
    # -- a chart song's parts at the next bar, a song without stems' tempo at the next beat
    def _cmd_SetKey(self, cmd: c.SetKey) -> str:
        if self._parts_live():
            return self._parts_key(cmd.semitones)
        if self.song is not None and self.song.live:
            return NOTHING_TO_TRANSPOSE
        return self._want_key(lambda key: (Fraction(cmd.semitones), key[1]))

    def _cmd_NudgeKey(self, cmd: c.NudgeKey) -> str:
        low, high = c.KEY_RANGE
        if self._parts_live():
            return self._parts_key(min(high, max(low, self.song.plan.latest.transpose
                                                 + cmd.semitones)))
        if self.song is not None and self.song.live:
            return NOTHING_TO_TRANSPOSE
        return self._want_key(lambda key: (min(high, max(low, key[0] + cmd.semitones)), key[1]))

    def _cmd_SetTempo(self, cmd: c.SetTempo) -> str:
        if self.song is not None and self.song.live:
            return self._live_tempo(Fraction(cmd.percent, 100))
        return self._want_key(lambda key: (key[0], Fraction(cmd.percent, 100)))

    def _cmd_NudgeTempo(self, cmd: c.NudgeTempo) -> str:
        low, high = (Fraction(p, 100) for p in c.TEMPO_PERCENT)
        if self.song is not None and self.song.live:
            return self._live_tempo(min(high, max(low, self._live_factor()
                                                  + Fraction(cmd.percent, 100))))
        return self._want_key(lambda key: (key[0], min(high, max(low, key[1] +
                                                               Fraction(cmd.percent, 100)))))

    def _cmd_TapTempo(self, cmd: c.TapTempo) -> str:
        if self.song is None:
            return "no song loaded"
        interval = self.taps.tap(self.clock)
        if interval is None:             # the run is still counting: nothing to say
            return ""
        # the tapped beat's BPM: the beat heard now is bpm_now at _beat_frames() a beat
        return self._want_bpm(self._bpm_now() * self._beat_frames() / interval)

    def _cmd_SetBpm(self, cmd: c.SetBpm) -> str:
        if self.song is None:
            return "no song loaded"
        return self._want_bpm(Fraction(cmd.bpm))

    def _cmd_NudgeBpm(self, cmd: c.NudgeBpm) -> str:
        if self.song is None:
            return "no song loaded"
        heard = self._bpm_now() * self._live_factor() / self.song.song.tempo.factor
        return self._want_bpm(heard + Fraction(cmd.bpm))

    def _cmd_SetIntensity(self, cmd: c.SetIntensity) -> str:
        return self._parts_intensity(cmd.level)

    def _cmd_NudgeIntensity(self, cmd: c.NudgeIntensity) -> str:
        if self.song is None or self.song.plan is None:
            return NO_PARTS
        level = self.song.plan.latest.intensity + cmd.step
        return self._parts_intensity(round(min(1.0, max(0.0, level)), 6))

    def snapshot(self, moment: Moment | None = None, **engine_fields) -> State:
        """The State of a published moment (default: the last); any thread may call it."""
        m = moment or self.moment
        key = self.bank.keys.state(m.index, m.song)
        plan = m.song.plan if m.song is not None else None
        if plan is not None:                # a chart's parts: their key and dynamics as asked
            settings = plan.latest
            transpose = float(settings.transpose) if m.song.live else key.transpose
            key = dataclasses.replace(key, transpose=transpose, wanted_transpose=transpose
                                      if m.song.live else key.wanted_transpose,
                                      intensity=settings.intensity)
        engine_fields.setdefault("key_tempo", key)
        return snapshot(m, self.bank.show, self.rate, **engine_fields)

