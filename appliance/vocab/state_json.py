"""The `State` snapshot as JSON, for any reader outside the process (the control socket,
and through it the web remote): the enums as their text, (name, value) pairs as objects,
a number JSON cannot hold (NaN, inf) as null, so every reader can parse every line."""
from __future__ import annotations

import dataclasses
import json
import math

from .state import State

# fields that hold (name, value) pairs: an object reads better than a list of pairs
_PAIRS = ("output_gain_db", "limited", "sends")


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value):
        return {f.name: (dict((k, _plain(v)) for k, v in getattr(value, f.name))
                         if f.name in _PAIRS else _plain(getattr(value, f.name)))
                for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)                 # a StrEnum member: its text
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def state_dict(state: State) -> dict:
    """The snapshot as plain JSON values (what `state_json` writes)."""
    return _plain(state)


def state_json(state: State) -> str:
    """One line of JSON (no newline in it): the snapshot."""
    return json.dumps(state_dict(state), separators=(",", ":"), allow_nan=False)
