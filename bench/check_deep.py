#!/usr/bin/env python3
"""How long `backline check` takes per minute of song, plain and `--deep` (every song mixed
as render would, through the safety limiter, writing nowhere): what decides that a plain
check does not mix.

    .venv/bin/python bench/check_deep.py [--minutes 3] [--stems 16] [--loud]

A library of one song of `--stems` stereo stems (16 files, shared on disk), checked
against the bench config (8 channels); `--loud` turns the stems up so the limiter acts.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CONFIG, make_stems, write_song  # noqa: E402

from appliance.cli import main as backline  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--stems", type=int, default=16)
    ap.add_argument("--loud", action="store_true", help="stems loud enough for the limiter to act")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="backline-check-deep-"))
    song = work / "lib" / "songs" / "long"
    (work / "lib" / "setlists").mkdir(parents=True)
    write_song(song, make_stems(song, args.stems, args.minutes * 60, shared=True))
    if args.loud:
        toml = song / "song.toml"
        toml.write_text(toml.read_text().replace("gain_db = -12", "gain_db = 0"))
    config = work / "config.toml"
    config.write_text(CONFIG.format(cache=work / "cache"))
    for label, extra in (("check", []), ("check --deep", ["--deep"])):
        t0 = time.perf_counter()
        code = backline(["check", str(work / "lib"), "--config", str(config), *extra])
        took = time.perf_counter() - t0
        print(f"{label}: exit {code}, {took:.2f} s for {args.minutes:g} min of "
              f"{args.stems} stereo stems: {took / args.minutes:.2f} s per minute of song")


if __name__ == "__main__":
    main()
