#!/usr/bin/env python3
"""How long `backline import` takes for a DAW export, as a multiple of real time (resampling
included), and how fast a song's loudness is measured.

    .venv/bin/python bench/import.py [--minutes 5] [--stems 16] [--rate 44100]

`--stems` stereo 24-bit stems of `--minutes` at `--rate`, imported with --bpm into a scratch
library against the bench config (48 kHz, 8 channels): every stem resampled into the cache,
the song checked, its FOH loudness measured. Then `prepare` alone (the stems already in the
cache): the loudness measurement's speed.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CONFIG, make_stems  # noqa: E402

from appliance.config import read_config  # noqa: E402
from appliance.errors import Problems  # noqa: E402
from appliance.songs.importer import import_folder  # noqa: E402
from appliance.songs.loudness import prepare  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--stems", type=int, default=16)
    ap.add_argument("--rate", type=int, default=44100)
    args = ap.parse_args()
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="bl-bench-import-") as tmp:
        tmp = Path(tmp)
        (tmp / "box.toml").write_text(CONFIG + f'\n[library]\ncache = "{tmp / "cache"}"\n')
        config = read_config(tmp / "box.toml", Problems())
        src = tmp / "export"
        make_stems(src, args.stems, seconds, rate=args.rate)
        t0 = time.perf_counter()
        result = import_folder(src, tmp / "lib", config=config, bpm=120)
        took = time.perf_counter() - t0
        print(f"import: {args.stems} stereo stems x {args.minutes:g} min at {args.rate} Hz "
              f"-> 48000 Hz: {took:.1f} s, {took / seconds:.3f} x real time "
              f"({seconds / took:.1f}x faster than real time)")
        t0 = time.perf_counter()
        level = prepare(result.song_dir, config)
        took = time.perf_counter() - t0
        print(f"loudness (prepare, stems cached): {took:.1f} s for {args.minutes:g} min, "
              f"{seconds / took:.1f}x real time; {level.describe()}")


if __name__ == "__main__":
    main()
