"""The voice's words, loaded with the song (disk work: the loader thread, never the audio
thread): the built-in words shipped as FLACs in appliance/voice (deploy/make-voice.py made
them with espeak-ng), each replaced by the library's own recording when there is one.

Every word is shaped the same way, built-in or recorded: leading and trailing silence
trimmed (its first frame is its onset), and its voiced part (the 10 ms windows within 30 dB
of its loudest) brought to WORD_LEVEL_DB RMS, so "one" and "Pre-chorus" sound equally loud.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ...errors import Problems, not_a_file
from .stems import sf_reason

BUILT_IN_DIR = Path(__file__).resolve().parents[2] / "voice"
USER_DIR = "voice"           # in the library: library/voice/<word>.wav or .flac
SUFFIXES = (".wav", ".flac")
WORD_LEVEL_DB = -20.0        # RMS of a word's voiced part, dBFS
MAX_WORD_S = 2.0            # a longer recording is refused: a cue must be short
SILENT_DB = -40.0            # below the word's peak by this much: silence, trimmed
VOICED_DB = -30.0            # windows within this of the loudest are its voiced part
WINDOW_S = 0.010
WORD_FADE_S = 0.003          # the trimmed end lands on silence


class WordError(ValueError):
    """A recording that cannot be a word: the message says why."""


def voiced_rms_db(x: np.ndarray, rate: int) -> float:
    """The RMS level (dBFS) of the voiced part of mono `x`."""
    w = max(1, int(rate * WINDOW_S))
    n = len(x) // w * w
    if n == 0:
        return -np.inf
    power = np.mean(x[:n].astype(np.float64).reshape(-1, w) ** 2, axis=1)
    loud = power[power >= power.max() * 10 ** (VOICED_DB / 10)]
    return float(10 * np.log10(np.mean(loud))) if loud.size and loud.max() > 0 else -np.inf


def shape(x: np.ndarray, rate: int) -> np.ndarray:
    """Mono float32 `x` trimmed to its sound and brought to WORD_LEVEL_DB; WordError when it is
    silent, not finite or too long."""
    x = np.asarray(x, np.float64)
    if not np.all(np.isfinite(x)):
        raise WordError("holds samples that are not numbers (NaN or inf)")
    peak = float(np.max(np.abs(x), initial=0.0))
    if peak == 0.0:
        raise WordError("is silent")
    loud = np.flatnonzero(np.abs(x) >= peak * 10 ** (SILENT_DB / 20))
    x = x[loud[0]: loud[-1] + 1].copy()
    if len(x) > MAX_WORD_S * rate:
        raise WordError(f"lasts {len(x) / rate:.1f} s once trimmed; a word lasts at most "
                        f"{MAX_WORD_S:g} s")
    fade = min(len(x), max(1, int(rate * WORD_FADE_S)))
    x[-fade:] *= np.linspace(1.0, 0.0, fade)
    x *= 10 ** ((WORD_LEVEL_DB - voiced_rms_db(x, rate)) / 20)
    return x.astype(np.float32)


def read_word(path: Path, rate: int) -> np.ndarray:
    """A recording as a shaped word at `rate` (channels averaged, resampled with soxr like
    a stem); WordError naming what is wrong."""
    why = not_a_file(path)
    if why is not None:
        raise WordError(why)
    try:
        data, source_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:       # libsndfile: not audio, truncated, damaged
        raise WordError(f"is not usable audio: {sf_reason(exc)}") from exc
    if data.shape[0] == 0:
        raise WordError("holds no audio (0 frames)")
    mono = data.mean(axis=1)
    if source_rate != rate and np.all(np.isfinite(mono)):
        mono = soxr.resample(mono, source_rate, rate, quality="HQ")
    return shape(mono, rate)


@lru_cache(maxsize=256)
def _built_in(key: str, rate: int) -> np.ndarray:
    return read_word(BUILT_IN_DIR / f"{key}.flac", rate)


def user_file(library: Path, key: str) -> Path | None:
    """The library's recording of word `key`, if it has one."""
    for suffix in SUFFIXES:
        path = Path(library) / USER_DIR / f"{key}{suffix}"
        if path.exists() or path.is_symlink():
            return path
    return None


def load_words(keys: set[str], library: Path, rate: int, song_file: Path,
               problems: Problems) -> dict[str, np.ndarray]:
    """Each word of `keys` that has a sound: the library's recording, else the built-in.
    A recording that cannot be used is a warning naming it (the built-in word plays); a
    word with neither is a warning too (silent)."""
    words = {}
    for key in sorted(keys):
        path = user_file(library, key)
        if path is not None:
            try:
                words[key] = read_word(path, rate)
                continue
            except WordError as exc:
                fallback = "the built-in word plays" if _has_built_in(key) else "silent"
                problems.warn(song_file, "voice", f"{path}: {exc}; {fallback}")
        if _has_built_in(key):
            words[key] = _built_in(key, rate)
        elif path is None:
            problems.warn(song_file, "voice", f"no word {key!r}: neither built in nor in "
                          f"{Path(library) / USER_DIR} (.wav or .flac); silent")
    return words


def _has_built_in(key: str) -> bool:
    return (BUILT_IN_DIR / f"{key}.flac").is_file()
