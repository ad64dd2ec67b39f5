"""A song's stems at another key and tempo ("variants"), made ahead of time into the cache.

A variant is made once by the stretch engine (stretch.py) from the stem at the box's
rate (its resampled copy when the rates differ) and then streams from disk like any
stem, with no added latency. It lives in the cache beside the resampled copies (cache.py:
one cap, one eviction, one free-space check), keyed by the stem's content identity
(path, size, mtime), the box rate, the transpose, the tempo factor, keep_pitch and the
engine's version: a changed stem, a new engine or new settings make a new variant.
A `keep_pitch` stem (drums, speech) is only time-stretched, so it needs a variant only
when the tempo changes, and one variant serves every key.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Callable

import soundfile as sf

from ...config import Config
from ...errors import Problems
from ...vocab.commands import TEMPO_PERCENT
from ...timeline.song import SONG_FILE, Song, StemSpec
from .cache import HEADER_BYTES, CacheFull, entry, make_room, source_key, used
from .resample import ResampleError, playable_path
from .stems import StemInfo, inspect_stems
from .stretch import StretchError, engine_version, stretch_file

AS_WRITTEN = "it plays at its written key and tempo"


def shift(song: Song, spec: StemSpec) -> tuple[Fraction, Fraction] | None:
    """(transpose, tempo) a stem of `song` is played at, or None when it plays as it is."""
    transpose = Fraction(0) if spec.keep_pitch else song.transpose
    tempo = song.tempo.factor
    return None if transpose == 0 and tempo == 1 else (transpose, tempo)


def asked(song: Song) -> str:
    """The song's key and tempo in words: "transpose -2 and tempo 0.9"."""
    words = [f"transpose {float(song.transpose):+g}"] if song.transpose else []
    if song.tempo.factor != 1:
        words.append(f"tempo {float(song.tempo.factor):g}")
    return " and ".join(words)


def variant_frames(info: StemInfo, tempo: Fraction) -> int:
    """A variant's length: the stretch engine's round(frames / tempo)."""
    return round(info.frames / float(tempo))


def variant_path(song: Song, info: StemInfo, config: Config) -> Path | None:
    """Where `info`'s variant for `song` lives in the cache; None when it plays as it is.
    StretchError when the engine is missing (its version is part of the key)."""
    s = shift(song, info.spec)
    if s is None:
        return None
    transpose, tempo = s
    key = (f"{source_key(info.spec.file)}|{config.rate}|{transpose}|{tempo}|"
           f"{info.spec.keep_pitch}|{engine_version()}")
    return entry(config.cache, f"{info.spec.file.resolve().stem}-{config.rate}-variant", key,
                 ".wav")


def _ready(path: Path, info: StemInfo, tempo: Fraction) -> bool:
    try:
        return path.is_file() and sf.info(str(path)).frames == variant_frames(info, tempo)
    except Exception:
        return False      # a damaged entry is simply made again


def ready_variants(song: Song, stems: list[StemInfo], config: Config) -> dict[int, Path] | None:
    """The variant to play for each stem that needs one (by its index), or None when one is
    missing (or the engine is, which makes the key). An empty dict: nothing needs one."""
    found = {}
    try:
        for info in stems:
            path = variant_path(song, info, config)
            if path is None:
                continue
            if not _ready(path, info, song.tempo.factor):
                return None
            found[info.index] = path
    except (StretchError, OSError):
        return None
    for path in found.values():
        used(path)
    return found


def ready_tempos(song: Song, stems: list[StemInfo], config: Config) -> frozenset[Fraction]:
    """The tempo factors (whole percents, 50 to 200) `song`'s stems are stretched to already
    at its key: a tempo asked as it plays that the box can follow at the next beat. Looks
    at the cache only (no file is touched); empty without the stretch engine."""
    found = set()
    try:
        for percent in range(TEMPO_PERCENT[0], TEMPO_PERCENT[1] + 1):
            tempo = Fraction(percent, 100)
            at = song.at(tempo, song.transpose)
            paths = [(variant_path(at, info, config), info) for info in stems]
            if all(path is None or _ready(path, info, tempo) for path, info in paths):
                found.add(tempo)
    except (StretchError, OSError):
        return frozenset()
    return frozenset(found)


def unprepared(song: Song, stems: list[StemInfo], config: Config, *,
               preparing: bool = False) -> str | None:
    """Why `song` cannot play its stems at its key and tempo yet, or None when it can."""
    if ready_variants(song, stems, config) is not None:
        return None
    try:
        engine_version()
    except StretchError as exc:
        return f"stems at {asked(song)} cannot be prepared: {exc}"
    if preparing:
        return f"stems at {asked(song)} are being prepared"
    return f"stems at {asked(song)} are not prepared yet: run backline prepare"


def prepare_song(song: Song, config: Config, *, progress: Callable[[float], None] | None = None,
                 cancelled: Callable[[], bool] | None = None, then: str = AS_WRITTEN) -> Problems:
    """Make every missing variant of `song` at its key and tempo; ready ones are kept.

    `progress(fraction)` over the whole song, weighted by stem frames. What failed comes
    back as problems naming the song's file and the stem, each ending with `then`: what the
    failure means to the caller (by default, what it means to a box whose song.toml asks
    this key and tempo; "" says only what failed); nothing is raised but StretchCancelled,
    when `cancelled()` says stop."""
    problems = Problems()
    song_file = song.folder / SONG_FILE
    then = f"; {then}" if then else ""
    stems = inspect_stems(song, config.rate, Problems())    # their problems: the loader's
    try:
        todo = [(info, path) for info in stems
                if (path := variant_path(song, info, config)) is not None
                and not _ready(path, info, song.tempo.factor)]
    except StretchError as exc:
        problems.error(song_file, "", f"stems at {asked(song)}: {exc}{then}")
        return problems
    total = sum(info.frames for info, _ in todo)
    done = 0
    for info, target in todo:
        tick = _share(progress, done, info.frames, total)
        try:
            _make(song, info, target, config, tick, cancelled)
        except (ResampleError, CacheFull, StretchError, OSError) as exc:
            problems.error(song_file, f"{info.field}.file", f"{info.spec.file.name!r} at "
                           f"{asked(song)}: {exc}{then}")
        done += info.frames
    if progress:
        progress(1.0)
    return problems


def _share(progress: Callable[[float], None] | None, before: int, frames: int,
           total: int) -> Callable[[float], None] | None:
    """One stem's progress (0..1) as the song's: the stems before it and its share."""
    if progress is None:
        return None
    return lambda f: progress((before + f * frames) / total)


def _make(song: Song, info: StemInfo, target: Path, config: Config,
          progress: Callable[[float], None] | None,
          cancelled: Callable[[], bool] | None) -> None:
    transpose, tempo = shift(song, info.spec)
    source = playable_path(info, config.rate, config.cache, cap_mb=config.cache_mb)
    needs = variant_frames(info, tempo) * info.channels * 4 + HEADER_BYTES   # float at most
    make_room(target, needs, config.cache_mb)
    stretch_file(source, target, transpose=float(transpose), tempo=float(tempo),
                 keep_pitch=info.spec.keep_pitch, progress=progress, cancelled=cancelled)
    used(target)
