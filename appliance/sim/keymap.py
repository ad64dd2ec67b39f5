"""Keys as the front panel: each switch, combo and encoder of the layout gets keys that
drive its mock pins, so the sim goes through the same gestures, debounce and panel as
the box. The legend says which key is which control and what it does."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..config.layout import MODES, Controls
from ..vocab.commands import Command
from ..vocab.names import command_name
from .hands import Hands

SWITCH_KEYS = "123456789"
HOLD_KEYS = "!@#$%^&*("                      # shift + the switch's key: down until pressed again
ENCODER_KEYS = ((",", ".", "/", "?"), ("-", "=", "\\", "|"), ("[", "]", "'", '"'))
COMBO_KEYS = "zxcv"
PNG_KEY = "p"
QUIT_KEY = "q"


@dataclass(frozen=True)
class KeyMap:
    actions: dict[str, Callable[[], object]]
    legend: list[str]


def _does(modes: dict[str, dict[str, Command]], turn: dict[str, str] | None = None) -> str:
    parts = []
    for mode in MODES:
        gestures = modes.get(mode, {})
        said = [f"turn {turn[mode]}"] if turn and mode in turn else []
        said += [command_name(cmd) if g == "press" else f"{g} {command_name(cmd)}"
                 for g, cmd in gestures.items()]
        if said:
            parts.append(("" if mode == "perform" else f"in the {mode}: ") + ", ".join(said))
    return "; ".join(parts)


def key_map(controls: Controls, hands: Hands) -> KeyMap:
    actions: dict[str, Callable[[], object]] = {}
    legend: list[str] = []
    for sw, tap, hold in zip(controls.switches, SWITCH_KEYS, HOLD_KEYS):
        actions[tap] = lambda pin=sw.pin: hands.tap(pin)
        actions[hold] = lambda pin=sw.pin: hands.toggle(pin)
        legend.append(f"{tap} {hold}  {sw.name}: {_does(sw.modes)}")
    for combo, key in zip(controls.combos, COMBO_KEYS):
        pins = [sw.pin for sw in controls.switches if sw.name in combo.switches]
        actions[key] = lambda pins=tuple(pins): hands.tap(*pins)
        legend.append(f"{key}    {combo.name}: {command_name(combo.command)}")
    for enc, (left, right, push, hold) in zip(controls.encoders, ENCODER_KEYS):
        actions[left] = lambda e=enc: hands.turn(e.a, e.b, -1)
        actions[right] = lambda e=enc: hands.turn(e.a, e.b, 1)
        keys = f"{left} {right}"
        if enc.button is not None:
            actions[push] = lambda pin=enc.button: hands.tap(pin)
            actions[hold] = lambda pin=enc.button: hands.toggle(pin)
            keys += f" {push} {hold}"
            if enc is controls.encoders[0]:
                actions["\n"] = actions[push]
        legend.append(f"{keys}  {enc.name}: {_does(enc.modes, enc.turn)}")
    legend.append(f"shift+key: held down until pressed again   {PNG_KEY} PNG of the screen   "
                  f"{QUIT_KEY} quit")
    return KeyMap(actions, legend)
