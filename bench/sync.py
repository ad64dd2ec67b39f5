#!/usr/bin/env python3
"""Sync throughput (MB/s): `backline sync` against `cp -r` and `rsync -a` on the same files,
each into an empty library, and a second `backline sync` with nothing changed (size and
mtime only: no stem read).

    .venv/bin/python bench/sync.py [--songs 4] [--stems 8] [--minutes 1] [--dir DIR]

`backline sync` reads each file once while copying, then reads the copy back to verify its
checksum, and validates every song first (headers and last frames of each stem); cp and
rsync (without -c) do neither. On one disk, the page cache serves most reads: the figures
say what the verification and validation cost in CPU, not what a USB stick's reads cost.
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
from common import make_stems, write_song  # noqa: E402

from appliance.config import Config  # noqa: E402
from appliance.songs.sync import sync  # noqa: E402


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _timed(what: str, run, mbytes: float | None) -> None:
    t = time.perf_counter()
    run()
    s = time.perf_counter() - t
    print(f"{what:28s} {s:7.2f} s" + (f"  {mbytes / s:8.1f} MB/s" if mbytes else ""))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--songs", type=int, default=4)
    ap.add_argument("--stems", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--dir", help="scratch folder (default: a temporary one)")
    args = ap.parse_args()
    base = Path(args.dir or tempfile.mkdtemp(prefix="bench-sync-"))
    stick = base / "stick" / "backline" / "songs"
    for i in range(args.songs):
        song = stick / f"song{i}"
        write_song(song, make_stems(song, args.stems, args.minutes * 60))
    mbytes = _size(stick) / 1e6
    print(f"{args.songs} songs of {args.stems} stereo 24-bit stems, {args.minutes:g} min: "
          f"{mbytes:.0f} MB")
    lib = base / "lib"

    def fresh() -> None:
        shutil.rmtree(lib, ignore_errors=True)
        lib.mkdir()
        subprocess.run(["sync"], check=True)
    fresh()
    _timed("cp -r", lambda: subprocess.run(["cp", "-r", str(stick), str(lib / "songs")],
                                           check=True), mbytes)
    if shutil.which("rsync"):
        fresh()
        _timed("rsync -a", lambda: subprocess.run(["rsync", "-a", f"{stick}/", str(lib / "songs")],
                                                  check=True), mbytes)
    else:
        print("rsync -a                     (not installed)")
    fresh()
    result = None

    def ours() -> None:
        nonlocal result
        result = sync(base / "stick", lib, Config(), margin=0)
    _timed("backline sync", ours, mbytes)
    assert not result.problems.errors, result.problems
    _timed("backline sync, unchanged", ours, None)
    assert result.copied == 0
    if not args.dir:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
