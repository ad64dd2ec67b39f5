"""The terminal as a footswitch board: single keys become commands.

Used by `backline play` (and by the simulator later). A key is looked up in
KEYS; some keys depend on the state (space plays or stops).
"""
from __future__ import annotations

from typing import Callable

from ..audio.state import PLAYING, State
from . import commands as c

QUIT = "q"

KEYS: dict[str, Callable[[State], c.Command]] = {
    " ": lambda s: c.TogglePlay(),
    "p": lambda s: c.Pause() if s.transport == PLAYING else c.Resume(),
    "s": lambda s: c.Stop(),
    "r": lambda s: c.Restart(),
    "n": lambda s: c.NextSong(),
    "b": lambda s: c.PreviousSong(),
    "]": lambda s: c.NextSection(at=c.At.BAR),
    "v": lambda s: c.ReleaseVamp() if s.vamp else c.Vamp(),
    "x": lambda s: c.Cancel(),
    "+": lambda s: c.NudgeGain("click", 1.0),
    "-": lambda s: c.NudgeGain("click", -1.0),
    **{str(i): (lambda s, i=i: c.Jump(i, at=c.At.BAR)) for i in range(1, 10)},
}

HELP = ("space play/stop  p pause  s stop  r restart  n/b next/prev song  ] next section  "
        "1-9 section  v vamp  x cancel  +/- click  q quit")


def command_for(key: str, state: State) -> c.Command | None:
    make = KEYS.get(key)
    return make(state) if make else None


