"""`with` for the things that hold a thread, a device, a port or a process: leaving the
block ends the thing however the block was left, so nothing is left running (an audio
thread writing on, a port held open) when a caller or a test fails half-way.

Whether entering also starts the thing is each class's own convention, said in its
docstring: a class that starts on entering overrides `__enter__`.
"""
from __future__ import annotations

from typing import Any


class Lifetime:
    """`__enter__` returns the object; `__exit__` calls its end method (`stop` unless the
    class says `ends="close"`), which must be idempotent, and lets any exception through.

        class MidiPorts(threading.Thread, Lifetime, ends="close"): ...
    """

    _ends = "stop"

    def __init_subclass__(cls, *, ends: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if ends is not None:
            cls._ends = ends

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        getattr(self, self._ends)()
