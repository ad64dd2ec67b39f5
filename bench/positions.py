#!/usr/bin/env python3
"""What a song's beat positions cost the loader (issue 14): CPU time to build them, and
the memory they keep and peak at while built (tracemalloc), and what one lookup the
audio thread makes costs (wall time, over frames spread through the song), for the longest song the
limits allow (24 h at 999 BPM) and for an ordinary one (4 minutes with tempo changes,
a ramp and a meter change). `bench/engine.py cost` gives the audio thread's side.

    .venv/bin/python bench/positions.py [--rate 48000] [--skip-long] [--meter 4/4]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from appliance.audio.disk.loaded import Positions  # noqa: E402
from appliance.errors import Problems  # noqa: E402
from appliance.timeline.song import load_song  # noqa: E402

LONG = """title = "24 hours"
length_bars = {bars}
[[tempo]]
bar = 1
bpm = 999
meter = "{meter}"
"""

SHORT = """title = "4 minutes"
length_bars = 120
[[tempo]]
bar = 1
bpm = 120
[[tempo]]
bar = 33
meter = "7/8"
[[tempo]]
bar = 49
beat = 3
bpm = 96
[[tempo]]
bar = 65
bpm = 132
ramp = true
[[tempo]]
bar = 81
meter = "4/4"
[[section]]
name = "Verse"
bar = 5
[[section]]
name = "Outro"
bar = 97
"""


LOOKUPS = 20000


def _song(text: str):
    folder = Path(tempfile.mkdtemp(prefix="bench-positions-"))
    (folder / "song.toml").write_text(text)
    problems = Problems()
    song = load_song(folder, problems)
    if song is None:
        sys.exit(f"bench song refused: {problems}")
    return song


def measure(label: str, text: str, rate: int) -> None:
    song = _song(text)
    frames = song.tempo.frame_at(song.end_qn, rate)
    t0 = time.process_time()
    Positions.of(song, rate, frames)
    cpu = time.process_time() - t0
    tracemalloc.start()
    kept_obj = Positions.of(song, rate, frames)
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label}: {frames / rate / 3600:.2f} h, build {cpu * 1000:.2f} ms CPU, "
          f"kept {kept / 1e6:.3f} MB, peak {peak / 1e6:.3f} MB")
    beats = getattr(kept_obj, "beats", None)
    if beats is not None:            # what the audio thread asks, per call
        for name, ask in (("beat at frame", beats.index_at), ("next bar", beats.next_bar),
                          ("bar at frame", beats.bar_at)):
            at = range(0, frames, max(1, frames // LOOKUPS))
            t0 = time.perf_counter()
            for f in at:
                ask(f)
            print(f"    {name}: {(time.perf_counter() - t0) / len(at) * 1e6:.1f} µs")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=48000)
    ap.add_argument("--meter", default="4/4", help="the 24-hour song's meter (4/64: 16x the beats)")
    ap.add_argument("--skip-long", action="store_true", help="only the 4-minute song")
    args = ap.parse_args()
    measure("4-minute song", SHORT, args.rate)
    if not args.skip_long:
        num, den = (int(x) for x in args.meter.split("/"))
        bars = 24 * 3600 * 999 * den // (60 * 4 * num)
        measure(f"24 h at 999 BPM in {args.meter}", LONG.format(bars=bars, meter=args.meter),
                args.rate)


if __name__ == "__main__":
    main()
