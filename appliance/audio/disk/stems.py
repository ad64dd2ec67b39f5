"""Stem files: checked before they are trusted, then streamed a block at a time.

A stem is never loaded whole: a `StemReader` keeps one open file and reads
exactly the frames asked for into the caller's buffer, so memory does not
depend on song length.
"""
from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ...errors import Problems, not_a_file
from ...timeline.song import SONG_FILE, Song, StemSpec
from ...timeline.tempo import MAX_SECONDS
from ...vocab.state import clock

FORMATS = {"WAV", "WAVEX", "RF64", "W64", "FLAC", "AIFF"}
log = logging.getLogger("backline")


@dataclass(frozen=True)
class StemInfo:
    spec: StemSpec
    index: int              # 1-based position in song.toml, for messages
    channels: int
    source_rate: int
    source_frames: int
    frames: int             # length at the engine rate

    @property
    def field(self) -> str:
        return f"stem[{self.index}]"


def frames_at_rate(frames: int, source_rate: int, rate: int) -> int:
    """A stem's length once resampled: nearest frame, the same every time."""
    return (frames * rate + source_rate // 2) // source_rate


def inspect_stem(spec: StemSpec, index: int, rate: int, song_file: Path,
                 problems: Problems) -> StemInfo | None:
    """Header, length and tail of a stem checked; None (and a problem) when it cannot play."""
    field = f"stem[{index}].file"
    name = spec.file.name
    why = not_a_file(spec.file)        # a FIFO or a device would hang the open below
    if why is not None:
        problems.error(song_file, field, f"{name!r} {why}")
        return None
    try:
        info = sf.info(str(spec.file))
    except Exception as exc:  # libsndfile: format not recognised, unreadable, etc.
        reason = "empty file" if spec.file.stat().st_size == 0 else sf_reason(exc)
        problems.error(song_file, field, f"{name!r} is not usable audio: {reason}")
        return None
    if info.format not in FORMATS:
        problems.error(song_file, field, f"{name!r} is {info.format}; stems are WAV, FLAC or AIFF")
        return None
    if info.frames <= 0:
        problems.error(song_file, field, f"{name!r} holds no audio (0 frames)")
        return None
    declared = _declared_frames(spec.file, info)
    if declared is not None and declared > info.frames:
        problems.error(song_file, field, f"{name!r} is truncated: its header promises "
                                         f"{declared} frames, the file holds {info.frames}")
        return None
    try:
        with sf.SoundFile(str(spec.file)) as f:
            f.seek(max(0, info.frames - 4096))
            f.read(4096, dtype="float32")
    except Exception as exc:
        problems.error(song_file, field, f"{name!r} is damaged near its end: {sf_reason(exc)}")
        return None
    for output, chans in spec.route.items():
        bad = [c for c in chans or () if c > info.channels]
        if bad:
            problems.error(song_file, f"stem[{index}].route.{output}",
                           f"channel {bad[0]} does not exist: {name!r} has {info.channels}")
            return None
    frames = frames_at_rate(info.frames, info.samplerate, rate)
    if frames > MAX_SECONDS * rate:          # a song lasts at most 24 h: so does a render
        problems.warn(song_file, field, f"{name!r} lasts {frames / rate / 3600:.1f} hours; "
                                        f"only its first {MAX_SECONDS // 3600} play")
        frames = MAX_SECONDS * rate
    return StemInfo(spec, index, info.channels, info.samplerate, info.frames, frames)


def inspect_stems(song: Song, rate: int, problems: Problems) -> list[StemInfo]:
    """Every stem of `song` that can play; the others are reported and left out."""
    stems = []
    for i, spec in enumerate(song.stems, 1):
        info = inspect_stem(spec, i, rate, song.folder / SONG_FILE, problems)
        if info is not None:
            stems.append(info)
    return stems


def sf_reason(exc: Exception) -> str:
    text = str(exc)
    return text.split(": ", 1)[-1] if ": " in text else text or type(exc).__name__


def _declared_frames(path: Path, info) -> int | None:
    """Frames a WAV/AIFF header promises (libsndfile quietly reports only what is there)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
                return _riff_data_frames(f, info)
            if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
                return _aiff_frames(f)
    except (OSError, struct.error):
        return None
    return None


def _riff_data_frames(f, info) -> int | None:
    block_align = None
    while True:
        hdr = f.read(8)
        if len(hdr) < 8:
            return None
        cid, size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
        if cid == b"fmt ":
            fmt = f.read(size)
            block_align = struct.unpack("<H", fmt[12:14])[0]
            f.seek(size % 2, 1)
        elif cid == b"data":
            return size // block_align if block_align else None
        else:
            f.seek(size + size % 2, 1)


def _aiff_frames(f) -> int | None:
    while True:
        hdr = f.read(8)
        if len(hdr) < 8:
            return None
        cid, size = hdr[:4], struct.unpack(">I", hdr[4:])[0]
        if cid == b"COMM":
            return struct.unpack(">I", f.read(size)[2:6])[0]
        f.seek(size + size % 2, 1)


SALVAGE = 1024     # frames per read when a failed block is read again to find the damage


class StemReader:
    """Reads song frames of one stem into a caller's (n, channels) float32 buffer.

    Frames outside the stem are silence. A read error (file gone, USB stick
    pulled, a FLAC damaged mid-stream) makes the stem silent from its first bad
    frame on: the frames before it still play, and `failed` (why) and `failed_at`
    (the song frame) say what happened. Reads run in the disk thread, never the
    audio thread, so finding the first bad frame costs the audio nothing. A float
    file may hold NaN or infinity: those samples are read as 0 (counted in
    `nonfinite`, the first warned once), so none reaches the mix, the device or a render.
    """

    def __init__(self, path: Path, channels: int, frames: int, name: str | None = None) -> None:
        self.path = path
        self.name = name or path.name     # the musician's file (a resampled stem reads the cache)
        self.channels = channels
        self.frames = frames
        self.failed: str | None = None      # "bass.flac: why"
        self.why = ""
        self.failed_at: int | None = None
        self.nonfinite = 0
        self._file = sf.SoundFile(str(path))
        self._pos = 0

    def read_into(self, start: int, out: np.ndarray) -> None:
        n = out.shape[0]
        lo, hi = max(start, 0), min(start + n, self.frames)
        if hi <= lo or self.failed:
            out.fill(0.0)
            return
        if lo > start:
            out[: lo - start].fill(0.0)
        if hi < start + n:
            out[hi - start:].fill(0.0)
        dest = out[lo - start: hi - start]
        try:
            if self._pos != lo:
                self._file.seek(lo)
            got = self._file.read(hi - lo, dtype="float32", out=dest).shape[0]
            self._pos = lo + got
            if got < dest.shape[0]:
                self._fail(lo + got, "the file ends before its header says")
                dest[got:].fill(0.0)
            self._sanitise(lo, dest)
        except Exception as exc:  # the stem goes quiet, the song goes on
            good = self._salvage(lo, dest)
            self._fail(lo + good, sf_reason(exc) or "cannot decode")
            dest[good:].fill(0.0)

    def _fail(self, frame: int, reason: str) -> None:
        self.failed, self.why = f"{self.name}: {reason}", reason
        self.failed_at = frame

    def _salvage(self, lo: int, dest: np.ndarray) -> int:
        """Read [lo, lo + len(dest)) again in small steps from a fresh handle; the frames
        decoded before the first error stay in `dest`. 0 when the file cannot be opened or
        reads whole this time (the error was not in the data: nothing of it is trusted)."""
        good = 0
        try:
            with sf.SoundFile(str(self.path)) as f:
                f.seek(lo)
                while good < dest.shape[0]:
                    got = f.read(min(SALVAGE, dest.shape[0] - good), dtype="float32",
                                 out=dest[good:good + SALVAGE]).shape[0]
                    if got == 0:
                        break
                    good += got
        except Exception:
            return good
        return 0 if good == dest.shape[0] else good

    def _sanitise(self, start: int, block: np.ndarray) -> None:
        """Zero NaN and ±inf in a block read at frame `start` (the disk thread, never the audio)."""
        if np.isfinite(np.sum(block, dtype=np.float64)):   # float32 values cannot overflow it
            return
        bad = ~np.isfinite(block)
        if not self.nonfinite:
            first = start + int(np.argmax(bad.any(axis=1)))
            log.warning("%s: NaN or infinite samples from %s on, played as silence",
                        self.name, clock(first / self._file.samplerate))
        self.nonfinite += int(bad.sum())
        block[bad] = 0.0

    def close(self) -> None:
        self._file.close()


def decode_errors(info: StemInfo, song_file: Path, problems: Problems,
                  block: int = 1 << 16) -> None:
    """Decode the whole stem, a block at a time (bounded memory): a damaged file is
    reported with the time of its first bad frame (`backline check --deep`)."""
    reader = StemReader(info.spec.file, info.channels, info.source_frames)
    buf = np.empty((block, info.channels), dtype=np.float32)
    try:
        for start in range(0, info.source_frames, block):
            reader.read_into(start, buf)
            if reader.failed_at is not None:
                problems.error(song_file, f"{info.field}.file",
                               f"{reader.name!r} cannot be decoded from "
                               f"{clock(reader.failed_at / info.source_rate)} on: "
                               f"{reader.why}")
                return
    finally:
        reader.close()
