"""What every `backline` command shares: the config, the song or show a name means, problems
said one per line, argument types that say the allowed range."""
from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..config import DEMO_LIBRARY, Config, load_config
from ..errors import Problems
from ..timeline.library import Library
from ..timeline.song import SONG_FILE

if TYPE_CHECKING:
    from ..timeline.beatmap import BeatMap

WithConfig = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]
RENDER_BLOCK = 4096


def song_beats(beats: "BeatMap", chunk: int = 65536):
    """(bar, beat, frame, bpm, meter) of every beat, a chunk of frames at a time."""
    from ..timeline.meter import Meter
    for start in range(0, beats.count, chunk):
        for i, frame in enumerate(beats.frames(start, min(start + chunk, beats.count)).tolist(),
                                  start):
            bpm, meter = beats.tempo(i)
            yield (*beats.bar_beat(i), frame, bpm, Meter.parse(meter))


def report(problems: Problems) -> None:
    for p in problems:
        print(p, file=sys.stderr)


def config_of(args: argparse.Namespace) -> Config:
    return load_config(getattr(args, "config", None))


def in_libraries(config: Config, place: Callable[[Library], Path]) -> Path | None:
    """The first `place` that exists: in the configured library, then in the bundled demo's
    (so `demo` is always found, and a library's own `demo` wins)."""
    for library in (Library(config.library), Library(DEMO_LIBRARY)):
        if place(library).exists():
            return place(library)
    return None


def song_dir(text: str, config: Config) -> Path:
    """A song folder, or the name of a song in a library."""
    path = Path(text)
    if (path / SONG_FILE).is_file() or path.exists():
        return path
    found = in_libraries(config, lambda library: library.song_dir(text) / SONG_FILE)
    return found.parent if found else path


def show_target(text: str, config: Config) -> Path:
    """What `play` and `run` take: a song folder or name, a setlist file or name."""
    path = song_dir(text, config)
    if path.exists():
        return path
    return in_libraries(config, lambda library: library.setlist_path(text)) or path


def caught(limiter) -> list[str]:
    """What the safety limiter caught, one line per output that it turned down."""
    return [f"limiter: {name}: {n} frames turned down, by up to {-db:.1f} dB"
            for name, n, db in limiter.caught_by_output() if n]


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def channels(text: str) -> list[int]:
    try:
        chans = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"channel numbers from 1, like 1,2,5; not {text!r}")
    if not chans or min(chans) < 1 or max(chans) > 64:
        raise argparse.ArgumentTypeError(f"channel numbers from 1 to 64, not {text!r}")
    return chans


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def ranged(low: Fraction, high: Fraction, what: str) -> Callable[[str], Fraction]:
    """An argparse type: an exact number (0.9, 9/10) from `low` to `high`."""
    def parse(text: str) -> Fraction:
        try:
            value = Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise argparse.ArgumentTypeError(f"must be {what} like 0.9, not {text!r}")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {float(low):g} to {float(high):g}, "
                                             f"not {text}")
        return value
    return parse


def with_config(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
    sp.add_argument("--config", help="config file (default: $BACKLINE_CONFIG, "
                                     "/etc/backline/config.toml, or built-in defaults)")
    return sp
