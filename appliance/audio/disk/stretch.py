"""A song's stem at another key and tempo, rendered ahead of time with Rubber Band.

The engine is Rubber Band's own command-line program (Debian's `rubberband-cli`, R2
engine), run as a child process without a shell: it streams the stem through two passes
(study, then process), so its memory stays near 50 MB however long the stem is, it makes
the exact output length, and it reports progress as it goes. pedalboard wraps the same
library but needs the whole stem (and its result) in memory; bench/stretch.py measures
both, and README.md says why this one.

The child inherits the calling thread's scheduling priority: a preparer thread that
lowers its own priority prepares at that priority. The result is written to a temporary
file in `dst`'s folder, fsynced and renamed, so a failure or a cancel leaves no `dst`.
"""
from __future__ import annotations

import math
import os
import re
import select
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

PROGRAM = "rubberband"
INSTALL = "sudo apt install rubberband-cli (deploy/dev.sh and deploy/install.sh install it)"
SETTINGS = ("-2", "--crisp=4", "--centre-focus", "--ignore-clipping")   # see README "Why Rubber Band"
FORMANTS = "-F"                                           # keep a voice's formants when transposing
TRANSPOSE_RANGE = (-12.0, 12.0)
TEMPO_RANGE = (0.5, 2.0)
OUTPUT_SUFFIXES = (".wav", ".flac")
DIRECT_SUBTYPES = ("PCM_24", "FLOAT")       # kept as they are when Rubber Band writes the same container
CLI_READS = (".wav", ".flac", ".aif", ".aiff", ".w64")
STUDY_SHARE = 0.1                           # of the work: pass 1 (study) is quick, pass 2 is the rest
POLL_S = 0.25                               # how often `cancelled` is asked while the engine runs
COPY_FRAMES = 65536

_version: str | None = None


class StretchError(Exception):
    """A stem could not be stretched; the message names the file or the missing engine."""


class StretchCancelled(Exception):
    """`cancelled()` said stop; no output was left behind."""


def __getattr__(name: str) -> str:
    """ENGINE_VERSION, asked of the installed program once (the cache puts it in its key)."""
    if name == "ENGINE_VERSION":
        return engine_version()
    raise AttributeError(name)


def engine_version() -> str:
    """Engine name, its version and our settings: a new one of any makes new cache variants."""
    global _version
    if _version is None:
        out = subprocess.run([_program(), "-V"], capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL)
        found = re.search(r"\d+(\.\d+)+", out.stdout + out.stderr)
        if out.returncode != 0 or not found:
            raise StretchError(f"{PROGRAM} -V did not say its version: {_tail(out.stderr)}")
        _version = " ".join(["rubberband", found.group(0), *SETTINGS, FORMANTS])
    return _version


def stretch_file(src: Path, dst: Path, *, transpose: float, tempo: float,
                 keep_pitch: bool = False, progress: Callable[[float], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> None:
    """Write `src` at `transpose` semitones and `tempo` times the speed to `dst` (24-bit,
    or float32 when `src` is a float WAV and `dst` a WAV), exactly round(frames / tempo)
    long. `keep_pitch`: only the tempo changes. Bad arguments: ValueError/TypeError;
    an unreadable source or a missing engine: StretchError; a cancel: StretchCancelled."""
    _check_number("transpose", transpose, TRANSPOSE_RANGE, "semitones")
    _check_number("tempo", tempo, TEMPO_RANGE, "times the song's tempo")
    if not isinstance(keep_pitch, bool):
        raise TypeError(f"keep_pitch must be true or false, not {keep_pitch!r}")
    src, dst = Path(src), Path(dst)
    if dst.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(f"{dst}: the output must be a .wav or .flac file")
    program = _program()
    try:
        info = sf.info(str(src))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise StretchError(f"{src}: cannot read it as audio ({exc})") from exc
    if info.frames <= 0:
        raise StretchError(f"{src}: has no audio frames")
    frames = round(info.frames / tempo)
    shift = 0.0 if keep_pitch else float(transpose)
    made: list[Path] = []
    try:
        source = src
        if not _engine_reads(src, dst, info.subtype):
            source = _temp(dst, ".w64", made)
            _to_float(src, source, info, cancelled)
        out = _temp(dst, dst.suffix, made)
        args = [program, *SETTINGS, f"--time={frames / info.frames!r}"]
        if shift:
            args += [f"--pitch={shift!r}", FORMANTS]
        _run(args + [str(source), str(out)], src, progress, cancelled)
        _check_result(out, src, frames, info)
        _commit(out, dst)
    finally:
        for path in made:
            path.unlink(missing_ok=True)
    if progress:
        progress(1.0)


def _check_number(name: str, value: object, bounds: tuple[float, float], unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, not {value!r}")
    low, high = bounds
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} = {value!r} is outside {low:g}..{high:g} {unit}")


def _program() -> str:
    found = shutil.which(PROGRAM)
    if found is None:
        raise StretchError(f"the key/tempo engine is missing: the program {PROGRAM!r} "
                           f"(Rubber Band) is not installed; install it with {INSTALL}")
    return found


def _engine_reads(src: Path, dst: Path, subtype: str) -> bool:
    """Whether Rubber Band can read `src` as it is and write `dst` at 24 bits or float.

    It keeps the source's sample format when both files have the same kind, so a 16-bit
    WAV into a WAV would come out 16-bit; it writes 24 bits into another kind."""
    suffix = src.suffix.lower()
    return suffix in CLI_READS and (suffix != dst.suffix.lower() or subtype in DIRECT_SUBTYPES)


def _temp(dst: Path, suffix: str, made: list[Path]) -> Path:
    try:
        fd, name = tempfile.mkstemp(prefix=f".{dst.stem}.", suffix=f".part{suffix}",
                                    dir=dst.parent)
    except OSError as exc:
        raise StretchError(f"{dst.parent}: cannot write there ({exc})") from exc
    os.close(fd)
    made.append(Path(name))
    return Path(name)


def _to_float(src: Path, tmp: Path, info, cancelled: Callable[[], bool] | None) -> None:
    """A float32 copy Rubber Band reads (any format soundfile reads), block by block."""
    try:
        with sf.SoundFile(str(src)) as f, sf.SoundFile(
                str(tmp), "w", info.samplerate, info.channels, subtype="FLOAT", format="W64") as out:
            for block in f.blocks(COPY_FRAMES, dtype="float32"):
                if cancelled and cancelled():
                    raise StretchCancelled(f"{src}: cancelled")
                out.write(block)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise StretchError(f"{src}: cannot read it as audio ({exc})") from exc


def _run(args: list[str], src: Path, progress: Callable[[float], None] | None,
         cancelled: Callable[[], bool] | None) -> None:
    """Run the engine, passing its percentages on and stopping it when cancelled."""
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    said = b""
    told = -1.0
    try:
        fd = proc.stderr.fileno()
        while True:
            if cancelled and cancelled():
                raise StretchCancelled(f"{src}: cancelled")
            if select.select([fd], [], [], POLL_S)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                said = (said + chunk)[-8192:]
                if progress and (fraction := _fraction(said)) != told:
                    progress(fraction)
                    told = fraction
        if proc.wait() != 0:
            raise StretchError(f"{src}: Rubber Band failed (exit {proc.returncode}): "
                               f"{_tail(said.decode(errors='replace'))}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def _fraction(said: bytes) -> float:
    """The share of the work done, from the engine's last "Pass N" and "NN%" it printed."""
    text = said.decode(errors="replace")
    percents = re.findall(r"(\d+)%", text.rsplit("Pass ", 1)[-1])
    done = int(percents[-1]) / 100 if percents else 0.0
    if "Pass 2" in text:
        return STUDY_SHARE + (1 - STUDY_SHARE) * done
    return STUDY_SHARE * done


def _tail(text: str) -> str:
    lines = [s.strip() for s in re.split(r"[\r\n]", text) if s.strip() and "%" not in s]
    return " / ".join(lines[-3:]) or "no message"


def _check_result(out: Path, src: Path, frames: int, info) -> None:
    got = sf.info(str(out))
    if (got.frames, got.channels, got.samplerate) != (frames, info.channels, info.samplerate):
        raise StretchError(f"{src}: Rubber Band wrote {got.frames} frames x {got.channels} "
                           f"at {got.samplerate} Hz, not {frames} x {info.channels} "
                           f"at {info.samplerate} Hz")


def _commit(tmp: Path, dst: Path) -> None:
    """fsync the file, rename it onto `dst`, fsync the folder: all of it or nothing."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dst)
    folder = os.open(dst.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
