"""The display thread's cost: CPU time per drawn frame on an SSD1306 driver (the real
luma driver, its serial interface a no-op), or with `--lcd` on a 20×4 HD44780 (RPLCD's
own protocol into the simulator's controller model), as a share of one core at 10 and
30 fps. Every frame here changes (the beat moves), the worst case; a steady screen costs
only the snapshot read. Bytes a frame: what the bus carries (an I2C backpack sends each
LCD byte as 4 transfers, ~0.5 ms at 100 kHz).

    .venv/bin/python bench/display.py [--frames 500] [--lcd]
"""
from __future__ import annotations

import argparse
import time
import warnings

from luma.oled.device import ssd1306

from appliance.sim.lcd import TerminalLcd
from appliance.ui.display import Display, PixelScreen, TextScreen
from appliance.vocab.state import State, TransportState


class _Wire:
    def command(self, *cmd): pass
    def data(self, data): pass
    def cleanup(self): pass


def main() -> None:
    warnings.simplefilter("ignore")
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--lcd", action="store_true", help="a 20x4 character LCD, not the OLED")
    args = ap.parse_args()
    n = args.frames
    lcd = TerminalLcd() if args.lcd else None
    screen = TextScreen(lcd) if lcd else PixelScreen(ssd1306(serial_interface=_Wire()))
    beat = [0]

    def state() -> State:
        beat[0] += 1
        return State(transport=TransportState.PLAYING, song="Fly Away", index=2, count=9, section="Chorus",
                     bar=1 + beat[0] // 4, beat=1 + beat[0] % 4, bpm=128.0, meter="4/4",
                     next_song="Encore")
    display = Display(screen, state=state, menu=lambda s: None, rate=48000)
    display.step()
    sent = lcd.sent if lcd else 0
    t0 = time.process_time()
    for _ in range(n):
        display.step()
    per = (time.process_time() - t0) / n
    what = "20x4 HD44780" if lcd else "SSD1306"
    print(f"{what}: {per * 1e3:.3f} ms CPU a changed frame; "
          f"{per * 10 * 100:.2f} % of a core at 10 fps, {per * 30 * 100:.2f} % at 30 fps")
    if lcd:
        print(f"characters sent a frame: {(lcd.sent - sent) / n:.1f} (of 80 on the glass)")


if __name__ == "__main__":
    main()
