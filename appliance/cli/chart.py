"""`backline chart SONG`: a chart song's sections and bars, and its parts as a MIDI file."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import Problems
from .common import WithConfig, config_of, report, song_dir


def cmd_chart(args: argparse.Namespace) -> int:
    from ..timeline.parts import generate
    from ..timeline.parts.export import midi_file
    from ..timeline.song import load_song

    folder = song_dir(args.song, config_of(args))
    problems = Problems()
    song = load_song(folder, problems)
    report(problems)
    if song is None:
        return 1
    if song.chart is None:
        print(f"{folder}: no chart (chart.txt, or chart = \"...\" in song.toml)", file=sys.stderr)
        return 1
    for section in song.chart.sections:
        print(f"{section.name}: bar {section.bar}, {section.bars} bars"
              + (f" ({section.repeat} times)" if section.repeat > 1 else ""))
    if args.midi is None:
        return 0
    out = Path(args.midi)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        midi_file(song, generate(song.chart, args.seed, args.intensity)).save(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        print(f"{out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"{out}: drums, bass and keys, seed {args.seed}", file=sys.stderr)
    return 0


def _intensity(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:          # NaN fails this too
        raise argparse.ArgumentTypeError(f"must be 0 (soft) to 1 (loud), not {text!r}")
    return value


def add_commands(sub: argparse._SubParsersAction, with_config: WithConfig) -> None:
    c = with_config(sub.add_parser("chart", help="a chart song's sections, and its parts "
                                                 "as a MIDI file (--midi)"))
    c.add_argument("song")
    c.add_argument("--midi", metavar="OUT.mid", help="write the drums, bass and keys here")
    c.add_argument("--seed", type=int, default=0, help="another seed, other parts (default 0)")
    c.add_argument("--intensity", type=_intensity, default=0.6,
                   help="0 soft (fewer notes, no fills) to 1 loud (default 0.6)")
    c.set_defaults(func=cmd_chart)
