"""SIGHUP's rules: the config read again now (a broken one changes nothing) and applied
only when nothing would be cut (`busy` says why not)."""
from __future__ import annotations

from typing import Callable

from ..config import Config
from ..errors import BacklineError
from ..vocab.state import State, TransportState
from .logs import log


def busy(s: State) -> str:
    """Why the show cannot be replaced now ("" when it can)."""
    if s.transport not in (TransportState.STOPPED, TransportState.LOADING):     # the menu says so too
        return "stop the song first"
    if s.record.running:                         # a rehearsal take goes on
        return "stop recording first"
    return ""


def read_config(reload: Callable[[], Config] | None) -> Config | None:
    """The config read again, its warnings logged; None (and why, logged) when there is no
    config file to read or it has errors: the running one stays."""
    if reload is None:
        log.warning("reload: this daemon was not started from a config file")
        return None
    try:
        new = reload()
    except BacklineError as exc:
        for problem in exc.problems:
            log.error("%s", problem)
        log.error("reload: the config has errors; the running one stays")
        return None
    for p in new.warnings:
        log.warning("%s", p)
    return new
