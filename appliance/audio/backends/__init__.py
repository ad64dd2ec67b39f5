"""Where the audio goes: a backend module chosen by name, the way mido chooses its MIDI
backend. `$BACKLINE_AUDIO_BACKEND` wins over the config's `[audio] backend`; the default is
`alsa` (pyalsaaudio). A name without a dot is one of Backline's own (a module of this
package); any other is a full module path, so tests and new backends plug in without
changes here. What a backend module provides: `device.py`. Tests use ALSA's own userspace
doubles (the `file`, `null` and `jack` plugins) through the ALSA backend's code.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
from pathlib import Path
from types import ModuleType

from ...errors import BacklineError, Problem

ENV = "BACKLINE_AUDIO_BACKEND"
DEFAULT = "alsa"
PROVIDES = ("SAMPLE_FORMATS", "playback", "capture")   # what a backend module defines


def own_backends() -> tuple[str, ...]:
    """The short names of the backends that come with Backline."""
    return tuple(m.name for m in pkgutil.iter_modules(__path__) if m.name != "device")


def module_path(name: str) -> str:
    """The module a backend name means: one of ours by its short name, else the name."""
    if name.isidentifier() and name in own_backends():
        return f"{__name__}.{name}"
    return name


def load(name: str) -> ModuleType:
    """The backend module `name`; ValueError saying what is allowed when it is none."""
    allowed = (f"one of {', '.join(own_backends())}, or a backend module's full path "
               f"such as {__name__}.{DEFAULT}")
    path = module_path(name)
    try:
        found = bool(path) and importlib.util.find_spec(path) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ValueError(f"no audio backend {name!r}: give {allowed}")
    module = importlib.import_module(path)
    missing = [attr for attr in PROVIDES if not hasattr(module, attr)]
    if missing:
        raise ValueError(f"{name!r} is no audio backend: it lacks {', '.join(missing)} "
                         f"(see {__name__}.device)")
    return module


def chosen(configured: str, config_file: Path | None = None) -> ModuleType:
    """The backend in use: $BACKLINE_AUDIO_BACKEND, else `configured` ([audio] backend);
    BacklineError naming the setting that holds a bad name."""
    env = os.environ.get(ENV)
    try:
        return load(env if env else configured)
    except ValueError as exc:
        problem = Problem(Path(f"${ENV}"), "", str(exc)) if env else \
            Problem(config_file or Path("config"), "audio.backend", str(exc))
        raise BacklineError(problem) from None
