"""`backline import` and `sync`: songs onto the box from a DAW export, a stick or a folder."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import WithConfig, config_of, count, positive_float, report

SYNC_NEEDS_WRITE = 4    # `sync`: takes wait for a read-only stick (mounted writable, run again)


def cmd_import(args: argparse.Namespace) -> int:
    """A DAW's stem export becomes a library song (appliance/songs/importer.py)."""
    from ..songs.importer import import_folder
    from ..ui.progress import Overall

    config = config_of(args)
    result = import_folder(Path(args.folder), Path(args.library or config.library), config=config,
                           name=args.name, tempo_map=args.tempo_map and Path(args.tempo_map),
                           bpm=args.bpm, meter=args.meter, replace=args.replace,
                           dry_run=args.dry_run, progress=Overall())
    report(result.problems)
    verb = "would import" if result.dry_run else "imported"
    print(f"{result.song_dir}: {verb} {count(len(result.stems), 'stem')}; tempo: "
          f"{result.tempo_note}")
    for p in result.stems:
        print(f"  {p.entry.name!r} <- {p.source.name} ({p.entry.role.value}, "
              f"{p.info.channels} ch, {p.info.source_rate} Hz)")
    if result.level is not None:
        print(f"  loudness: {result.level.describe()}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from ..songs.sync import sync

    config = config_of(args)
    tty = sys.stderr.isatty()

    def progress(p) -> None:
        if tty:
            sys.stderr.write("\r\033[K" + p.line()[:200] + ("" if p.file else "\n"))

    result = sync(Path(args.path), Path(args.library) if args.library else config.library,
                  config, dry_run=args.dry_run, progress=progress)
    report(result.problems)
    for line in result.said:
        print(line)
    if result.problems.errors:
        return 1
    return SYNC_NEEDS_WRITE if result.export_blocked else 0


def add_commands(sub: argparse._SubParsersAction, with_config: WithConfig) -> None:
    im = with_config(sub.add_parser("import", help="make a library song of a folder of stems "
                                                   "as a DAW exports them"))
    im.add_argument("folder")
    im.add_argument("--library", help="the library (default: the config's)")
    im.add_argument("--name", help="the song's folder name (default: the folder's)")
    tempo = im.add_mutually_exclusive_group()
    tempo.add_argument("--tempo-map", metavar="FILE.mid", help="tempo, meters and markers")
    tempo.add_argument("--bpm", type=positive_float, help="one tempo (quarter notes a minute)")
    im.add_argument("--meter", help="with --bpm or a click track (default 4/4)")
    im.add_argument("--replace", action="store_true",
                    help="start over: do not keep what was edited in the song's song.toml")
    im.add_argument("--dry-run", action="store_true", help="say what would be done, write nothing")
    im.set_defaults(func=cmd_import)

    sy = with_config(sub.add_parser("sync", help="bring a stick's (or folder's) backline/ songs "
                                                 "and setlists into the library"))
    sy.add_argument("path", help="the stick's mount point, or a folder holding backline/")
    sy.add_argument("--library", help="the library to sync into (default: the config's)")
    sy.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    sy.set_defaults(func=cmd_sync)
