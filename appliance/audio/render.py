"""Offline render: exactly what the box would play, written to a multichannel file.

The count-in (if the song has one) plays first, at the tempo and meter of the
start position; then the song from the start bar. Blocks are mixed by the same
code the audio thread uses, so a render is the reference for what the device plays.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import soundfile as sf

from .disk.loaded import LoadedSong, last_bar
from .disk.stems import sf_reason
from .mix.click import ClickTrack
from .mix.limiter import Limiter, for_config
from .play.count_in import mix_count_in

SUBTYPES = {"float": "FLOAT", "24": "PCM_24"}


class RenderWriteError(Exception):
    """The render could not be written; the message names the file and why."""


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
        raise ValueError(f"bar {r.start_bar} is outside the song "
                         f"(bars 1 to {last_bar(song, loaded.frames, loaded.rate)})")
    end = loaded.frames
    if r.bars is not None:
        end = min(end, song.tempo.frame_at(song.meters.bar_qn(r.start_bar + r.bars), loaded.rate))
    elif r.seconds is not None:
        end = min(end, first + round(r.seconds * loaded.rate))
    return first, end


def render(loaded: LoadedSong, out_path: Path, r: RenderRange = RenderRange(), *,
           fmt: str = "float", progress: Callable[[int], None] | None = None,
           limiter: Limiter | None = None) -> Rendered:
    """Write the render; returns the frames written and what had to be clipped. Through the
    config's safety limiter (or `limiter`, whose counts say what it caught).

    The file is written under a temporary name in the same folder and renamed at the end,
    so a failed render (RenderWriteError: no such folder, the disk full) leaves nothing
    under `out_path`."""
    out_path = Path(out_path)
    if not out_path.parent.is_dir():
        raise RenderWriteError(f"{out_path}: the folder {out_path.parent} does not exist")
    tmp = out_path.with_name(f".{out_path.name}.partial")
    try:
        done = _render(loaded, tmp, r, fmt, progress, limiter)
        os.replace(tmp, out_path)
    except (OSError, sf.SoundFileError) as exc:
        raise RenderWriteError(f"{out_path}: cannot write: {_why(exc, out_path)}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return done


def _why(exc: Exception, out_path: Path) -> str:
    """libsndfile reports a full disk as a bare system error: say it as the musician sees it."""
    try:
        if shutil.disk_usage(out_path.parent).free < 1 << 16:
            return "the disk is full"
    except OSError:
        pass
    return getattr(exc, "strerror", None) or sf_reason(exc)


def _render(loaded: LoadedSong, out_path: Path, r: RenderRange, fmt: str,
            progress: Callable[[int], None] | None, limiter: Limiter | None) -> Rendered:
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
    ci_frames, ci_track = _count_in(loaded, r)
    if ci_frames:
        ci = loaded.count_in(loaded.song.meters.bar_qn(r.start_bar))[0]
        loaded.cues.count_in(first, ci_frames, ci.beat_frames, ci.numbers)
    loaded.start(blocking=True)
    try:
        for frame in range(-ci_frames, end - first, block):
            n = min(block, end - first - frame)
            buf = out[:n]
            buf.fill(0.0)
            if frame < 0:   # count-in: its own clicks through the click's routing
                k = min(n, -frame)
                mix_count_in(buf[:k], loaded, ci_track, frame + ci_frames, first + frame)
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
