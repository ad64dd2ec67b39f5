"""`backline render`, `prepare` and `beats`: a song as the box would play it, made ready ahead
of time, and offline."""
from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path
from typing import Callable

from ..config import Config
from ..errors import Problems
from ..timeline.song_key_tempo import MAX_FACTOR, MAX_TRANSPOSE, MIN_FACTOR
from ..ui.progress import terminal_progress
from .common import (RENDER_BLOCK, WithConfig, caught, config_of, positive_float, positive_int,
                     ranged, report, song_beats, song_dir)




def cmd_render(args: argparse.Namespace) -> int:
    from ..audio.disk.loaded import load
    from ..audio.mix.limiter import for_config
    from ..audio.render import RenderRange, RenderWriteError, render, song_range

    config = config_of(args)
    if (args.tempo is not None or args.transpose is not None) and \
            _prepare(song_dir(args.song, config), config, args.tempo, args.transpose,
                     then="nothing is rendered") != 0:
        return 1
    problems = Problems()
    loaded = load(song_dir(args.song, config), config, problems, block=RENDER_BLOCK,
                  progress=terminal_progress, tempo=args.tempo, transpose=args.transpose)
    report(problems)
    if loaded is None:
        return 1
    r = RenderRange(args.start_bar, args.bars, args.seconds, not args.no_count_in)
    try:
        first, end = song_range(loaded, r)
    except ValueError as exc:
        print(f"{args.song}: --from: {exc}", file=sys.stderr)
        return 1
    total = end - first
    limiter = for_config(config, RENDER_BLOCK)
    try:
        done = render(loaded, Path(args.output), r, fmt=args.format, limiter=limiter,
                      progress=terminal_progress(f"rendering {loaded.song.title}", total))
    except RenderWriteError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        loaded.close()
    print(f"{args.output}: {done.frames} frames, {done.frames / config.rate:.3f} s, "
          f"{config.channels} channels at {config.rate} Hz", file=sys.stderr)
    if limiter is None:
        print("limiter: off ([limiter] on = false in the config)", file=sys.stderr)
    else:
        for line in caught(limiter) or [f"limiter: nothing reached its ceiling "
                                         f"({config.ceiling_db:g} dBTP)"]:
            print(line, file=sys.stderr)
    if done.clipped:
        print(f"{args.output}: {done.clipped} samples beyond full scale were clipped",
              file=sys.stderr)
    silent = loaded.stem_problems()       # the file is kept, but a musician must know
    for line in silent:
        print(f"{args.output}: {line}", file=sys.stderr)
    return 1 if silent else 0


def cmd_prepare(args: argparse.Namespace) -> int:
    """A song made ready ahead of time: its stems at its key and tempo (or those given),
    then its loudness measured and stored beside song.toml."""
    from ..songs.loudness import prepare

    config = config_of(args)
    folder = song_dir(args.song, config)
    if _prepare(folder, config, args.tempo, args.transpose, say=print) != 0:
        return 1
    level = prepare(folder, config, terminal_progress)
    print(f"{folder.name}: loudness: {level.describe()}")
    return 0


def _prepare(folder: Path, config: Config, tempo: Fraction | None,
             transpose: Fraction | None, say: Callable[[str], None] | None = None,
             then: str | None = None) -> int:
    """Make the song's missing variants at its key and tempo (or those given), with a
    progress bar on a terminal; 0, or 1 with what failed on stderr, each problem ending
    with `then` (None: what it means to the box, which plays the song at its written key
    and tempo when song.toml asks the one that failed, and is untouched by any other)."""
    from ..audio.disk.variants import AS_WRITTEN, asked, prepare_song
    from ..timeline.song import load_song

    problems = Problems()
    song = load_song(folder, problems)
    report(problems)
    if song is None:
        return 1
    own = song
    song = song.at(song.tempo.factor if tempo is None else tempo,
                   song.transpose if transpose is None else transpose)
    if then is None:
        then = AS_WRITTEN if (song.transpose, song.tempo.factor) == \
            (own.transpose, own.tempo.factor) else ""
    if not asked(song):
        if say:
            say(f"{song.title}: no key or tempo change: its stems play as recorded"
                if song.stems else f"{song.title}: no stems to prepare")
        return 0
    bar = terminal_progress(f"preparing {song.title} at {asked(song)}", 1000)
    failed = prepare_song(song, config, progress=lambda f: bar(round(f * 1000) - bar.done),
                          then=then)
    report(failed)
    if failed:
        return 1
    if say:
        say(f"{song.title}: stems ready at {asked(song)}")
    return 0


def cmd_beats(args: argparse.Namespace) -> int:
    import itertools

    from ..audio.disk.loaded import validate_song
    from ..timeline import grid
    from ..timeline.beatmap import BeatMap

    config = config_of(args)
    problems = Problems()
    checked = validate_song(song_dir(args.song, config), config, problems, tempo=args.tempo)
    report(problems)
    if checked is None:
        return 1
    song, frames = checked.song, checked.frames
    rate = config.rate
    offset = 0
    rows: list = []
    if args.count_in and song.count_in_bars:
        ci = grid.count_in(song, rate)
        rows.extend((b.bar, b.beat, b.frame, b.bpm, b.meter) for b in ci.beats)
        offset = ci.frames
    out = sys.stdout
    out.write("bar,beat,frame,seconds,bpm,numerator,denominator\n")
    beats = BeatMap(song.tempo, song.meters, rate, frames)
    for bar, beat, frame, bpm, meter in itertools.chain(rows, song_beats(beats)):
        frame += offset if bar >= 1 else 0
        bpm = f"{float(bpm):.3f}".rstrip("0").rstrip(".")
        out.write(f"{bar},{beat},{frame},{frame / rate:.6f},{bpm},"
                  f"{meter.numerator},{meter.denominator}\n")
    return 0


def add_commands(sub: argparse._SubParsersAction, with_config: WithConfig) -> None:
    r = with_config(sub.add_parser("render", help="render a song as the box would play it"))
    r.add_argument("song", help="song folder, or a song name in the library")
    r.add_argument("-o", "--output", required=True, help="WAV file to write")
    r.add_argument("--from", dest="start_bar", type=int, default=1, metavar="BAR")
    length = r.add_mutually_exclusive_group()
    length.add_argument("--bars", type=positive_int)
    length.add_argument("--seconds", type=positive_float)
    r.add_argument("--format", choices=("float", "24"), default="float",
                   help="float32 (default) or 24-bit")
    r.add_argument("--no-count-in", action="store_true", help="leave the count-in out")
    r.add_argument("--transpose", type=ranged(-MAX_TRANSPOSE, MAX_TRANSPOSE, "semitones"),
                   metavar="N", help="semitones, instead of the song's (cents: -1.5)")
    r.add_argument("--tempo", type=ranged(MIN_FACTOR, MAX_FACTOR, "a factor"), metavar="F",
                   help="tempo factor, instead of the song's (0.9: 10 %% slower)")
    r.set_defaults(func=cmd_render)

    pr = with_config(sub.add_parser("prepare", help="make a song's stems at its key and tempo "
                                                    "(or the given ones) and measure its "
                                                    "loudness, ahead of time"))
    pr.add_argument("song", help="song folder, or a song name in the library")
    pr.add_argument("--transpose", type=ranged(-MAX_TRANSPOSE, MAX_TRANSPOSE, "semitones"),
                    metavar="N", help="semitones, instead of the song's (cents: -1.5)")
    pr.add_argument("--tempo", type=ranged(MIN_FACTOR, MAX_FACTOR, "a factor"), metavar="F",
                    help="tempo factor, instead of the song's (0.9: 10 %% slower)")
    pr.set_defaults(func=cmd_prepare)

    b = with_config(sub.add_parser("beats", help="print every beat as CSV"))
    b.add_argument("song")
    b.add_argument("--count-in", action="store_true", help="start with the count-in")
    b.add_argument("--tempo", type=ranged(MIN_FACTOR, MAX_FACTOR, "a factor"), metavar="F",
                   help="tempo factor, instead of the song's")
    b.set_defaults(func=cmd_beats)
