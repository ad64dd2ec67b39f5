"""Offline render: exactly what the box would play, written to a multichannel file.

The count-in (if the song has one) plays first, at the tempo and meter of the
start position; then the song from the start bar. Blocks are mixed by the same
code the audio thread uses, so a render is the reference for what the device plays.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import soundfile as sf

from .click import ClickTrack
from .limiter import Limiter, for_config
from .loaded import COUNT_IN, LoadedSong

SUBTYPES = {"float": "FLOAT", "24": "PCM_24"}


@dataclass(frozen=True)
class Rendered:
    frames: int
    clipped: int = 0       # samples beyond -1..1 an integer file had to clip (limiter off)


@dataclass(frozen=True)
class RenderRange:
    start_bar: int = 1
    bars: int | None = None
    seconds: float | None = None
    count_in: bool = True


def song_range(loaded: LoadedSong, r: RenderRange) -> tuple[int, int]:
    """(first, end) song frames to render. ValueError when the range is outside the song."""
    song = loaded.song
    start_qn = song.meters.bar_qn(r.start_bar)
    first = song.tempo.frame_at(start_qn, loaded.rate)
    if r.start_bar < 1 or first >= loaded.frames:
        last_bar = song.meters.bar_beat_at(
            song.tempo.qn_at_seconds(Fraction(max(loaded.frames - 1, 0), loaded.rate)))[0]
        raise ValueError(f"bar {r.start_bar} is outside the song (bars 1 to {last_bar})")
    end = loaded.frames
    if r.bars is not None:
        end = min(end, song.tempo.frame_at(song.meters.bar_qn(r.start_bar + r.bars), loaded.rate))
    elif r.seconds is not None:
        end = min(end, first + round(r.seconds * loaded.rate))
    return first, end


def _count_in(loaded: LoadedSong, r: RenderRange) -> tuple[int, ClickTrack | None]:
    """The count-in the render plays first: (frames, its clicks), (0, None) without one."""
    if not (r.count_in and loaded.song.count_in_bars):
        return 0, None
    ci, track = loaded.count_in(loaded.song.meters.bar_qn(r.start_bar))
    return ci.frames, track


def mixed(loaded: LoadedSong, r: RenderRange = RenderRange(), *,
          limiter: Limiter | None = None,
          progress: Callable[[int], None] | None = None) -> Iterator[np.ndarray]:
    """The render, block by block, as the box would play it: the count-in, then the song,
    through `limiter` (its look-ahead taken off the start and flushed at the end, so the
    blocks are aligned with the song). Each block is only valid until the next."""
    first, end = song_range(loaded, r)
    mixer = loaded.mixer
    block = mixer.block
    skip = limiter.delay if limiter else 0
    out = np.zeros((block, mixer.channels), dtype=np.float32)
    count_in_input = mixer.input(COUNT_IN)
    ci_frames, ci_track = _count_in(loaded, r)
    loaded.start(blocking=True)
    try:
        for frame in range(-ci_frames, end - first, block):
            n = min(block, end - first - frame)
            buf = out[:n]
            buf.fill(0.0)
            if frame < 0:   # count-in: its own clicks through the click's routing
                k = min(n, -frame)
                mixer.mix_source_into(buf[:k], frame + ci_frames, count_in_input, ci_track)
                if k < n:
                    mixer.mix_into(buf[k:], first)
            else:
                mixer.mix_into(buf, first + frame)
            if limiter is not None:
                limiter.process(buf)
            k = min(skip, n)
            skip -= k
            yield buf[k:]
            if progress:
                progress(n)
        if limiter is not None:
            yield limiter.flush()[skip:]
    finally:
        loaded.stop()


def render(loaded: LoadedSong, out_path: Path, r: RenderRange = RenderRange(), *,
           fmt: str = "float", progress: Callable[[int], None] | None = None,
           limiter: Limiter | None = None) -> Rendered:
    """Write the render; returns the frames written and what had to be clipped. Through the
    config's safety limiter (or `limiter`, whose counts say what it caught)."""
    first, end = song_range(loaded, r)
    limiter = limiter or for_config(loaded.config, loaded.mixer.block)
    ci_frames = _count_in(loaded, r)[0]
    channels = loaded.mixer.channels
    subtype = SUBTYPES[fmt]
    written = clipped = 0
    with sf.SoundFile(str(out_path), "w", loaded.rate, channels, subtype=subtype,
                      format="WAV" if (ci_frames + end - first) * channels * 4 < 2**32 - 2**20
                      else "RF64") as f:
        for buf in mixed(loaded, r, limiter=limiter, progress=progress):
            clipped += _write(f, buf, subtype)
            written += len(buf)
    return Rendered(written, clipped)


def analyse(loaded: LoadedSong, limiter: Limiter, r: RenderRange = RenderRange()) -> int:
    """Mix the song through `limiter` writing nowhere, for its counts (`check --deep`);
    returns the frames mixed."""
    return sum(len(buf) for buf in mixed(loaded, r, limiter=limiter))


def _write(f: sf.SoundFile, buf: np.ndarray, subtype: str) -> int:
    """Write `buf`; an integer file holds -1..1, so what lies beyond is clipped and counted."""
    over = 0
    if subtype != "FLOAT":
        over = int(np.count_nonzero(np.abs(buf) > 1.0))
        np.clip(buf, -1.0, 1.0, out=buf)
    f.write(buf)
    return over
