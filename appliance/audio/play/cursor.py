"""Where the transport is in the setlist: which song, which comes next and when it takes
over (the song's end, or a crossfade's start), the outgoing song of a crossfade, and
songs that cannot load, walked past at the start and at a transition (`onward`), never
when the musician chose the song.

Audio thread: it asks the SongBank for songs its loader thread has ready, no waiting.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .fade import Fade

if TYPE_CHECKING:
    from ..disk.loaded import LoadedSong
    from ..disk.show import ShowEntry, SongBank


class SetlistCursor:
    def __init__(self, bank: SongBank, *, rate: int, block: int) -> None:
        self.bank = bank
        self.rate = rate
        self.count = len(bank.show.entries)
        self.index = 0
        self.onward = True               # a song that cannot load is skipped, and what was
        self.skipped = ""                # skipped is said until the next song change
        self.crossfade_missed = False    # the next song was not ready for its crossfade
        self.out: LoadedSong | None = None       # the song fading out under this one
        self.out_index = self.out_pos = 0
        self.out_fade = Fade(block)
        self.out_click = True            # the outgoing song's click sounds as it fades

    @property
    def entry(self) -> ShowEntry:
        return self.bank.show.entries[self.index]

    def want(self) -> None:
        """Tell the loader which songs to keep: this one, the next, the outgoing one."""
        wanted = [self.index, self.index + 1]
        if self.out is not None:
            wanted.append(self.out_index)
        self.bank.want(tuple(p for p in wanted if p < self.count))

    def move(self, index: int) -> LoadedSong | None:
        """Go to `index`; its song if it is loaded."""
        self.index = index
        self.want()
        return self.bank.get(index)

    def take(self) -> tuple[LoadedSong | None, str, bool]:
        """The song here if loaded, going on past songs that cannot load while `onward`:
        (song or None, the last broken song's problem or "", True at a dead end)."""
        song, broken = self.bank.get(self.index), self.bank.broken(self.index)
        problem = ""
        while song is None and broken is not None:
            problem = f"{self.entry.name}: {broken.message}"
            if not (self.onward and self.index + 1 < self.count):
                self.onward = False
                return None, problem, True
            problem = self.skipped = f"{problem}; skipped"   # the set goes on
            song = self.move(self.index + 1)
            broken = self.bank.broken(self.index)
        if song is not None:
            self.onward = False
        return song, problem, False

    def arrived(self) -> str:
        """A song has come in: what was skipped to reach it ("" if nothing)."""
        self.crossfade_missed = False
        skipped, self.skipped = self.skipped, ""
        return skipped

    def takes_over_at(self, song: LoadedSong, pos: int) -> int:
        """The song frame where the next song takes over: a crossfade's start, or the end."""
        transition = self.entry.transition
        if transition.kind == "crossfade" and self.index + 1 < self.count \
                and not self.crossfade_missed:
            return max(pos, song.frames - transition.ms * self.rate // 1000)
        return song.frames

    def hand_over(self, song: LoadedSong, pos: int) -> LoadedSong | None:
        """A crossfade begins at `pos` of `song`: it fades out to its end under the next
        song, returned (None, and the crossfade missed, if that is not loaded yet)."""
        nxt = self.bank.get(self.index + 1)
        if nxt is None:                  # not ready: play this one to its end, then wait
            self.crossfade_missed = True
            return None
        self.fade_out(song, pos, song.frames - pos)
        self.move(self.index + 1)
        return nxt

    def fade_out(self, song: LoadedSong, pos: int, frames: int, *, click: bool = True) -> None:
        """`song` fades out from `pos` over `frames` under the one playing here (a crossfade
        to the next song; the same song at another tempo, `click` left out: the new one
        clicks the same beat)."""
        self.out, self.out_index, self.out_pos, self.out_click = song, self.index, pos, click
        self.bank.keys.fading = song
        self.out_fade.start(frames)

    def out_played(self, k: int) -> None:
        """`k` frames of the outgoing song sounded: it leaves at the end of its fade."""
        self.out_pos += k
        if self.out_fade.advance(k):
            self.out = self.bank.keys.fading = None
            self.want()
