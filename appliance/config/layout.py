"""The front panel as config.toml describes it: footswitches, combos, encoders, LEDs,
the display, and the pins the audio HAT takes.

Everything is checked when the config is read: a pin used twice or taken by the
HAT (naming both), an unknown command or gesture, an unknown display type. Each
problem names the file and field, like every other config error.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..tomlfields import Table, in_range, one_of
from ..vocab import names
from ..vocab.commands import Command
from ..vocab.gestures import DOUBLE, GESTURES, HOLD, PRESS, Timing

MODES = ("perform", "menu")
LED_SHOWS = ("beat", "alert", "record")
DISPLAY_TYPES = ("none", "ssd1306", "sh1106", "hd44780")
I2C_PINS = (2, 3)
SPI_PINS = (8, 9, 10, 11)        # CE0, MISO, MOSI, SCLK of SPI0
GPIO_PINS = range(0, 28)
ENCODER_GESTURES = ("turn", PRESS, HOLD, DOUBLE)     # turn names a target, not a command


@dataclass(frozen=True)
class SwitchSpec:
    name: str
    pin: int
    # mode -> gesture -> command
    modes: dict[str, dict[str, Command]] = field(default_factory=dict)


@dataclass(frozen=True)
class EncoderSpec:
    name: str
    a: int
    b: int
    button: int | None = None
    turn: dict[str, str] = field(default_factory=dict)          # mode -> turn target
    modes: dict[str, dict[str, Command]] = field(default_factory=dict)   # its push button


@dataclass(frozen=True)
class ComboSpec:
    switches: tuple[str, ...]
    command: Command

    @property
    def name(self) -> str:
        return "+".join(self.switches)


@dataclass(frozen=True)
class LedSpec:
    name: str
    pin: int
    shows: str


@dataclass(frozen=True)
class DisplaySpec:
    kind: str = "none"
    bus: str = "i2c"
    address: int = 0x3C
    port: int = 1
    dc: int = 24                 # SPI OLEDs: data/command and reset pins
    reset: int = 25
    fps: float = 10.0
    rotate: int = 0
    cols: int = 20               # character LCDs: 20×4 or 16×2
    rows: int = 4


@dataclass(frozen=True)
class Controls:
    switches: tuple[SwitchSpec, ...] = ()
    combos: tuple[ComboSpec, ...] = ()
    encoders: tuple[EncoderSpec, ...] = ()
    leds: tuple[LedSpec, ...] = ()
    display: DisplaySpec = DisplaySpec()
    timing: Timing = Timing()
    db_per_step: float = 1.0
    hat: str = ""
    hat_pins: tuple[int, ...] = ()


class _Pins:
    """Who uses which pin, to name both sides of a clash."""

    def __init__(self, hat: str, hat_pins: tuple[int, ...]) -> None:
        self.owner = {p: f"the audio HAT ({hat})" if hat else "the audio HAT" for p in hat_pins}

    def claim(self, t: Table, key: str, owner: str) -> int | None:
        pin = t.get(key, int, check=lambda p: None if p in GPIO_PINS
                    else f"must be a GPIO number from 0 to 27, not {p}")
        if pin is None:
            return None
        if pin in self.owner:
            t.error(key, f"GPIO{pin} is already used by {self.owner[pin]}")
            return None
        self.owner[pin] = owner
        return pin


def _commands(mode: Table, allowed: tuple[str, ...]) -> dict[str, Command]:
    """A mode table, gesture -> command name (`turn` is read by the caller)."""
    out: dict[str, Command] = {}
    for gesture in mode.data:
        if gesture == "turn" and "turn" in allowed:
            continue
        text = mode.get(gesture, str)
        if gesture not in allowed:
            mode.error(gesture, f"unknown gesture (gestures: {', '.join(allowed)})")
        elif text is not None:
            try:
                out[gesture] = names.parse_command(text)
            except ValueError as exc:
                mode.error(gesture, str(exc))
    return out


def read_controls(top: Table, outputs: tuple[str, ...]) -> Controls:
    hat = top.table("hat")
    hat_name = hat.get("name", str, "")
    hat_pins = hat.get("pins", list, [])
    if not all(isinstance(p, int) and p in GPIO_PINS for p in hat_pins):
        hat.error("pins", f"must list GPIO numbers from 0 to 27, not {hat_pins}")
        hat_pins = []
    hat.finish()
    pins = _Pins(hat_name, tuple(hat_pins))

    ctl = top.table("controls")
    d = Timing()
    timing = Timing(
        debounce=ctl.get("debounce_ms", int, int(d.debounce * 1000), check=in_range(0, 100)) / 1000,
        hold=ctl.get("hold_ms", int, int(d.hold * 1000), check=in_range(100, 5000)) / 1000,
        double=ctl.get("double_ms", int, int(d.double * 1000), check=in_range(50, 1000)) / 1000,
        combo=ctl.get("combo_ms", int, int(d.combo * 1000), check=in_range(10, 500)) / 1000)
    db_per_step = ctl.get("db_per_step", float, 1.0, check=in_range(0.1, 6))
    ctl.finish()

    display = _display(top.table("display"), pins)
    named: dict[str, str] = {}        # switches and encoders share one namespace (gestures, combos)

    def unique(t: Table, name: str) -> str:
        if name in named:
            t.error("name", f"{name!r} is already the name of {named[name]}")
        named.setdefault(name, t.where)
        return name

    switches = []
    for t in top.tables("switch"):
        name = unique(t, t.get("name", str, f"switch{len(switches) + 1}"))
        pin = pins.claim(t, "pin", f"{t.where}.pin")
        modes = {m: _commands(t.table(m), GESTURES) for m in MODES if t.has(m)}
        t.finish()
        if pin is not None:
            switches.append(SwitchSpec(name, pin, modes))
    encoders = []
    for t in top.tables("encoder"):
        name = unique(t, t.get("name", str, f"encoder{len(encoders) + 1}"))
        a = pins.claim(t, "a", f"{t.where}.a")
        b = pins.claim(t, "b", f"{t.where}.b")
        button = pins.claim(t, "button", f"{t.where}.button") if t.has("button") else None
        turn: dict[str, str] = {}
        modes: dict[str, dict[str, Command]] = {}
        for m in MODES:
            if not t.has(m):
                continue
            mode = t.table(m)
            target = mode.get("turn", str, None)
            if target is not None:
                problem = names.check_turn(target, outputs)
                if problem:
                    mode.error("turn", problem)
                else:
                    turn[m] = target
            modes[m] = _commands(mode, ENCODER_GESTURES)
        t.finish()
        if None not in (a, b):
            encoders.append(EncoderSpec(name, a, b, button, turn, modes))
    known = {s.name for s in switches}
    combos = []
    for t in top.tables("combo"):
        members = t.get("switches", list, [])
        text = t.get("command", str)
        t.finish()
        if text is None:              # already said: the command is missing
            continue
        if len(members) < 2 or not all(isinstance(m, str) for m in members):
            t.error("switches", f"must name two or more switches, not {members}")
            continue
        missing = [m for m in members if m not in known]
        if missing:
            t.error("switches", f"no switch named {missing[0]!r} "
                                f"(switches: {', '.join(sorted(known)) or 'none'})")
            continue
        try:
            combos.append(ComboSpec(tuple(members), names.parse_command(text)))
        except ValueError as exc:
            t.error("command", str(exc))
    leds = []
    for t in top.tables("led"):
        name = t.get("name", str, f"led{len(leds) + 1}")
        pin = pins.claim(t, "pin", f"{t.where}.pin")
        shows = t.get("shows", str, "beat", check=one_of(*LED_SHOWS))
        t.finish()
        if pin is not None:
            leds.append(LedSpec(name, pin, shows))
    return Controls(tuple(switches), tuple(combos), tuple(encoders), tuple(leds), display,
                    timing, db_per_step, hat_name, tuple(hat_pins))


def _display(t: Table, pins: _Pins) -> DisplaySpec:
    d = DisplaySpec()
    kind = t.get("type", str, d.kind, check=one_of(*DISPLAY_TYPES))
    bus = t.get("bus", str, "i2c", check=one_of("i2c", "spi"))
    spec = DisplaySpec(
        kind=kind, bus=bus,
        address=t.get("address", int, 0x27 if kind == "hd44780" else d.address,
                      check=in_range(0x03, 0x77)),
        port=t.get("port", int, d.port, check=in_range(0, 10)),
        dc=t.get("dc", int, d.dc), reset=t.get("reset", int, d.reset),
        fps=t.get("fps", float, d.fps, check=in_range(1, 60)),
        rotate=t.get("rotate", int, d.rotate, check=lambda r: None if r in (0, 1, 2, 3)
                     else f"must be 0, 1, 2 or 3 (quarter turns), not {r}"),
        cols=t.get("cols", int, d.cols, check=one_of(16, 20)),
        rows=t.get("rows", int, d.rows, check=one_of(2, 4)))
    t.finish()
    if kind == "hd44780" and bus != "i2c":
        t.error("bus", f"an hd44780 is driven through its I2C backpack (PCF8574), not {bus}")
    if kind != "none":     # the display's bus pins: a bus is shared with the HAT, not switches
        bus_pins = I2C_PINS if bus == "i2c" else SPI_PINS + (spec.dc, spec.reset)
        for pin in bus_pins:
            pins.owner.setdefault(pin, f"the display ({bus.upper()})")
    return spec
