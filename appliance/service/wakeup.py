"""The service loop's one wait: signals and requests from other threads arrive as bytes
on a socket pair, so a signal handler never takes a lock (an `Event.set()` in a handler
deadlocks when the signal lands while the main thread holds the event's lock in `wait`).

`signal.set_wakeup_fd` makes the interpreter itself write each caught signal's number to
the socket, in C, before any Python handler runs; the Python handlers do nothing. Other
threads ask with `poke`, which writes a byte the same way.
"""
from __future__ import annotations

import select
import signal
import socket

HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _ignore(signum: int, frame: object) -> None:
    """The byte is already on the socket (written by the interpreter): nothing to do here."""


class Wakeup:
    def __init__(self) -> None:
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._installed = False

    def install(self) -> None:
        """From the main thread: TERM, INT and HUP become bytes on the socket. System
        calls in other threads (JACK's, ALSA's) restart instead of failing with EINTR."""
        signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        for signum in HANDLED:
            signal.signal(signum, _ignore)
            signal.siginterrupt(signum, False)
        self._installed = True

    def uninstall(self) -> None:
        """The service has stopped: later signals of a burst are ignored, not left to kill
        the process while it exits (the interpreter puts back the default handlers then)."""
        if self._installed:
            for signum in HANDLED:
                signal.signal(signum, signal.SIG_IGN)
            signal.set_wakeup_fd(-1)
            self._installed = False

    def poke(self, signum: int) -> None:
        """Ask the service loop as if `signum` had come (any thread, never a handler)."""
        try:
            self._write.send(bytes([signum]))
        except BlockingIOError:        # thousands unread: the loop is already asked
            pass

    def wait(self, timeout: float) -> bytes:
        """The signal numbers that came, waiting up to `timeout` for the first."""
        ready, _, _ = select.select([self._read], [], [], timeout)
        got = b""
        while ready:
            try:
                chunk = self._read.recv(256)
            except (BlockingIOError, InterruptedError):
                break
            got += chunk
            ready = len(chunk) == 256
        return got
