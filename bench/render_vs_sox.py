#!/usr/bin/env python3
"""Render speed: 16 stereo 24-bit stems + click to 8 channels, against `sox -m`
mixing the same stems in the same run.

    .venv/bin/python bench/render_vs_sox.py [--seconds 60] [--stems 16] [--runs 3]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CONFIG, make_stems, write_song  # noqa: E402

from appliance.audio.disk.loaded import load  # noqa: E402
from appliance.audio.render import RenderRange, render  # noqa: E402
from appliance.config import load_config  # noqa: E402
from appliance.errors import Problems  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--stems", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--block", type=int, default=4096)
    args = ap.parse_args()
    if not shutil.which("sox"):
        sys.exit("sox is not installed (apt install sox)")
    work = Path(tempfile.gettempdir()) / f"backline-bench-{args.stems}x{int(args.seconds)}"
    song = work / "song"
    files = make_stems(song, args.stems, args.seconds)
    write_song(song, files)
    (work / "config.toml").write_text(CONFIG + f'\n[library]\ncache = "{work / "cache"}"\n')
    config = load_config(work / "config.toml")

    ours, theirs = [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        loaded = load(song, config, Problems(), block=args.block)
        render(loaded, work / "ours.wav", RenderRange(count_in=False))
        loaded.close()
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(["sox", "-m", *[str(song / f) for f in files], str(work / "sox.wav")],
                       check=True)
        theirs.append(time.perf_counter() - t)
    o, s = min(ours), min(theirs)
    print(f"{args.stems} stereo 24-bit stems x {args.seconds:g} s + click -> 8 ch, "
          f"block {args.block}, best of {args.runs}")
    print(f"backline render: {o:.3f} s = {args.seconds / o:.1f}x real time")
    print(f"sox -m:          {s:.3f} s = {args.seconds / s:.1f}x real time")
    print(f"ratio (sox time / backline time): {s / o:.2f}")


if __name__ == "__main__":
    main()
