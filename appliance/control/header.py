"""The Raspberry Pi's 40-pin header: which physical pin each GPIO is on, and the wiring
of a front panel as a table a builder can solder from (`backline wiring`)."""
from __future__ import annotations

from ..config.layout import I2C_PINS, SPI_PINS, Controls

# BCM GPIO number -> physical pin on the 40-pin header (Pi 2 and later, all models since)
HEADER_PIN = {2: 3, 3: 5, 4: 7, 17: 11, 27: 13, 22: 15, 10: 19, 9: 21, 11: 23, 0: 27,
              5: 29, 6: 31, 13: 33, 19: 35, 26: 37, 14: 8, 15: 10, 18: 12, 23: 16, 24: 18,
              25: 22, 8: 24, 7: 26, 1: 28, 12: 32, 16: 36, 20: 38, 21: 40}
GROUND_PINS = (6, 9, 14, 20, 25, 30, 34, 39)
POWER_3V3_PINS = (1, 17)
POWER_5V_PINS = (2, 4)


RESERVED = {0: "the HAT's ID EEPROM", 1: "the HAT's ID EEPROM", 14: "the UART (DIN MIDI)",
            15: "the UART (DIN MIDI)"}


def free_pins(hat_pins: tuple[int, ...]) -> list[int]:
    """GPIOs a control may use beside this HAT (I2C counts as taken: it is the display's)."""
    return [p for p in sorted(HEADER_PIN)
            if p not in hat_pins and p not in RESERVED and p not in I2C_PINS]


def gpio(pin: int) -> str:
    return f"GPIO{pin} (pin {HEADER_PIN[pin]})"


def wiring(controls: Controls) -> list[tuple[str, str, str]]:
    """(GPIO and header pin, part, how to wire it), in header order."""
    rows: list[tuple[int, str, str]] = []
    for sw in controls.switches:
        rows.append((sw.pin, f"switch {sw.name}", "to ground through the switch"))
    for enc in controls.encoders:
        rows.append((enc.a, f"encoder {enc.name} A", "encoder A; its C (common) to ground"))
        rows.append((enc.b, f"encoder {enc.name} B", "encoder B"))
        if enc.button is not None:
            rows.append((enc.button, f"encoder {enc.name} push",
                         "to ground through the push switch"))
    for led in controls.leds:
        shows = "" if led.name == led.shows else f" ({led.shows})"
        rows.append((led.pin, f"LED {led.name}{shows}",
                     "LED anode through 330 Ω; cathode to ground"))
    display = controls.display
    if display.kind != "none":
        if display.bus == "i2c":
            sda, scl = I2C_PINS
            rows += [(sda, f"display {display.kind} SDA", f"I2C address {display.address:#04x}"),
                     (scl, f"display {display.kind} SCL", "shared with the HAT's I2C")]
        else:
            ce0, miso, mosi, sclk = SPI_PINS
            rows += [(ce0, f"display {display.kind} CS", "SPI0 CE0"),
                     (mosi, f"display {display.kind} DIN", "SPI0 MOSI"),
                     (sclk, f"display {display.kind} CLK", "SPI0 SCLK"),
                     (display.dc, f"display {display.kind} DC", "data/command"),
                     (display.reset, f"display {display.kind} RST", "reset")]
    rows.sort(key=lambda r: HEADER_PIN[r[0]])
    return [(gpio(pin), part, how) for pin, part, how in rows]


def wiring_text(controls: Controls) -> str:
    rows = [("GPIO (header pin)", "part", "wire")] + wiring(controls)
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    grounds = ", ".join(str(p) for p in GROUND_PINS)
    power = " or ".join(str(p) for p in POWER_3V3_PINS)
    lines.append(f"ground: any of pins {grounds}; the display's VCC: 3.3 V, pin {power}.")
    if controls.hat_pins:
        taken = ", ".join(str(p) for p in sorted(controls.hat_pins))
        lines.append(f"{controls.hat or 'the audio HAT'} takes GPIO {taken}.")
    free = ", ".join(str(p) for p in free_pins(controls.hat_pins))
    lines.append(f"left for controls beside the HAT: GPIO {free}.")
    return "\n".join(lines) + "\n"
