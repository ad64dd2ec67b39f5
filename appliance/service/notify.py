"""systemd's notify protocol (systemd-python): READY, STATUS, WATCHDOG, STOPPING.

Outside systemd (no NOTIFY_SOCKET) every call is a no-op, so the daemon runs the
same under systemd, in a terminal and in tests (which bind their own socket).
"""
from __future__ import annotations

import os

from systemd import daemon


class Notifier:
    def __init__(self) -> None:
        self.enabled = bool(os.environ.get("NOTIFY_SOCKET"))
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        mine = pid is None or pid == str(os.getpid())
        # ping at half the interval systemd waits, as sd_watchdog_enabled(3) advises
        self.watchdog_s = int(usec) / 2e6 if usec and usec.isdigit() and mine else None
        self._status = ""

    def _send(self, text: str) -> None:
        if self.enabled:
            daemon.notify(text)

    def ready(self, status: str) -> None:
        self._status = status
        self._send(f"READY=1\nSTATUS={status}")

    def status(self, status: str) -> None:
        if status != self._status:
            self._status = status
            self._send(f"STATUS={status}")

    def watchdog(self) -> None:
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")
