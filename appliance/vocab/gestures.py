"""Footswitch gesture names and their timing: what the controls config names
(`config.layout`) and what the gesture logic (`control.gestures`) fires, kept here so
neither has to import the other."""
from __future__ import annotations

from dataclasses import dataclass

PRESS, DOUBLE, HOLD, RELEASE = "press", "double", "hold", "release"
GESTURES = (PRESS, DOUBLE, HOLD, RELEASE)


@dataclass(frozen=True)
class Timing:
    debounce: float = 0.015     # edges this soon after an accepted one are bounce
    hold: float = 0.6           # down this long: a hold
    double: float = 0.3         # a second press this soon after a release: a double
    combo: float = 0.06         # the partner switch down this soon: a combo
