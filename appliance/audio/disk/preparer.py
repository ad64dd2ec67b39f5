"""The daemon's background preparation of a song's variants (its stems at a key and tempo).

One thread makes one song's variants at a time. The newest request wins: a request for
another song, key or tempo cancels the unfinished one (the stretch engine stops within
a quarter of a second and leaves nothing behind). The work is Rubber Band's process,
which runs at SCHED_IDLE (stretch.py sets it on the child with `os.sched_setscheduler`;
nice 19 where SCHED_IDLE is refused): it uses only CPU time nothing else of the box
wants. This thread itself keeps the priority it was started with (the box's): it mostly
waits on the child's output, and a Python thread starved while it holds the GIL would
stall the audio thread (bench/prepare.py measured xruns with the thread at SCHED_IDLE).
Other threads read `progress`, a frozen record swapped whole, without a lock.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ...config import Config
from ...errors import Problems
from ...lifetime import Lifetime
from ...timeline.song import load_song
from .stems import inspect_stems
from .stretch import StretchCancelled
from .variants import prepare_song, ready_variants

log = logging.getLogger("backline")


@dataclass(frozen=True)
class Preparation:
    """Where the preparation of one song at one key and tempo is: for the display and the
    state. `fraction` 0..1; `error` says what failed (the song then plays as written)."""

    folder: Path | None = None
    song: str = ""
    transpose: Fraction = Fraction(0)
    tempo: Fraction = Fraction(1)
    fraction: float = 0.0
    error: str = ""

    @property
    def done(self) -> bool:
        return self.fraction >= 1.0 and not self.error


@dataclass(frozen=True)
class _Job:
    folder: Path
    transpose: Fraction
    tempo: Fraction


class Preparer(Lifetime):
    """Prepares the variants the box asks for, one song at a time, newest request first."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.progress = Preparation()
        self._cond = threading.Condition()
        self._pending: _Job | None = None
        self._job: _Job | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="preparer", daemon=True)
        self._thread.start()

    def request(self, folder: Path, transpose: Fraction, tempo: Fraction) -> None:
        """Prepare `folder`'s song at `transpose` and `tempo`; an unfinished request for
        anything else is cancelled."""
        job = _Job(Path(folder), Fraction(transpose), Fraction(tempo))
        with self._cond:
            if job == self._job and self._pending is None:
                return                       # already under way
            self._pending = job
            self._cond.notify()

    def ready(self, folder: Path, transpose: Fraction, tempo: Fraction) -> bool:
        """Whether the song plays its stems at `transpose` and `tempo` now."""
        song = load_song(Path(folder), Problems())
        if song is None:
            return False
        song = song.at(Fraction(tempo), Fraction(transpose))
        return ready_variants(song, inspect_stems(song, self.config.rate, Problems()),
                              self.config) is not None

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join()

    def _cancelled(self, job: _Job) -> bool:
        return self._stopping or (self._pending is not None and self._pending != job)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                job, self._pending = self._pending, None
                self._job = job
            try:
                self._prepare(job)
            except StretchCancelled:
                pass                         # a newer request, or stop()
            except Exception as exc:         # the thread lives on for the next request
                log.exception("preparing %s", job.folder)
                self._publish(job, self.progress.fraction, f"{job.folder}: {exc}")
            finally:
                with self._cond:
                    self._job = None

    def _prepare(self, job: _Job) -> None:
        self._publish(job, 0.0)
        problems = Problems()
        song = load_song(job.folder, problems)
        if song is None:
            self._publish(job, 0.0, "; ".join(map(str, problems)) or f"{job.folder}: no song")
            return
        song = song.at(job.tempo, job.transpose)
        failed = prepare_song(song, self.config,
                              progress=lambda f: self._publish(job, f),
                              cancelled=lambda: self._cancelled(job),
                              then="")          # the song stays as it plays (key_switch.py)
        if failed:
            log.error("%s", "; ".join(map(str, failed)))
        self._publish(job, 1.0, "; ".join(map(str, failed)))

    def _publish(self, job: _Job, fraction: float, error: str = "") -> None:
        self.progress = Preparation(job.folder, job.folder.name, job.transpose, job.tempo,
                                    min(max(fraction, 0.0), 1.0), error)
