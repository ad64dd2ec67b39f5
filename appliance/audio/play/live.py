"""A song's key and tempo chosen as it plays. Without stems: its tempo changed at the next
beat, its parts' key and dynamics at the next bar (a chart song's `PartsPlan`). With stems:
wanted now, prepared by the loader, switched at the next stop (`_want_key`).

A tempo change is asked of the retimer thread (disk/retime.py), which makes the song's
`Timing` at the new factor. Once it is ready the transport schedules it at the next beat
at or after the furthest frame the parts are rendered to (`plan.head`): frame F of beat
Q in the old map. At F it moves to the same beat Q in the new map (F', a cued jump: the
click goes on, no beat skipped or doubled), converting a vamp's loop, a pending command's
frame and target and the song's end through their beats. Stopped or paused, it takes
effect at once.

Audio thread only: the tempo maths is the retimer's; here a few integer steps and
reference assignments.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from ...timeline.song import Song
from ...vocab import commands as c
from ...vocab.state import TransportState
from ..disk.key_switch import Key, key_of
from ..disk.parts import RING_FRAMES
from ..disk.loaded import Positions
from ..disk.retime import Timing, same_beat
from ..disk.show import SongBank
from ..mix.mixer import expression_db
from .moment import Loop, Pending
from .stage import Stage
from .taps import Taps

TIMINGS_KEPT = 16     # the songs' tempo maps MIDI out may still have to plan with
NO_PARTS = "this song has no parts to play softer or louder"
NOTHING_TO_TRANSPOSE = "this song has no stems and no parts: there is nothing to transpose"
STEMS_NEXT_STOP = "this song has stems: its tempo changes at the next stop"
RECUE_LEAD_S = 0.1    # a jump this far off or more: its target's parts are made again in time


@dataclass(frozen=True)
class Retiming:
    """A tempo change waiting for its beat: song frame `frame` (old map) is `to` (new)."""
    frame: int
    to: int
    timing: Timing


class LiveSong(Stage):
    def __init__(self, bank: SongBank, *, rate: int, channels: int, block: int) -> None:
        self.retiming: Retiming | None = None
        self._kept: tuple = (None, None, None)   # (wanted, dynamics, song) last found as kept
        self.clock = 0                   # the output frame the engine takes commands at
        self.plan_switch: int | None = None   # a parts change's frame: a cued target re-cued
        self._factor: Fraction | None = None  # the tempo factor asked, not yet played
        # (output frame from, setlist index, its Song): what MIDI out plans each row with
        self.timings: tuple = ()
        self._out = 0                    # the output frame of the frame at `pos`
        super().__init__(bank, rate=rate, channels=channels, block=block)
        self.taps = Taps(self.rate)

    # -- asking ----------------------------------------------------------------------
    def _bpm_now(self) -> Fraction:
        """The BPM heard at the current position (quarter notes a minute)."""
        tempo = self.song.song.tempo
        return tempo.bpm_at(tempo.qn_at_seconds(Fraction(self.pos, self.rate)))

    def _beat_frames(self) -> int:
        """The length of the beat playing now, in frames (the beat the musician taps)."""
        beats = self.song.positions.beats
        i = max(0, beats.index_at(self.pos))
        return beats.frame(i + 1) - beats.frame(i)

    def _live_factor(self) -> Fraction:
        """The factor the song is headed for: asked, else playing."""
        return self._factor if self._factor is not None else self.song.song.tempo.factor

    def _want_bpm(self, bpm: Fraction) -> str:
        """The tempo heard here to be `bpm`: why not, or "" when asked."""
        factor = self._live_factor()
        written = self._bpm_now() / self.song.song.tempo.factor
        low, high = (Fraction(p, 100) for p in c.TEMPO_PERCENT)
        new = bpm / written
        if not c.MIN_BPM <= bpm <= c.MAX_BPM or not low <= new <= high:
            return (f"{float(bpm):.1f} BPM is out of range: {c.MIN_BPM} to {c.MAX_BPM} BPM, "
                    f"{c.TEMPO_PERCENT[0]}% to {c.TEMPO_PERCENT[1]}% of the written "
                    f"{float(written):g}")
        if new == factor:
            return "already there"
        return self._want_factor(new)

    def _want_factor(self, factor: Fraction) -> str:
        """Play the song at tempo factor `factor` (checked): a song without stems from the
        next beat; a song with stems from the next stop, and it says so."""
        if not self.song.live:
            percent = max(c.TEMPO_PERCENT[0], min(c.TEMPO_PERCENT[1], round(factor * 100)))
            why = self._want_key(lambda key: (key[0], Fraction(percent, 100)))
            return why or self._stems_tempo_note()
        self._factor = factor
        self.bank.retimer.ask(self.song, factor)
        return ""

    def _stems_tempo_note(self) -> str:
        """What a tempo asked of a song with stems says (StretchedSong: "" when it follows)."""
        return STEMS_NEXT_STOP

    def _want_key(self, change: Callable[[Key], Key]) -> str:
        """The selected song's key and tempo from now on: the loader prepares them, and the
        song switches at the next stop (see Playhead._take_variant)."""
        if self.song is None:
            return "no song loaded"
        keys = self.bank.keys
        old = keys.wanted.get(self.setlist.index) or key_of(self.song)
        new = change(old)
        if new == old:
            return "already there"
        keys.want(self.setlist.index, new)
        return ""

    # -- a chart song's parts: key and dynamics at the next bar played -----------------
    def _parts_change(self, **fields) -> None:
        """Key or dynamics from the next bar played that the synth has not rendered yet.
        Stopped, paused or counting in: in force now, what was read ahead made again."""
        song = self.song
        plan = song.plan
        if self.state != TransportState.PLAYING:
            plan.change(None, **fields)
            song.remake()
            return
        beats = song.positions.beats
        at = beats.next_bar(max(self.pos, plan.head))
        jump = self._jump_ahead()
        if jump is None or at < jump[0]:
            change = plan.change(self._bar(beats, at), **fields)
            if plan.head > at:           # the synth went past it meanwhile: the bar after
                plan.withdraw(change)
                plan.change(self._bar(beats, beats.next_bar(plan.head)), **fields)
        elif self.retiming is not None and jump[0] == self.retiming.frame:
            # the next bar is after the tempo's beat: in the new map, past what it has made
            new = self.retiming.timing.positions.beats
            bar = new.bar_frame(beats.bar_at(at))
            plan.change(self._bar(new, max(bar, new.next_bar(jump[1] + RING_FRAMES))), **fields)
        elif jump[0] - self.pos >= self.rate * RECUE_LEAD_S:
            # the next bar played is the jump's target: it is made again, in force from its
            # first frame; still waiting here too, should the jump be called off
            plan.change(None, **fields)
            song.recue()
            plan.change(self._bar(beats, at), **fields)
        else:                            # too near to make the target again: its next bar
            plan.change(self._bar(beats, beats.next_bar(jump[1] + RING_FRAMES)), **fields)
        self._plan_next()

    def _bar(self, beats, frame: int) -> tuple[int, Fraction]:
        """The bar starting at song `frame`: its beat (an index) and its quarter note."""
        return beats.index_at(frame), self.song.song.meters.bar_qn(beats.bar_at(frame))

    def _jump_ahead(self) -> tuple[int, int] | None:
        """The next jump the play takes, (its frame, its target): a vamp's loop end, a jump
        asked, a tempo's beat (the same beat in the new map); None when none is coming."""
        jumps = []
        if self.loop is not None and self.pos < self.loop.end:
            jumps.append((self.loop.end, self.loop.start))
        p = self.pending
        if p is not None and p.kind == "jump" and p.frame >= self.pos:
            jumps.append((p.frame, p.to))
        r = self.retiming
        if r is not None and r.frame >= self.pos:
            jumps.append((r.frame, r.to))
        return min(jumps, default=None)

    def _parts_jump(self) -> None:
        """A jump was asked: the parts' changes waiting at or after it are in force at its
        target, cued just now (and still wait here, should the jump be called off)."""
        song = self.song
        plan = song.plan if song is not None else None
        jump = self._jump_ahead()
        if plan is None or jump is None or not plan.pending:
            return
        beats = song.positions.beats
        after = [ch for ch in plan.pending if beats.frame(ch.beat) >= jump[0]]
        if after:
            plan.enforce(after)
            song.recue()

    def _plan_next(self) -> None:
        """`plan_switch`: the frame of the next parts change waiting, to make it in force
        there (`_plan_reached`); one behind (a jump's target's) once the play is back."""
        song = self.song
        plan = song.plan if song is not None else None
        if plan is None or not plan.pending:
            self.plan_switch = None
            return
        beats = song.positions.beats
        ahead = behind = None
        for change in plan.pending:
            f = beats.frame(change.beat)
            if f >= self.pos:
                ahead = f if ahead is None else min(ahead, f)
            else:
                behind = f if behind is None else min(behind, f)
        self.plan_switch = ahead if ahead is not None else behind

    def _plan_reached(self) -> None:
        """The play is at `plan_switch`: its changes in force; a jump's target cued before
        them is made again."""
        song = self.song
        if song.plan.reached(song.positions.beats.index_at(self.pos)):
            if self.loop is not None or self._jump_ahead() is not None:
                song.recue()
        self._plan_next()

    def _parts_intensity(self, level: float) -> str:
        """The parts' dynamics: their level at once (a glide), their notes from the next bar."""
        song = self.song
        if song is None or song.plan is None:
            return NO_PARTS
        if level == song.plan.latest.intensity:
            return "already there"
        song.mixer.expression_db = expression_db(level, song.config.expression_db)
        song.mixer.update()
        self._parts_change(intensity=level)
        self.bank.keys.want_dynamics(self.setlist.index, level)
        self._keep()
        return ""

    def _live_tempo(self, factor: Fraction) -> str:
        return "already there" if factor == self._live_factor() else self._want_factor(factor)

    def _parts_live(self) -> bool:
        """A chart song without stems: its parts change key and dynamics as they play."""
        return self.song is not None and self.song.live and self.song.plan is not None

    def _parts_key(self, semitones: int) -> str:
        if semitones == self.song.plan.latest.transpose:
            return "already there"
        self._parts_change(transpose=semitones)
        self._keep()
        return ""

    # -- taking a timing, at the next beat --------------------------------------------
    def _take_retime(self) -> None:
        """A timing the retimer made for the song here: at once when stopped or paused,
        scheduled at the next beat when playing (after a count-in or a wait for audio)."""
        song = self.song
        if song is None or self._factor is None:
            return
        playing = self.state == TransportState.PLAYING and not self._silent and not self._quiet
        if not playing and self.state not in (TransportState.STOPPED, TransportState.PAUSED):
            return
        retimer = self.bank.retimer
        answered = retimer.answered == retimer.asks   # read first: it is set after `ready`
        timing = retimer.take(song)
        if timing is None:
            if answered:                 # it failed (and said why): the song stays as it was
                self._factor = None
            return
        self._factor = None
        if not playing:
            before = song.positions
            self.pos = timing.frame(before, self.pos)
            self._retime(timing, self.pos)
            song.prepare(self.pos)
            return
        plan = song.plan
        beats = song.positions.beats
        i = beats.index_at(max(self.pos, plan.head if plan is not None else 0) - 1) + 1
        frame = beats.frame(i)
        if frame >= song.frames:         # the song ends first: its next start has it
            self.retiming = Retiming(song.frames, timing.frames, timing)
            return
        to = timing.positions.beats.frame(i)
        if plan is not None:
            plan.retempo(timing.song.tempo)
        song.cue(to)
        self.retiming = Retiming(frame, to, timing)

    def _retime(self, timing: Timing, frame: int) -> None:
        """The song at `timing` from song frame `frame` (new map) on; said to MIDI out, and
        kept as the song's tempo tonight."""
        song = self.song
        song.retime(timing)
        self._plays_with(timing.song)
        self._plan_next()
        self._keep()

    # -- what a song without stems was played at tonight: kept, and found again --------
    def _keep(self) -> None:
        """The song here as it plays now is how it is loaded again (KeySwitch): a song
        without stems its key and tempo (a song with stems wants its own, prepared), any
        song its parts' dynamics (kept by `_parts_intensity`)."""
        keys, pos = self.bank.keys, self.setlist.index
        key = key_of(self.song)
        if self.song.live and keys.wanted.get(pos) != key:
            keys.want(pos, key)
        self._kept = (keys.wanted, keys.dynamics, self.song)

    def _take_kept(self) -> None:
        """Stopped: the song here as the musician left it tonight, when it was loaded before
        that was known (the first song, before the saved state was read): its parts' key
        and dynamics at once, its tempo as soon as the retimer has made it."""
        keys, song = self.bank.keys, self.song
        kept = self._kept
        if song is None or (keys.wanted is kept[0] and keys.dynamics is kept[1]
                            and song is kept[2]):
            return
        self._kept = (keys.wanted, keys.dynamics, song)
        pos = self.setlist.index
        key, level = keys.wanted.get(pos), keys.dynamics.get(pos)
        plan = song.plan
        if plan is not None and level is not None and level != plan.latest.intensity:
            self._parts_intensity(level)
        if not song.live:
            return
        if plan is not None and key is not None and round(key[0]) != plan.latest.transpose:
            self._parts_key(round(key[0]))
        if key is not None and self._factor is None and key[1] != song.song.tempo.factor:
            self._want_factor(key[1])


    def _plays_with(self, song: Song) -> None:
        """From the output frame here on, the song at this position plays with `song`'s
        tempo map (one tuple swapped whole: MIDI out reads it on its own thread)."""
        self.timings = (self.timings + ((self._out, self.setlist.index, song),))[-TIMINGS_KEPT:]

    def _retime_at(self, frame: int) -> int:
        """The retiming now, at song frame `frame` (its beat, or a jump's target reached
        first): the loop, a pending command and the song in the new map; where `frame`
        falls there, to go on from (the retiming's beat: the same beat in the new map)."""
        r, self.retiming = self.retiming, None
        song, t = self.song, r.timing
        move = self._move_marks(song.positions, song.frames, t.positions, t.frames)
        to = r.to if frame == r.frame else move(frame)
        self._retime(t, to)
        return to

    def _move_marks(self, before: Positions, end: int, after: Positions,
                    new_end: int) -> Callable[[int], int]:
        """The vamp's loop and a pending command moved to the same beats of the map `after`
        (a frame at or past the song's `end`: the new end); the mover, for other frames."""
        def move(f: int) -> int:
            return new_end if f >= end else same_beat(before, after, f)
        if self.loop is not None:
            self.loop = Loop(move(self.loop.start), move(self.loop.end), self.loop.text)
        p = self.pending
        if p is not None:
            self.pending = Pending(move(p.frame), p.kind, move(p.to), p.text, p.what)
        return move

    # -- where a retiming waits, and what ends it ----------------------------------------
    def _rest(self, state: str, pos: int) -> None:
        """Resting: a retiming still waiting for its beat takes effect here and now."""
        r = self.retiming
        if r is not None and self.song is not None:
            self.retiming = None
            pos = r.timing.frame(self.song.positions, pos)
            self._retime(r.timing, pos)
        plan = self.song.plan if self.song is not None else None
        if plan is not None and plan.settle():        # every change asked is in force
            self.song.remake()
        self.plan_switch = None
        super()._rest(state, pos)
        song = self.song
        if song is not None and pos > 0 and song.song.count_in_bars:
            self.bank.retimer.count_in(song, pos)      # its count-in made ahead of a Play

    def _switch(self, song) -> None:
        self.retiming = self._factor = self.plan_switch = None
        super()._switch(song)
        self._plays_with(song.song)

    def live_song(self, index: int, out_frame: int) -> Song | None:
        """The Song (its tempo map) setlist position `index` played with at output frame
        `out_frame`, as far back as TIMINGS_KEPT changes; None when not known. Any thread."""
        found = None
        for start, i, song in self.timings:
            if i == index and start <= out_frame:
                found = song
        return found
