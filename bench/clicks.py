#!/usr/bin/env python3
"""What a song's click costs (issue 14): the loader's CPU and memory to build it (kept and
peak, tracemalloc), and what the audio thread pays a period to render it (wall time per
`read_into`, playing on and after a jump, at places spread through the song), for the
longest song the limits allow (24 h at 999 BPM, sixteenths) and an ordinary one (4 minutes
with tempo changes, a ramp and a meter change, eighths). `bench/engine.py cost` gives the
whole period's side; `bench/positions.py` the beats and bars.

    .venv/bin/python bench/clicks.py [--rate 48000] [--period 128] [--skip-long] [--meter 4/4]
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from appliance.audio.mix.click import ClickTrack, click_sounds  # noqa: E402
from appliance.timeline import grid  # noqa: E402
from positions import LONG, SHORT, _song  # noqa: E402

PLACES = 50            # where in the song the periods are played
PERIODS = 400          # periods played on from each place


def build(song, rate: int, frames: int) -> ClickTrack:
    """The song's click as the loader builds it."""
    return ClickTrack(grid.click_map(song, rate, frames), click_sounds(rate, song.click.level_db))


def measure(label: str, text: str, rate: int, period: int) -> None:
    song = _song(text)
    frames = song.tempo.frame_at(song.end_qn, rate)
    t0 = time.process_time()
    build(song, rate, frames)
    cpu = time.process_time() - t0
    tracemalloc.start()
    track = build(song, rate, frames)
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label}: {frames / rate / 3600:.2f} h, click built in {cpu * 1000:.2f} ms CPU, "
          f"kept {kept / 1e6:.3f} MB (the sounds included), peak {peak / 1e6:.3f} MB")
    out = np.zeros((1, period), np.float32)
    on, jumps, heard = [], [], 0
    for place in range(0, frames - PERIODS * period, max(1, frames // PLACES)):
        t0 = time.perf_counter_ns()
        track.read_into(place + 1, out)          # not where the last block ended: a jump
        jumps.append(time.perf_counter_ns() - t0)
        for start in range(place + 1 + period, place + 1 + PERIODS * period, period):
            t0 = time.perf_counter_ns()
            track.read_into(start, out)
            on.append(time.perf_counter_ns() - t0)
            heard += bool(out.any())
    on_us, jump_us = np.array(on) / 1000, np.array(jumps) / 1000
    print(f"    a {period}-frame period playing on: mean {on_us.mean():.1f} µs, "
          f"p99 {np.percentile(on_us, 99):.1f} µs, max {on_us.max():.1f} µs "
          f"({len(on)} periods, {heard} with a click sounding)")
    print(f"    a period after a jump: mean {jump_us.mean():.1f} µs, max {jump_us.max():.1f} µs")
    tracemalloc.start()
    for start in range(0, 10000 * period, period):         # every memo slot used
        track.read_into(start, out)
    before = tracemalloc.get_traced_memory()[0]
    for start in range(10000 * period, 12000 * period, period):
        track.read_into(start, out)
    after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"    2000 periods more: memory {after - before:+d} B, peak {peak - before} B above")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=48000)
    ap.add_argument("--period", type=int, default=128)
    ap.add_argument("--meter", default="4/4",
                    help="the 24-hour song's meter (4/64: 16x the clicks)")
    ap.add_argument("--skip-long", action="store_true", help="only the 4-minute song")
    args = ap.parse_args()
    measure("4-minute song, eighths", SHORT + "[click]\nsubdivision = 2\n", args.rate, args.period)
    if not args.skip_long:
        num, den = (int(x) for x in args.meter.split("/"))
        bars = 24 * 3600 * 999 * den // (60 * 4 * num)
        measure(f"24 h at 999 BPM in {args.meter}, sixteenths",
                LONG.format(bars=bars, meter=args.meter) + "[click]\nsubdivision = 4\n",
                args.rate, args.period)


if __name__ == "__main__":
    main()
