"""Each song's key and tempo for tonight: what the musician wants, the variant asked of the
Preparer, and the song loaded again at that key and tempo once it is ready. A song without
stems changes as it plays and has nothing to prepare: what it was played at tonight is kept
here too (with its parts' dynamics), and it is loaded so (`LoadedSong.play_as`).

The audio thread says what it wants (`want`: one dict swapped whole) and, stopped, takes
the song the bank now holds for its position (see Playhead); the loader thread (`serve`)
asks the Preparer, loads the variant when it is ready and hands it over in the bank, and
closes the song it replaced once nothing plays it. A preparation that fails leaves the
song as it was and says why (`problem`).
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from ...vocab.state import KeyTempo

if TYPE_CHECKING:
    from .loaded import LoadedSong

Key = tuple[Fraction, Fraction]       # (semitones from the recording, tempo factor)
ORIGINAL: Key = (Fraction(0), Fraction(1))   # the recorded stems: always ready


class Preparer(Protocol):
    """The variants' renderer (disk/variants.py): newest request wins; `progress` is a
    record (song, transpose, tempo, fraction 0..1, error) replaced whole."""
    progress: object

    def request(self, folder: Path, transpose: Fraction, tempo: Fraction) -> None: ...

    def ready(self, folder: Path, transpose: Fraction, tempo: Fraction) -> bool: ...


def key_of(song: LoadedSong) -> Key:
    """The key and tempo `song` plays at (a song without stems: its parts' key as asked)."""
    if song.live and song.plan is not None:
        return Fraction(song.plan.latest.transpose), song.song.tempo.factor
    return song.song.transpose, song.song.tempo.factor


class KeySwitch:
    def __init__(self, preparer: Preparer | None, wake: Callable[[], None]) -> None:
        self.preparer = preparer
        self._wake = wake          # the loader's
        self.wanted: dict[int, Key] = {}      # position -> key; the audio thread swaps it whole
        self.dynamics: dict[int, float] = {}  # position -> its parts' intensity; the same
        # position -> the tempos its stems are stretched to already, at its key (the loader's)
        self.stretched: dict[int, frozenset[Fraction]] = {}
        self.problems: dict[int, str] = {}    # position -> why its wanted key cannot play
        self.asked: tuple[Path, Key] | None = None   # the last request to the Preparer
        self.playing: LoadedSong | None = None   # written by the audio thread: never closed
        self.fading: LoadedSong | None = None    # the crossfade's outgoing song: nor this
        self._retired: list[LoadedSong] = []     # replaced, closed once nothing plays them

    # -- the audio thread's side (and the daemon's, before the audio starts) ------------
    def want(self, pos: int, key: Key) -> None:
        self.wanted = {**self.wanted, pos: key}
        self._wake()

    def want_dynamics(self, pos: int, intensity: float) -> None:
        """Position `pos`'s parts at `intensity` tonight (0 soft .. 1 loud)."""
        self.dynamics = {**self.dynamics, pos: intensity}

    def state(self, pos: int, song: LoadedSong | None) -> KeyTempo:
        """What the State says of position `pos`, `song` playing there; any thread."""
        if song is None:
            return KeyTempo()
        have = key_of(song)
        want = self.wanted.get(pos, have)
        tempo = song.song.tempo
        return KeyTempo(float(have[0]), float(have[1]), float(want[0]), float(want[1]),
                        float(tempo.bpm_at(Fraction(0)) / tempo.factor),
                        self._progress(song.song.folder, want) if want != have else None,
                        self.problems.get(pos, "") if want != have else "")

    def _progress(self, folder: Path, key: Key) -> float | None:
        p = self.preparer.progress if self.preparer is not None else None
        if p is None or p.folder != folder or (p.transpose, p.tempo) != key:
            return None
        return float(p.fraction)

    # -- the loader thread --------------------------------------------------------
    def serve(self, ready: dict[int, LoadedSong], current: int | None,
              load: Callable[[int, Key], LoadedSong | str]) -> dict[int, LoadedSong]:
        """The bank's songs with each wanted variant that is ready loaded in place of its
        song; the Preparer asked for the current position's. `load` returns the song, or
        why it could not be loaded."""
        wanted, problems = self.wanted, dict(self.problems)
        for pos, song in ready.items():
            key = wanted.get(pos)
            if key is None or song.live or key == key_of(song):   # live: as it plays
                problems.pop(pos, None)
                continue
            folder = song.song.folder
            if key == ORIGINAL or (self.preparer is not None and self.preparer.ready(folder, *key)):
                new = load(pos, key)
                if isinstance(new, str):
                    problems[pos] = new
                    continue
                ready = {**ready, pos: new}
                self._retired.append(song)
                problems.pop(pos, None)
            elif self.preparer is None:
                problems[pos] = "no key/tempo engine on this box"
            elif (why := self._failed(folder, key)) is not None:
                problems[pos] = why
            elif pos == current and self.asked != (folder, key):
                self.asked = (folder, key)
                problems.pop(pos, None)
                self.preparer.request(folder, *key)
        self.problems = problems
        return ready

    def _failed(self, folder: Path, key: Key) -> str | None:
        p = self.preparer.progress
        if p is None or p.folder != folder or (p.transpose, p.tempo) != key or not p.error:
            return None
        return f"cannot prepare {spoken(key)}: {p.error}"

    def busy(self) -> bool:
        """A variant is being prepared: the loader looks again soon."""
        if self.asked is None:
            return False
        folder, key = self.asked
        return self._failed(folder, key) is None and not self.preparer.ready(folder, *key)

    def close_retired(self) -> None:
        """Close the replaced songs nothing plays any more."""
        kept = []
        for song in self._retired:
            if song is self.playing or song is self.fading:
                kept.append(song)
            else:
                song.close()
        self._retired = kept

    def close(self) -> None:
        for song in self._retired:
            song.close()
        self._retired = []


def spoken(key: Key) -> str:
    """`key -2, tempo 90%` as the display says it."""
    transpose, tempo = key
    return f"key {float(transpose):+g}, tempo {float(tempo * 100):g}%"
