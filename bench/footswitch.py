"""Footswitch edge -> command in the engine's queue: how long it takes.

A gpiozero mock pin goes low; the real Button, Gestures and Panel turn it into a
command put on a queue.SimpleQueue like the engine's. Prints p50/p99/max in µs for
a press-only switch (fires on the edge) and for a combo member (held back by the
combo window, so its figure is that window plus the same path).

    .venv/bin/python bench/footswitch.py [--presses 2000]
"""
from __future__ import annotations

import argparse
import queue
import time

import numpy as np
from gpiozero.pins.mock import MockFactory

from appliance.config.layout import ComboSpec, Controls, SwitchSpec
from appliance.control.gpio import Footswitches
from appliance.service.panel import Panel
from appliance.vocab import commands as c
from appliance.vocab.gestures import Timing


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presses", type=int, default=2000)
    args = ap.parse_args()
    controls = Controls(
        switches=(SwitchSpec("play", 17, {"perform": {"press": c.TogglePlay()}}),
                  SwitchSpec("a", 22, {"perform": {"press": c.NextSong()}}),
                  SwitchSpec("b", 23, {"perform": {"press": c.PreviousSong()}})),
        combos=(ComboSpec(("a", "b"), c.Stop()),),
        timing=Timing(debounce=0.0))
    q: queue.SimpleQueue = queue.SimpleQueue()
    factory = MockFactory()
    panel = Panel(controls, send=lambda cmd: q.put((time.perf_counter_ns(), cmd)),
                  box=lambda cmd: None, songs=list, setlists=list, outputs=())
    board = Footswitches(controls, on_gesture=panel.gesture, on_turn=panel.turn,
                         pin_factory=factory)
    for pin, label, n in ((17, "press-only switch", args.presses),
                          (22, "combo member (60 ms window)", 50)):
        lat = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            factory.pin(pin).drive_low()
            t1, _ = q.get(timeout=2)
            lat.append((t1 - t0) / 1000)
            factory.pin(pin).drive_high()
        a = np.array(lat)
        print(f"{label:30s} edge -> engine queue: p50 {np.percentile(a, 50):8.1f} µs  "
              f"p99 {np.percentile(a, 99):8.1f} µs  max {a.max():8.1f} µs  (n={n})")
    board.close()


if __name__ == "__main__":
    main()
