#!/usr/bin/env python3
"""Chart parts: how long reading a chart, generating drums+bass+keys and building the MIDI
file take, per minute of song (the live step will regenerate parts when the tempo, key or
intensity changes, so this is its budget's first figure).

    .venv/bin/python bench/chart.py [--repeat 9]

The demo chart song (40 bars), and its verse and chorus 40 times more (520 bars, 20 min).
"""
from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path

from appliance.errors import Problems
from appliance.timeline.chart import parse_chart
from appliance.timeline.parts import generate
from appliance.timeline.parts.export import midi_file
from appliance.timeline.song import load_song

DEMO = Path(__file__).resolve().parent.parent / "appliance" / "demo" / "songs" / "demo-chart"


def best_of(repeat: int, job) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    song = load_song(DEMO, Problems())
    text = (DEMO / "chart.txt").read_text()
    long_text = text.replace("[Chorus] x2", "[Chorus] x2\n" + "[Verse]\n[Chorus]\n" * 40)
    for name, chart_text in (("demo (40 bars)", text), ("long", long_text)):
        chart = parse_chart(chart_text)
        minutes = float(chart.tempo.seconds_at(chart.end_qn)) / 60
        parse = best_of(args.repeat, lambda: parse_chart(chart_text))
        parts = best_of(args.repeat, lambda: generate(chart, 1))
        notes = sum(len(p.events) for p in generate(chart, 1)) // 2
        export = best_of(args.repeat, lambda: midi_file(song, generate(song.chart, 1)).save(
            file=io.BytesIO())) if chart_text is text else float("nan")
        print(f"{name}: {len(chart.bars)} bars, {minutes:.1f} min, {notes} notes: parse "
              f"{parse * 1000:.1f} ms, parts {parts * 1000:.1f} ms "
              f"({parts / minutes * 1000:.1f} ms per minute of song)"
              + (f", parts + MIDI file {export * 1000:.1f} ms" if export == export else ""))


if __name__ == "__main__":
    main()
