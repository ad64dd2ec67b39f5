"""A song with stems at a tempo chosen as it plays, when its stems are stretched to that tempo
already (a variant made ahead: `backline prepare SONG --tempo 0.9`, or earlier tonight): it
follows at the next beat, as a song without stems does, instead of at the next stop.

The loader says which tempos are ready (`KeySwitch.stretched`, whole percents: a tap or a
BPM nudge on a song with stems asks the nearest) and loads the variant asked. Once the bank
holds it, the transport picks a beat at least LEAD_S ahead, reads the variant from the same
beat of its map, and at that beat hands over: the variant plays on from the same beat, the
song it replaces fades out under it (its click left out: the variant clicks that beat) and
is closed once silent; a vamp's loop and a pending jump keep their beats. A key (pitch)
still waits for the next stop: a jump in pitch mid-song is not what a band does.

Audio thread only: reference assignments and a few integer steps on the beat maps both
songs carry.
"""
from __future__ import annotations

from ...vocab.state import TransportState
from ..disk.key_switch import Key, key_of
from ..disk.loaded import LoadedSong
from ..disk.show import SongBank
from .live import LiveSong

LEAD_S = 0.5          # how far ahead the handover's beat is: the variant's stems read there


class StretchedSong(LiveSong):
    def __init__(self, bank: SongBank, *, rate: int, channels: int, block: int) -> None:
        self._stretched: Key | None = None     # a tempo its stems are ready for, asked
        self._stretch_at: tuple[int, int, LoadedSong] | None = None   # (frame here, frame
        super().__init__(bank, rate=rate, channels=channels, block=block)   # there, variant)

    # -- asking ----------------------------------------------------------------------
    def _want_key(self, change) -> str:
        why = super()._want_key(change)
        if not why:
            self._stretched, self._stretch_at = self._follows(), None
        return why

    def _stems_tempo_note(self) -> str:
        return "" if self._stretched is not None else super()._stems_tempo_note()

    def _follows(self) -> Key | None:
        """The key wanted now, if the song can take it at the next beat: playing, only its
        tempo changes, and its stems are stretched to it already."""
        song = self.song
        key = self.bank.keys.wanted.get(self.setlist.index)
        if key is None or song is None or song.live or self.state != TransportState.PLAYING:
            return None
        if key[0] != song.song.transpose or key[1] == song.song.tempo.factor:
            return None
        return key if key[1] in self.bank.keys.stretched.get(self.setlist.index, ()) else None

    def _switch(self, song) -> None:
        self._stretched = self._stretch_at = None
        super()._switch(song)

    # -- taking it, at a beat ----------------------------------------------------------
    def _take_stretched(self) -> None:
        """Each period while playing: once the bank holds the variant asked, its beat chosen
        and its stems read from there (again, should the play have moved past it)."""
        want = self._stretched
        if want is None or self.state != TransportState.PLAYING or self._quiet \
                or self._silent or self.retiming is not None or self.setlist.out is not None:
            return
        new = self.bank.get(self.setlist.index)
        if new is None or new is self.song or key_of(new) != want:
            return
        at = self._stretch_at
        if at is not None and at[2] is new and self.pos <= at[0]:
            return
        beats = self.song.positions.beats
        i = beats.index_at(self.pos + int(self.rate * LEAD_S)) + 1
        frame = beats.frame(i)
        if frame >= self.song.frames:          # the song ends first: the next stop has it
            self._stretched = self._stretch_at = None
            return
        to = new.positions.beats.frame(i)
        new.prepare(to)
        self._stretch_at = (frame, to, new)

    def _stretch(self) -> None:
        """The handover, at its beat: the variant plays on from the same beat; if its stems
        are not in memory yet, a later beat is chosen."""
        _, to, new = self._stretch_at
        self._stretch_at = None
        if self.bank.get(self.setlist.index) is not new or not new.stream.ready_at(to):
            return
        old = self.song
        self._stretched = None
        self._carry_levels(old, new)
        self.setlist.fade_out(old, self.pos, self.fade, click=False)
        self._move_marks(old.positions, old.frames, new.positions, new.frames)
        if self.loop is not None:
            new.cue(self.loop.start)
        if self.pending is not None and self.pending.kind == "jump":
            new.cue(self.pending.to)
        self.song = self.bank.keys.playing = new
        self.pos = to
        self._carry_mix()
        self._plays_with(new.song)
