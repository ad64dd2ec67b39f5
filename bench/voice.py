#!/usr/bin/env python3
"""What the voice costs: the loader's time to read and shape the built-in words at the box
rate (first load, then from memory), and what the audio thread pays a period for the cue
track (`read_into`: silent, one word sounding, four at once, and after a jump).

    .venv/bin/python bench/voice.py [--rate 48000] [--period 256]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from appliance.audio.disk.voice import load_words  # noqa: E402
from appliance.audio.mix.cue_track import CueTrack  # noqa: E402
from appliance.errors import Problems  # noqa: E402
from appliance.timeline.cues import BUILT_IN, Cue  # noqa: E402

PERIODS = 2000


def per_period(track: CueTrack, starts, period: int) -> float:
    out = np.zeros((1, period), np.float32)
    t = time.perf_counter()
    for s in starts:
        track.read_into(s, out)
    return (time.perf_counter() - t) / len(starts) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=48000)
    ap.add_argument("--period", type=int, default=256)
    a = ap.parse_args()
    for label in ("first load", "again (kept)"):
        t = time.perf_counter()
        words = load_words(set(BUILT_IN), Path("/nonexistent"), a.rate, Path("song.toml"), Problems())
        print(f"load {len(words)} built-in words at {a.rate} Hz, {label}: "
              f"{(time.perf_counter() - t) * 1e3:.1f} ms")
    p = a.period
    cues = [Cue(f, "chorus", f + a.rate) for f in range(a.rate, PERIODS * p, a.rate)]
    track = CueTrack(words, cues, count_in=False)
    print(f"read_into, a cue a second (mostly silent): {per_period(track, range(0, PERIODS * p, p), p):.1f} µs/period")
    dense = [Cue(f, k, f + 10 ** 9) for f, k in zip(range(0, PERIODS * p, p * 2), BUILT_IN * 999)]
    track = CueTrack(words, dense, count_in=False)
    print(f"read_into, a word every 2 periods (4 voices busy): {per_period(track, range(0, PERIODS * p, p), p):.1f} µs/period")
    track.reset()
    print(f"read_into, a jump every period: {per_period(track, range(0, PERIODS * p * 3, p * 3), p):.1f} µs/period")


if __name__ == "__main__":
    main()
