"""`backline check`: every song and setlist of a library validated, as the box would load them."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..config import Config
from ..errors import Problems, not_a_file
from ..timeline.library import Library
from ..timeline.song import SONG_FILE
from .common import RENDER_BLOCK, WithConfig, caught, config_of, count, report




def _check_mix(folder: Path, config: Config, problems: Problems) -> None:
    """`check --deep`: the song mixed as `render` would, every stem decoded in full, through
    the safety limiter writing nowhere; a warning per output it would turn down."""
    from ..audio.disk.loaded import load
    from ..audio.mix.limiter import for_config
    from ..audio.render import analyse

    limiter = for_config(config, RENDER_BLOCK)
    loaded = load(folder, config, Problems(), block=RENDER_BLOCK)   # its problems: said above
    if loaded is None or limiter is None:
        return
    try:
        analyse(loaded, limiter)
    finally:
        loaded.close()
    for line in caught(limiter):
        problems.warn(folder / SONG_FILE, "", f"mixed as render would: {line}")


def cmd_check(args: argparse.Namespace) -> int:
    from ..audio.disk.loaded import validate_song
    from ..config import check_layout

    config = config_of(args)
    path = Path(args.library)
    problems = Problems(config.warnings)        # what the config leaves out, first
    check_layout(config, problems)
    _say_parts_sound(config)
    if os.path.lexists(path / SONG_FILE):      # a song folder, even if song.toml is a FIFO
        song_dirs = [path]
        setlists: list[Path] = []
        library = None
    elif path.is_dir():
        library = Library(path)
        songs_dir = library.songs_dir
        song_dirs = sorted(p for p in songs_dir.iterdir() if p.is_dir()) if songs_dir.is_dir() else []
        setlists = library.setlist_paths()
        if not song_dirs and not setlists:
            problems.error(path, "", "no songs/ or setlists/ here: not a Backline library")
    else:
        problems.error(path, "", not_a_file(path, "no such folder")
                       or "is a file, not a library or a song folder")
        song_dirs, setlists, library = [], [], None
    for folder in song_dirs:       # against the configured box, as render and play do
        playable = validate_song(folder, config, problems)
        if playable is not None and playable.level is not None:
            print(f"{folder.name}: loudness: {playable.level.describe()}")
        if playable is not None and args.deep:
            _decode_all(playable.song, playable.stems, problems)
            _check_mix(folder, config, problems)
    for setlist in setlists:
        library.setlist(setlist, problems)
    report(problems)
    errors = len(problems.errors)
    print(f"checked {count(len(song_dirs), 'song')} and {count(len(setlists), 'setlist')}: "
          f"{errors} errors, {len(problems) - errors} warnings", file=sys.stderr)
    return 1 if errors else 0


def _say_parts_sound(config: Config) -> None:
    """Which SoundFont a chart song's parts play with, and whether FluidSynth is there."""
    from ..audio.disk.parts import sound
    from ..audio.synth.errors import SynthError

    try:
        print(f"parts: FluidSynth, SoundFont {sound(config)}")
    except SynthError as exc:
        print(f"parts: cannot sound: {exc.problem}")


def _decode_all(song, stems, problems: Problems) -> None:
    """`check --deep`: every stem decoded to its end, so damage mid-file is found now."""
    from ..audio.disk.stems import decode_errors

    for info in stems:
        decode_errors(info, song.folder / SONG_FILE, problems)


def add_commands(sub: argparse._SubParsersAction, with_config: WithConfig) -> None:
    c = with_config(sub.add_parser("check", help="validate every song and setlist of a library"))
    c.add_argument("library")
    c.add_argument("--deep", action="store_true",
                   help="also decode every stem to its end, and mix every song as render "
                        "would to say which outputs the safety limiter would turn down (slow)")
    c.set_defaults(func=cmd_check)
