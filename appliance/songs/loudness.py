"""A song's FOH loudness measured as the box renders it, and stored (timeline/loudness.py).

The mix is render's own (`audio.render.mixed`: the same mixer, the stems resampled as the
box plays them, a chart song's parts synthesised with the box's SoundFont), without the
count-in, the song's stored gain or the safety limiter: what is measured is the song as
mixed. A chart song whose parts cannot sound here is not measured (saying why). Integrated loudness is pyloudnorm's (ITU-R BS.1770-4,
the K-weighting and the gates of EBU R128) over the front-of-house device channels. True
peak is streamed as the mix is made: each block oversampled 4x by soxr (its band-limited
HQ resampler, as BS.1770 Annex 2 asks for an interpolating 4x filter) and the largest
value kept, with the plain sample peak.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import pyloudnorm
import soxr

from ..audio.disk.loaded import load, validate_song
from ..audio.disk.parts import soundfont_of
from ..audio.render import RenderRange, mixed
from ..config import Config, front_outputs
from ..errors import BacklineError, Problem, Problems
from ..timeline.loudness import Level, Measured, fingerprint, parts_silent, write_measured
from ..timeline.song import SONG_FILE

MIX_FRAMES = 8192
MAX_CHANNELS = 5          # BS.1770's channel weights (L R C Ls Rs), as pyloudnorm has them

Ticker = Callable[[str, int], Callable[[int], None]]


def measure(folder: Path, config: Config, progress: Ticker | None = None) -> Measured:
    """The song's FOH mix measured; BacklineError when it cannot be loaded or the box has
    no front-of-house output."""
    folder = Path(folder)
    front = front_outputs(config)
    if not front:
        raise BacklineError(Problem(folder / SONG_FILE, "", "the box has no front-of-house "
                                    "output (foh, main or pa) to measure the loudness of"))
    problems = Problems()
    loaded = load(folder, config, problems, block=MIX_FRAMES, progress=progress)
    if loaded is None:
        raise BacklineError(problems.errors[0], problems)
    if loaded.parts_trouble:             # the parts are the song: no number without them
        loaded.close()
        problem = Problem(folder / SONG_FILE, "", parts_silent(loaded.parts_trouble))
        raise BacklineError(problem, Problems([*problems, problem]))
    channels = sorted({c - 1 for chans in front.values() for c in chans})[:MAX_CHANNELS]
    loaded.mixer.trim_db = {}            # the song as mixed, not at its stored gain
    loaded.mixer.update(glide=False)
    foh = np.empty((loaded.frames, len(channels)), dtype=np.float32)
    stream = soxr.ResampleStream(config.rate, 4 * config.rate, len(channels), dtype="float32",
                                 quality="HQ")
    tick = progress("measuring loudness", loaded.frames) if progress else None
    peak = 0.0
    at = 0
    try:
        for buf in mixed(loaded, RenderRange(count_in=False)):
            part = buf[:, channels]
            foh[at: at + len(part)] = part
            at += len(part)
            peak = max(peak, _peak(part), _peak(stream.resample_chunk(part)))
            if tick:
                tick(len(part))
        peak = max(peak, _peak(stream.resample_chunk(np.zeros((0, len(channels)), np.float32),
                                                     last=True)))
    finally:
        loaded.close()
    return Measured(_integrated(foh[:at], config.rate), _db(peak),
                    fingerprint(loaded.song, front, soundfont_of(loaded.song, config)))


def _peak(x: np.ndarray) -> float:
    return float(np.abs(x).max(initial=0.0))


def _db(x: float) -> float:
    return 20 * math.log10(x) if x > 0 else -400.0


def _integrated(x: np.ndarray, rate: int) -> float:
    """BS.1770 integrated loudness; -inf for silence or a song shorter than one 400 ms block."""
    meter = pyloudnorm.Meter(rate)
    if len(x) < meter.block_size * rate:
        return -math.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # silence: log10(0) inside, -inf is the answer
        value = float(meter.integrated_loudness(x))
    return value if math.isfinite(value) else -math.inf


def prepare(folder: Path, config: Config, progress: Ticker | None = None) -> Level:
    """Measure the song and store it beside song.toml; the level it now plays at."""
    write_measured(folder, measure(folder, config, progress))
    problems = Problems()
    playable = validate_song(Path(folder), config, problems)
    if playable is None:
        raise BacklineError(problems.errors[0], problems)
    return playable.level
