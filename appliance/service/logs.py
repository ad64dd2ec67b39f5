"""Logging to the journal (with structured fields) under systemd, else to stderr."""
from __future__ import annotations

import logging
import os
import sys

JOURNAL_SOCKET = "/run/systemd/journal/socket"
log = logging.getLogger("backline")


def setup_logging(level: int = logging.INFO) -> logging.Handler:
    """The journal when it is there (JournalHandler drops messages silently without it)."""
    handler: logging.Handler
    if os.path.exists(JOURNAL_SOCKET):
        from systemd.journal import JournalHandler
        handler = JournalHandler(SYSLOG_IDENTIFIER="backline")
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("backline: %(levelname)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False
    return handler
