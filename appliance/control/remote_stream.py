"""The state stream's fan-out: each subscriber is sent the published `State` when it
changed since the one it was last sent (the clock left out), one encoded line shared by
all of them."""
from __future__ import annotations

import dataclasses
from typing import Callable, Iterable

from ..vocab.state import State
from ..vocab.state_json import state_dict
from .remote_messages import encode


def news(s: State) -> State:
    """What a subscriber is sent again for: the state without the clock, which moves
    every period, playing or not."""
    return dataclasses.replace(s, output_frame=0)


def state_line(s: State) -> bytes:
    return encode({"state": state_dict(s)})


def fan_out(readers: Iterable, s: State, write: Callable[[object, bytes], None]) -> None:
    """`s` to each reader whose `last` state differs, through `write(reader, line)`."""
    changed = news(s)
    line = b""
    for client in readers:
        if client.last != changed:
            client.last = changed
            line = line or state_line(s)
            write(client, line)
