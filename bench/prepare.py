#!/usr/bin/env python3
"""Preparing a song's variants (its stems at another key and tempo) and what it costs the
engine, on JACK's dummy backend (real-time pacing, no sound card).

    .venv/bin/python bench/prepare.py time [--stems 16] [--minutes 5]
    .venv/bin/python bench/prepare.py work [--stems 16] [--minutes 5] [--seconds 60]
                                           [--period 128]

time: wall time to prepare a song of `stems` stereo 48 kHz stems, `minutes` long, at
      transpose -2 and tempo 0.9 (`prepare_song`, one stem after another), and the speed
      as a multiple of real time per stereo stem.
work: per-period engine work (bench/engine.py's player, song and figures) while nothing
      else runs, then while a Preparer makes that song's variants at its lowest priority
      (SCHED_IDLE; Rubber Band's process inherits it).
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from engine import percentiles, setup  # noqa: E402
from common import make_stems, write_song  # noqa: E402

from appliance.audio.disk.preparer import Preparer  # noqa: E402
from appliance.audio.disk.variants import prepare_song  # noqa: E402
from appliance.config import Config  # noqa: E402
from appliance.errors import Problems  # noqa: E402
from appliance.timeline.song import load_song  # noqa: E402
from appliance.vocab import commands as c  # noqa: E402

TRANSPOSE, TEMPO = Fraction(-2), Fraction(9, 10)


def prep_song(work: Path, stems: int, minutes: float) -> Path:
    """The song to prepare: `stems` stereo 24-bit stems at 48 kHz, `minutes` long."""
    folder = work / "prep"
    write_song(folder, make_stems(folder, stems, minutes * 60))
    return folder


def cmd_time(args, work: Path) -> None:
    folder = prep_song(work, args.stems, args.minutes)
    config = Config(rate=48000, cache=work / "cache")
    shutil.rmtree(config.cache, ignore_errors=True)
    song = load_song(folder, Problems()).at(TEMPO, TRANSPOSE)
    t0, cpu0 = time.perf_counter(), _cpu()
    failed = prepare_song(song, config)
    took, cpu = time.perf_counter() - t0, _cpu() - cpu0
    for p in failed:
        print(p)
    seconds = args.minutes * 60
    print(f"{args.stems} stereo stems x {args.minutes:g} min at transpose {TRANSPOSE} and tempo "
          f"{float(TEMPO):g}: {took:.1f} s wall ({seconds / took:.2f}x the song's real time; "
          f"{seconds * args.stems / took:.1f}x real time per stereo stem); CPU "
          f"{cpu:.1f} s ({seconds * args.stems / cpu:.1f}x real time per stereo stem per core)")


def _cpu() -> float:
    """CPU seconds of this process and its finished children (Rubber Band's)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), \
        resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(args, work: Path, folder: Path | None) -> None:
    """The engine's per-period work for `args.seconds`; with a Preparer making `folder`'s
    variants meanwhile when given."""
    jack, player = setup(work / "engine", period=args.period, stems=args.stems,
                         seconds=args.seconds + 10)
    preparer = None
    try:
        player.start()
        time.sleep(1)                               # the song's first second read ahead
        player.send(c.Play())
        if folder is not None:
            config = Config(rate=48000, cache=work / "cache")
            shutil.rmtree(config.cache, ignore_errors=True)
            preparer = Preparer(config)
            preparer.request(folder, TRANSPOSE, TEMPO)
        time.sleep(args.seconds)
        s = player.state
        n = min(player.engine.periods, len(player.engine.work_ns))
        what = f"while preparing ({preparer.priority}, " \
               f"{preparer.progress.fraction:.0%} done)" if preparer else "nothing else"
        print(f"{args.stems} stems playing, {args.period}-frame periods, {args.seconds:g} s, "
              f"{what}:")
        print("  per-period engine work:", percentiles(player.engine.work_ns[:n][5:],
                                                       args.period))
        print("  cpu:", percentiles(player.engine.cpu_ns[:n][5:], args.period))
        print(f"  xruns {s.xruns}, disk underruns {s.disk_underruns}")
    finally:
        if preparer is not None:
            preparer.stop()
        player.stop()
        jack.stop()


def cmd_work(args, work: Path) -> None:
    folder = prep_song(work, args.stems, args.minutes)
    measure(args, work, None)
    measure(args, work, folder)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("time", "work"))
    ap.add_argument("--stems", type=int, default=16)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--period", type=int, default=128)
    args = ap.parse_args()
    work = Path(tempfile.gettempdir()) / "backline-prepare"
    work.mkdir(exist_ok=True)
    {"time": cmd_time, "work": cmd_work}[args.what](args, work)


if __name__ == "__main__":
    main()
