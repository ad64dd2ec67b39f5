#!/usr/bin/env python3
"""Chart parts made sound: what FluidSynth costs to render drums+bass+keys of the demo chart
song, as a fraction of real time, with each SoundFont at three intensities; the most voices
sounding, the mix's peak, a jump's fresh start, the memory of a PartsSynth (the demo and a
200-bar chart), and how long generating a chart's notes at a new tenth of intensity takes.

    .venv/bin/python bench/synth.py [--rate 48000]

Each SoundFont is measured in its own process, so its memory is its own.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from appliance.audio.synth.notes import Notes
from appliance.audio.synth.parts import PartsSynth
from appliance.audio.synth.plan import PartsPlan, Settings
from appliance.audio.synth.soundfont import INSTALLED
from appliance.timeline.chart import parse_chart
from appliance.timeline.parts import generate

from common import peak_rss_mb

DEMO = Path(__file__).resolve().parent.parent / "appliance/demo/songs/demo-chart/chart.txt"
CHUNK = 1 << 14       # what a stream's disk thread reads at a time
BIG = "tempo: 120\nkey: G\nstyle: rock\n[A]\n" + "\n".join(
    ["| Am7 | D7 | Gmaj7 | Cmaj7 | F#m7b5 | B7 | Em | E7 |"] * 25)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def play_through(s: PartsSynth, frames: int, rate: int) -> tuple[float, float, float]:
    """The song read as a stream reads it: (CPU s, wall s, peak of the three parts' sum)."""
    buf = np.zeros((CHUNK, 2), dtype=np.float32)
    mix = np.zeros((CHUNK, 2), dtype=np.float32)
    peak = 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, frames, CHUNK):
        mix.fill(0.0)
        for reader in s.readers:
            reader.read_into(start, buf)
            mix += buf
        peak = max(peak, float(np.abs(mix).max()))
    return time.process_time() - cpu, time.perf_counter() - wall, peak


def one_soundfont(soundfont: Path, rate: int) -> None:
    chart = parse_chart(DEMO.read_text())
    seconds = float(chart.tempo.seconds_at(chart.end_qn)) + 2
    frames = int(seconds * rate)
    before = rss_mb()
    for intensity in (0.3, 0.6, 0.9):
        s = PartsSynth(chart, PartsPlan(Settings(chart.tempo, 0, intensity)), rate,
                       soundfont=soundfont)
        built = rss_mb()
        cpu, wall, peak = play_through(s, frames, rate)
        jump = time.perf_counter()
        for reader in s.readers:                   # a jump: a fresh context, its first chunk
            reader.read_into(frames // 3, np.zeros((CHUNK, 2), dtype=np.float32))
        jump = time.perf_counter() - jump
        print(f"  intensity {intensity}: {cpu / seconds * 100:.2f} % of real time "
              f"(CPU {cpu:.2f} s, wall {wall:.2f} s for {seconds:.0f} s), peak voices "
              f"{s.peak_voices}, mix peak {20 * np.log10(peak):.1f} dBFS, a jump's first "
              f"chunk {jump * 1000:.0f} ms; RSS +{built - before:.0f} MB built, "
              f"+{rss_mb() - before:.0f} MB played")
        for reader in s.readers:
            reader.close()
    big = parse_chart(BIG)
    seconds = float(big.tempo.seconds_at(big.end_qn)) + 2
    s = PartsSynth(big, PartsPlan(Settings(big.tempo, 0, 0.9)), rate, soundfont=soundfont)
    cpu, _, _ = play_through(s, int(seconds * rate), rate)
    print(f"  200 bars ({seconds:.0f} s) at intensity 0.9: {cpu / seconds * 100:.2f} % of real "
          f"time, RSS +{rss_mb() - before:.0f} MB played (memory does not follow the length)")
    print(f"  peak RSS {peak_rss_mb():.0f} MB (Python, numpy, the chart and FluidSynth)")


def generation() -> None:
    for name, text in (("demo (40 bars)", DEMO.read_text()), ("200 bars", BIG)):
        chart = parse_chart(text)
        for level in (0.3, 0.9):
            start = time.perf_counter()
            notes = [Notes.of(p, level) for p in generate(chart, 0, level)]
            took = time.perf_counter() - start
            print(f"  {name}, intensity {level}: {took * 1000:.0f} ms, "
                  f"{sum(len(n.starts) for n in notes)} notes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=48000)
    ap.add_argument("--soundfont", type=Path, help=argparse.SUPPRESS)   # the child's
    args = ap.parse_args()
    if args.soundfont:
        one_soundfont(args.soundfont, args.rate)
        return
    for soundfont in INSTALLED:
        if soundfont.exists():
            print(f"{soundfont.name} ({soundfont.stat().st_size / 1e6:.0f} MB), "
                  f"{args.rate} Hz, chunks of {CHUNK}:", flush=True)
            subprocess.run([sys.executable, __file__, "--soundfont", str(soundfont),
                            "--rate", str(args.rate)], check=True)
    print("generating the notes at a new tenth of intensity (on the synth thread):")
    generation()


if __name__ == "__main__":
    main()
