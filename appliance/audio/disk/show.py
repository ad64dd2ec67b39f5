"""The songs a box plays, in order, and a loader that keeps them ready.

Loading a song (reading song.toml, checking stems, resampling, filling the first
read-ahead rings) is disk work, so it runs on the loader thread. The audio thread
only says which setlist positions it wants (`want`) and picks up what is ready
(`get`); both are single reference reads or writes, no locks.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from ...config import Config
from ...errors import Problem, Problems
from ...lifetime import Lifetime
from ...timeline.library import Library
from ...timeline.setlist import Transition, load_setlist
from ...timeline.song import SONG_FILE
from ..threads.priority import HELPER, realtime
from ..threads.wake import Wake
from .key_switch import Key, KeySwitch, Preparer
from .loaded import LoadedSong, load
from .retime import Retimer
from .variants import ready_tempos

PRIME_S = 2.0    # how long a loader waits for a song's first chunk before offering it anyway

log = logging.getLogger("backline")


@dataclass(frozen=True)
class ShowEntry:
    folder: Path
    transition: Transition

    @property
    def name(self) -> str:
        return self.folder.name


@dataclass(frozen=True)
class Show:
    name: str
    entries: tuple[ShowEntry, ...]

    @classmethod
    def of_song(cls, folder: Path) -> "Show":
        return cls("", (ShowEntry(Path(folder), Transition()),))

    @classmethod
    def of_setlist(cls, path: Path, problems: Problems) -> "Show | None":
        """A setlist file; its songs are looked up in the library it sits in."""
        library = Library(Path(path).resolve().parent.parent)
        setlist = load_setlist(Path(path), set(library.song_names()), problems)
        if setlist is None:
            return None
        return cls(setlist.name, tuple(ShowEntry(library.song_dir(e.song), e.transition)
                                       for e in setlist.entries))

    @classmethod
    def open(cls, target: Path, problems: Problems) -> "Show | None":
        target = Path(target)
        if (target / SONG_FILE).is_file():
            return cls.of_song(target)
        if target.is_file():
            return cls.of_setlist(target, problems)
        problems.error(target, "", "neither a song folder (with song.toml) nor a setlist file")
        return None


class SongBank(threading.Thread, Lifetime):
    """Loads the setlist positions the transport wants; closes the ones it no longer does.
    `with SongBank(...) as bank:` does not start the thread (`load_now` works without
    it); leaving the block is `stop()`, which closes every song it holds."""

    POLL_S = 0.5          # woken by `want`; the poll only backs a lost wake-up

    BUSY_POLL_S = 0.1     # while a variant is being prepared: how soon it is looked at again

    def __init__(self, show: Show, config: Config, block: int, *, blocking: bool = False,
                 preparer: Preparer | None = None) -> None:
        super().__init__(name="backline-loader", daemon=True)
        self.show = show
        self.config = config
        self.block = block
        self.blocking = blocking      # offline: the mixer waits for the disk instead of underrunning
        self._wanted: tuple[int, ...] = ()
        self._ready: dict[int, LoadedSong] = {}
        self._broken: dict[int, Problem] = {}
        self.problems: dict[int, list[Problem]] = {}   # per position: what loading reported
        self._halt = threading.Event()
        self._wake = Wake()
        self.keys = KeySwitch(preparer, self._wake.set)    # each song's key and tempo tonight
        self.retimer = Retimer()     # a song without stems at a tempo chosen as it plays

    # -- the audio thread's side --------------------------------------------
    def want(self, positions: tuple[int, ...]) -> None:
        """0-based positions to keep ready (current, next, outgoing ...)."""
        if positions != self._wanted:
            self._wanted = positions
            self._wake.set()

    def get(self, position: int) -> LoadedSong | None:
        return self._ready.get(position)

    def broken(self, position: int) -> Problem | None:
        return self._broken.get(position)

    def start(self) -> None:
        """The loader thread, and the retimer beside it."""
        super().start()
        self.retimer.start()

    # -- the loader thread --------------------------------------------------
    def run(self) -> None:
        if not self.blocking:
            realtime(HELPER)
        while not self._halt.is_set():
            try:
                self._serve()
            except Exception as exc:     # the loader never dies: nothing would load again
                log.error("song loader: %s; going on", exc or repr(exc))
            self._wake.wait(self.BUSY_POLL_S if self.keys.busy() else self.POLL_S)

    def _serve(self) -> None:
        kept: set[int] = set()
        for pos in self._wanted:
            while 0 <= pos < len(self.show.entries):
                kept.add(pos)
                if pos not in self._ready and pos not in self._broken:
                    self._load(pos)
                if pos not in self._broken:
                    break
                pos += 1      # a song that cannot load: the one after it is readied in its place
        for pos in [p for p in self._ready if p not in kept]:
            song = self._ready.pop(pos)
            song.close()
        before = self._ready
        self._ready = self.keys.serve(self._ready, self._wanted[0] if self._wanted else None,
                                      self._load_key)
        for pos, song in self._ready.items():
            if before.get(pos) is not song:      # a variant in its place
                self._scan_stretched(pos, song)
        self.keys.close_retired()

    def _scan_stretched(self, pos: int, song: LoadedSong) -> None:
        """Which tempos position `pos`'s stems are stretched to already (the audio thread
        takes one of them at the next beat): published whole, for the song just loaded."""
        tempos = frozenset()
        if song.stems and self.keys.preparer is not None:
            tempos = ready_tempos(song.song, song.stems, self.config)
        self.keys.stretched = {**self.keys.stretched, pos: tempos}

    def _load_key(self, pos: int, key: Key) -> LoadedSong | str:
        """Position `pos` at another key and tempo, or why not (its song stays)."""
        problems = Problems()
        song = self._open(self.show.entries[pos].folder, problems, key)
        for p in problems:
            (log.warning if p.warning else log.error)("%s", p)
        if song is None:
            return problems.errors[0].message if problems.errors else "cannot load"
        return song

    def _open(self, folder: Path, problems: Problems, key: Key | None = None,
              pos: int | None = None) -> LoadedSong | None:
        """The song read and primed (at `key`, else as song.toml says; a song without stems
        as it was played tonight at position `pos`), or None: any exception a song's files
        cause (the disk, a parser, a decoder) is a problem of that song, never the loader's."""
        song = None
        try:
            song = load(folder, self.config, problems, block=self.block,
                        transpose=key and key[0], tempo=key and key[1])
            if song is not None:
                if pos is not None:
                    self._as_left(song, pos, problems)
                song.prepare(0)
                song.start(blocking=self.blocking)
                song.stream.wait_primed(PRIME_S)
        except Exception as exc:
            problems.error(folder, "", f"cannot load: {exc or repr(exc)}")
            if song is not None:
                song.close()
            song = None
        return song

    def _as_left(self, song: LoadedSong, pos: int, problems: Problems) -> None:
        """`song` (position `pos`) at the key, tempo and dynamics chosen for it tonight; a
        value that cannot be is said, and the song plays as written."""
        key, level = self.keys.wanted.get(pos), self.keys.dynamics.get(pos)
        if key is None and level is None:
            return
        try:
            song.play_as(key, level)
        except (ValueError, TypeError, ArithmeticError) as exc:
            problems.warn(song.song.folder / SONG_FILE, "",
                          f"cannot play it as left tonight ({exc}); it plays as written")

    def _load(self, pos: int) -> None:
        """Ready `pos`, or mark it broken with the reason (a song that cannot load is
        skipped, never the loader)."""
        problems = Problems()
        entry = self.show.entries[pos]
        song = self._open(entry.folder, problems, pos=pos)
        self.problems[pos] = list(problems)
        for p in problems:           # the journal (the stderr of `play`) says what check says
            (log.warning if p.warning else log.error)("%s", p)
        if song is None:
            self._broken[pos] = problems.errors[0] if problems.errors else \
                Problem(entry.folder, "", "cannot load")
            if not problems.errors:
                log.error("%s", self._broken[pos])
            return
        self._scan_stretched(pos, song)
        self._ready = {**self._ready, pos: song}

    def load_now(self, pos: int) -> LoadedSong | None:
        """Load in the caller's thread (before the audio starts)."""
        self._load(pos)
        return self._ready.get(pos)

    def stop(self) -> None:
        """Idempotent: the thread ended (if started), the songs and the wake-up closed."""
        self._halt.set()
        self._wake.set()
        if self.is_alive():
            self.join()
        self._wake.close()
        self.retimer.close()
        for song in self._ready.values():
            song.close()
        self._ready = {}
        self.keys.close()
