"""A wake-up for a helper thread that the audio thread may give.

The disk and loader threads sleep until there is work; the audio thread is the
one that makes work (it consumed a chunk, it asked for a jump target), but it
must not take a lock. `set` is one non-blocking eventfd write, a syscall that
never waits; `wait` is a select with a timeout, which releases the GIL.
"""
from __future__ import annotations

import os
import select


class Wake:
    def __init__(self) -> None:
        self._fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)

    def set(self) -> None:
        """Wake the waiter, now or at its next wait (any thread, the audio thread too);
        after `close`, nothing (a late wake-up during shutdown is not an error)."""
        fd = self._fd
        if fd < 0:
            return
        try:
            os.eventfd_write(fd, 1)
        except OSError:        # full (never, in practice) or closed: nothing to do
            pass

    def wait(self, timeout: float) -> bool:
        """Sleep until `set` or `timeout` seconds; True when woken."""
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if ready:
            try:
                os.eventfd_read(self._fd)
            except BlockingIOError:
                pass
        return bool(ready)

    def close(self) -> None:
        """Idempotent: a second close does nothing."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
