"""The display thread: reads the state snapshot, draws the screen when what it shows has
changed (at most `fps` times a second), and keeps the LEDs in step with the beat.

The device is any luma device: an SSD1306 or SH1106 OLED on I2C or SPI on the box,
luma's `dummy` in tests and the simulator. A display that does not answer is
reported by `open_display` and left out; the box stays playable without it.
"""
from __future__ import annotations

import threading
from typing import Callable

from luma.core.render import canvas

from ..audio.state import State
from ..control.layout import DisplaySpec
from ..errors import BacklineError, Problem
from .menu import MenuView
from .screens import draw_screen, screen_key

LIGHTS_HZ = 100        # how often the LEDs look at the beat (a 10 ms flash error at most)


def open_display(spec: DisplaySpec, config_path=None):
    """The luma device `spec` names, or BacklineError saying which and why."""
    from luma.oled.device import sh1106, ssd1306
    make = {"ssd1306": ssd1306, "sh1106": sh1106}.get(spec.kind)
    if make is None:
        raise BacklineError(Problem(config_path or "config", "display.type",
                                    f"{spec.kind} displays are not driven yet (ssd1306, sh1106)"))
    where = f"{spec.kind} at I2C address {spec.address:#04x} on bus {spec.port}" \
        if spec.bus == "i2c" else f"{spec.kind} on SPI {spec.port}"
    try:
        if spec.bus == "i2c":
            from luma.core.interface.serial import i2c
            serial = i2c(port=spec.port, address=spec.address)
        else:
            from luma.core.interface.serial import spi
            serial = spi(port=spec.port, device=0, gpio_DC=spec.dc, gpio_RST=spec.reset)
        return make(serial, rotate=spec.rotate)
    except Exception as exc:          # luma raises its own errors, OSError, or ImportError
        raise BacklineError(Problem(config_path or "config", "display",
                                    f"{where} is not answering: {exc}")) from None


class Display(threading.Thread):
    def __init__(self, device, *, state: Callable[[], State],
                 menu: Callable[[State], MenuView | None], fps: float = 10.0,
                 lights=None) -> None:
        super().__init__(name="backline-display", daemon=True)
        self.device = device
        self._state = state
        self._menu = menu
        self._frame_s = 1.0 / fps
        self._lights = lights
        self._halt = threading.Event()
        self._key: tuple | None = None
        self.draws = 0

    def step(self) -> bool:
        """Look once; draw if the picture changed. True when it drew."""
        s = self._state()
        if self._lights is not None:
            self._lights.show(s)
        menu = self._menu(s)
        key = screen_key(s, menu)
        if key == self._key or self.device is None:      # None: LEDs only
            return False
        self._key = key
        with canvas(self.device) as draw:
            draw_screen(draw, self.device.size, s, menu)
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
