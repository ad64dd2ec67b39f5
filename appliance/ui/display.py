"""The display thread: reads the state snapshot, draws the screen when what it shows has
changed (at most `fps` times a second), and keeps the LEDs in step with the beat.

A screen is a `PixelScreen` (any luma device: an SSD1306 or SH1106 OLED on I2C or SPI,
luma's `dummy` in tests, the simulator's terminal) or a `TextScreen` (an HD44780
character LCD through RPLCD, sent only the characters that changed). A display that
does not answer is reported by `open_display` and left out; the box plays on without it.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Callable

from luma.core.render import canvas

from ..config.layout import DisplaySpec
from ..errors import BacklineError, Problem
from ..vocab.state import State
from .menu import MenuView
from .screens import draw_screen, screen_key
from .text import text_screen
from .trouble import FaultBanner, RefusalNote

LIGHTS_HZ = 100        # how often the LEDs look at the beat (a 10 ms flash error at most)


class PixelScreen:
    """A luma device, drawn whole (luma sends the frame; the OLEDs have no partial update)."""

    def __init__(self, device) -> None:
        self.device = device

    def show(self, s: State, menu: MenuView | None, banner: str) -> None:
        with canvas(self.device) as draw:
            draw_screen(draw, self.device.size, s, menu, banner)

    def brightness(self, percent: int) -> None:
        self.device.contrast(round(percent * 255 / 100))


class TextScreen:
    """An RPLCD character LCD: only the lines that changed are written, and RPLCD sends
    only the characters of those that differ (an HD44780 on I2C takes ~0.5 ms a byte)."""

    def __init__(self, lcd) -> None:
        self.lcd = lcd
        self._lines: list[str] = []

    def show(self, s: State, menu: MenuView | None, banner: str) -> None:
        lines = text_screen(s, menu, banner, self.lcd.lcd.cols, self.lcd.lcd.rows)
        for row, line in enumerate(lines):
            if row >= len(self._lines) or self._lines[row] != line:
                self.lcd.cursor_pos = (row, 0)
                self.lcd.write_string(line)
        self._lines = lines

    def brightness(self, percent: int) -> None:
        self.lcd.backlight_enabled = percent > 0


def open_display(spec: DisplaySpec, config_path=None) -> PixelScreen | TextScreen:
    """The screen `spec` names, or BacklineError saying which and why."""
    where = f"{spec.kind} at I2C address {spec.address:#04x} on bus {spec.port}" \
        if spec.bus == "i2c" else f"{spec.kind} on SPI {spec.port}"
    try:
        if spec.kind == "hd44780":
            from RPLCD.i2c import CharLCD
            return TextScreen(CharLCD("PCF8574", spec.address, port=spec.port, cols=spec.cols,
                                      rows=spec.rows, auto_linebreaks=False))
        from luma.oled.device import sh1106, ssd1306
        make = {"ssd1306": ssd1306, "sh1106": sh1106}[spec.kind]
        if spec.bus == "i2c":
            from luma.core.interface.serial import i2c
            serial = i2c(port=spec.port, address=spec.address)
        else:
            from luma.core.interface.serial import spi
            serial = spi(port=spec.port, device=0, gpio_DC=spec.dc, gpio_RST=spec.reset)
        return PixelScreen(make(serial, rotate=spec.rotate))
    except Exception as exc:          # luma and RPLCD raise their own errors, OSError, ImportError
        raise BacklineError(Problem(config_path or "config", "display",
                                    f"{where} is not answering: {exc}")) from None


class Display(threading.Thread):
    def __init__(self, screen: PixelScreen | TextScreen | None, *, state: Callable[[], State],
                 menu: Callable[[State], MenuView | None], rate: int, fps: float = 10.0,
                 lights=None) -> None:
        """`rate`: the output's, to hold a fault banner a few seconds of its frames."""
        super().__init__(name="backline-display", daemon=True)
        self.screen = screen
        self._state = state
        self._menu = menu
        self._frame_s = 1.0 / fps
        self._lights = lights
        self._banner = FaultBanner(rate)
        self._refusal = RefusalNote(rate)
        self._halt = threading.Event()
        self._key: tuple | None = None
        self.draws = 0
        self.failed = False
        self.wanted_brightness: int | None = None     # set by any thread, applied here
        self.sync = ""     # a sync's progress line (service/sync_status.py), set by any thread

    def step(self) -> bool:
        """Look once; draw if the picture changed. True when it drew."""
        s = self._state()
        refusal = self._refusal.see(s)
        if refusal != s.rejected:                        # an old refusal: its line is free
            s = dataclasses.replace(s, rejected=refusal)
        sync = self.sync
        if sync:                                         # not the engine's: the service's
            s = dataclasses.replace(s, sync=sync)
        if self._lights is not None:
            self._lights.show(s)
        menu = self._menu(s)
        banner = self._banner.see(s)
        key = screen_key(s, menu, banner)
        if self.screen is None:                          # LEDs only
            return False
        wanted, self.wanted_brightness = self.wanted_brightness, None
        if wanted is not None:       # on this thread: one writer on the display's bus
            self.screen.brightness(wanted)
        if key == self._key:
            return False
        self._key = key
        try:
            self.screen.show(s, menu, banner)
        except Exception as exc:      # a loose cable on stage: say so once, keep trying
            self._key = None
            if not self.failed:
                logging.getLogger("backline").error("the display stopped answering: %s", exc)
            self.failed = True
            return False
        self.failed = False
        self.draws += 1
        return True

    def run(self) -> None:
        ticks = max(1, round(self._frame_s * LIGHTS_HZ))
        n = 0
        while not self._halt.wait(1.0 / LIGHTS_HZ):
            n += 1
            if n % ticks == 0:
                self.step()
            elif self._lights is not None:
                self._lights.show(self._state())

    def close(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(2)
