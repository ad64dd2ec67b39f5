#!/usr/bin/env python3
"""Peak RSS rendering a long song: 16 stereo 24-bit stems + click to 8 channels.

    .venv/bin/python bench/render_memory.py [--minutes 60]

The 16 stems share one file on disk (16 open handles, 16 read-ahead rings),
so the bench needs 1 GB of scratch for the stem and 4 GB for the render.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CONFIG, make_stems, peak_rss_mb, write_song  # noqa: E402

from appliance.audio.disk.loaded import load  # noqa: E402
from appliance.audio.render import RenderRange, render  # noqa: E402
from appliance.config import load_config  # noqa: E402
from appliance.errors import Problems  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--stems", type=int, default=16)
    args = ap.parse_args()
    work = Path(tempfile.gettempdir()) / f"backline-mem-{int(args.minutes)}"
    song = work / "song"
    files = make_stems(song, args.stems, args.minutes * 60, shared=True)
    write_song(song, files)
    (work / "config.toml").write_text(CONFIG + f'\n[library]\ncache = "{work / "cache"}"\n')
    before = peak_rss_mb()
    t = time.perf_counter()
    loaded = load(song, load_config(work / "config.toml"), Problems(), block=4096)
    out = work / "render.wav"
    frames = render(loaded, out, RenderRange(count_in=False), fmt="24").frames
    loaded.close()
    took = time.perf_counter() - t
    out.unlink()
    print(f"{args.stems} stems x {args.minutes:g} min rendered ({frames} frames) in {took:.1f} s")
    print(f"peak RSS: {peak_rss_mb():.1f} MB (after imports and stem writing: {before:.1f} MB)")


if __name__ == "__main__":
    main()
