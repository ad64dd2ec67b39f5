"""The display thread's cost: CPU time per drawn frame on an SSD1306 driver (the real
luma driver, its serial interface a no-op), as a share of one core at 10 and 30 fps.
Every frame here changes (the beat moves), the worst case; a steady screen costs
only the snapshot read.

    .venv/bin/python bench/display.py [--frames 500]
"""
from __future__ import annotations

import argparse
import time
import warnings

from luma.oled.device import ssd1306

from appliance.audio.state import PLAYING, State
from appliance.ui.display import Display, PixelScreen


class _Wire:
    def command(self, *cmd): pass
    def data(self, data): pass
    def cleanup(self): pass


def main() -> None:
    warnings.simplefilter("ignore")
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=500)
    n = ap.parse_args().frames
    device = ssd1306(serial_interface=_Wire())
    beat = [0]

    def state() -> State:
        beat[0] += 1
        return State(transport=PLAYING, song="Fly Away", index=2, count=9, section="Chorus",
                     bar=1 + beat[0] // 4, beat=1 + beat[0] % 4, bpm=128.0, meter="4/4",
                     next_song="Encore")
    display = Display(PixelScreen(device), state=state, menu=lambda s: None)
    display.step()
    t0 = time.process_time()
    for _ in range(n):
        display.step()
    per = (time.process_time() - t0) / n
    print(f"display: {per * 1e3:.2f} ms CPU a changed frame; "
          f"{per * 10 * 100:.1f} % of a core at 10 fps, {per * 30 * 100:.1f} % at 30 fps")


if __name__ == "__main__":
    main()
