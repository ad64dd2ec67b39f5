"""The terminal as a footswitch board: single keys become commands.

Used by `backline play`: a key is looked up in KEYS; some keys depend on the state
(space plays or stops). `Keys` reads them; the simulator reads its keys with it too.
"""
from __future__ import annotations

import queue
import sys
import threading
from typing import Callable

from ..vocab import commands as c
from ..vocab.state import State, TransportState

QUIT = "q"

KEYS: dict[str, Callable[[State], c.Command]] = {
    " ": lambda s: c.TogglePlay(),
    "p": lambda s: c.Pause() if s.transport == TransportState.PLAYING else c.Resume(),
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




class Keys:
    """Single keys from stdin (cbreak mode on a terminal), read on their own thread."""

    def __init__(self) -> None:
        self._queue: "queue.Queue[str]" = queue.Queue()
        self.closed = False
        self._saved = None
        if sys.stdin.isatty():
            import termios
            import tty
            self._saved = termios.tcgetattr(sys.stdin.fileno())
            tty.setcbreak(sys.stdin.fileno())
        threading.Thread(target=self._read, name="backline-keys", daemon=True).start()

    def _read(self) -> None:
        while True:
            ch = sys.stdin.read(1)
            if not ch:
                self.closed = True
                return
            self._queue.put(ch)

    def get(self, timeout: float) -> str | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def restore(self) -> None:
        if self._saved is not None:
            import termios
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._saved)
