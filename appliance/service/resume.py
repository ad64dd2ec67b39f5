"""Where the box is (setlist, song, levels, armed inputs, each song's key and tempo and its
parts' dynamics tonight), kept on disk so a restart comes back to it.

Written atomically (a temporary file, fsync, rename), so a power cut leaves the
old state or the new one, never half of one. A corrupt file is set aside with
a message naming it and the line or field, and the box starts from its defaults;
a bad level alone is left out. Restored levels are finite and within LEVEL_DB.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import Problems
from ..files import replace_file
from ..tomlfields import a_path
from ..vocab.commands import KEY_RANGE, TEMPO_PERCENT


@dataclass(frozen=True)
class Resume:
    target: str = ""                  # the song folder or setlist file being played
    index: int = 1                    # 1-based position in it
    output_gain_db: dict[str, float] = field(default_factory=dict)
    click_db: float | None = None
    armed: tuple[str, ...] | None = None     # None: as the config has them (all)
    record_arm: bool = False
    keys: dict[str, tuple[float, float]] = field(default_factory=dict)   # song folder name ->
                                           # (semitones, tempo factor) chosen live
    dynamics: dict[str, float] = field(default_factory=dict)   # song folder name -> its
                                           # parts' intensity chosen live (0 soft .. 1 loud)


LEVEL_DB = (-120.0, 12.0)      # the range a restored level must be in


def load_resume(path: Path, problems: Problems) -> Resume:
    """The saved state; never raises. A file that is not JSON, or whose target or index is
    wrong, is set aside and the box starts fresh; a bad level or arming alone is left out
    with a warning and the rest kept (the setlist position matters more than a level)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return Resume()
    except (OSError, UnicodeDecodeError) as exc:
        problems.warn(path, "", f"cannot read the saved state ({exc}); starting fresh")
        return Resume()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return _set_aside(path, problems, f"line {exc.lineno}", exc.msg)
    except RecursionError:
        return _set_aside(path, problems, "", "nested too deeply")
    except ValueError as exc:                # a number of more than 4300 digits
        return _set_aside(path, problems, "", str(exc))
    if not isinstance(data, dict):
        return _set_aside(path, problems, "", f"not a JSON object but {type(data).__name__}")
    target, index = data.get("target", ""), data.get("index", 1)
    if not isinstance(target, str):
        return _set_aside(path, problems, "target", f"must be text, not {_shown(target)}")
    if why := a_path(target):           # no file has it: even exists() would raise
        return _set_aside(path, problems, "target", why)
    if not _whole(index) or index < 1:
        return _set_aside(path, problems, "index",
                          f"must be a whole number from 1, not {_shown(index)}")
    gains = data.get("output_gain_db", {})
    if not isinstance(gains, dict):
        _left_out(path, problems, "output_gain_db", f"must be an object, not {_shown(gains)}")
        gains = {}
    kept = {str(k): _level(path, problems, f"output_gain_db.{k}", v) for k, v in gains.items()}
    click_db = data.get("click_db")
    if click_db is not None:
        click_db = _level(path, problems, "click_db", click_db)
    armed = data.get("armed")
    if armed is not None and not (isinstance(armed, list)
                                  and all(isinstance(a, str) for a in armed)):
        _left_out(path, problems, "armed", f"must be a list of input names, not {_shown(armed)}")
        armed = None
    record_arm = data.get("record_arm", False)
    if not isinstance(record_arm, bool):
        _left_out(path, problems, "record_arm", f"must be true or false, not {_shown(record_arm)}")
        record_arm = False
    return Resume(target=target, index=index,
                  keys=_by_song(path, problems, data, "keys", _key),
                  dynamics=_by_song(path, problems, data, "dynamics", _intensity),
                  output_gain_db={k: v for k, v in kept.items() if v is not None},
                  click_db=click_db,
                  armed=None if armed is None else tuple(armed), record_arm=record_arm)


def _by_song(path: Path, problems: Problems, data: dict, field: str,
             read: Callable[[Path, Problems, str, object], object | None]) -> dict:
    """A saved object of song folder name -> value, each value `read` (None: left out)."""
    values = data.get(field, {})
    if not isinstance(values, dict):
        _left_out(path, problems, field, f"must be an object, not {_shown(values)}")
        return {}
    return {str(k): kept for k, v in values.items()
            if (kept := read(path, problems, f"{field}.{k}", v)) is not None}


def _shown(value: object) -> str:
    """A saved value in a message, cut short: the file may hold anything."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _level(path: Path, problems: Problems, field: str, value: object) -> float | None:
    """A saved level in dB, or None (and a warning) when it is not a finite number in LEVEL_DB:
    json reads NaN and Infinity, and NaN would pass a clamp as +12 dB."""
    low, high = LEVEL_DB
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and low <= value <= high:      # False for NaN, and for ±inf outside the range
        return float(value)
    _left_out(path, problems, field,
              f"must be a level from {low:g} to {high:g} dB, not {_shown(value)}")
    return None


def _key(path: Path, problems: Problems, field: str, value: object) -> tuple[float, float] | None:
    """A saved [semitones, tempo factor], or None (and a warning) when it is not two finite
    numbers in KEY_RANGE and TEMPO_PERCENT (NaN fails both comparisons)."""
    low, high = (p / 100 for p in TEMPO_PERCENT)
    if isinstance(value, list) and len(value) == 2 and \
            all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value) and \
            KEY_RANGE[0] <= value[0] <= KEY_RANGE[1] and low <= value[1] <= high:
        return float(value[0]), float(value[1])
    _left_out(path, problems, field,
              f"must be [semitones from {KEY_RANGE[0]:g} to {KEY_RANGE[1]:g}, tempo from "
              f"{low:g} to {high:g}], not {_shown(value)}")
    return None


def _intensity(path: Path, problems: Problems, field: str, value: object) -> float | None:
    """A saved intensity, or None (and a warning) when it is not a finite number 0 to 1."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    _left_out(path, problems, field, f"must be an intensity from 0 to 1, not {_shown(value)}")
    return None


def _left_out(path: Path, problems: Problems, field: str, reason: str) -> None:
    problems.warn(path, field, f"saved state: {reason}; left at its default")


def _set_aside(path: Path, problems: Problems, where: str, reason: str) -> Resume:
    aside = Path(f"{path}.corrupt")
    try:
        os.replace(path, aside)
        kept = f"set aside as {aside.name}"
    except OSError as exc:
        kept = f"cannot set it aside ({exc})"
    problems.warn(path, where, f"saved state is corrupt ({reason}); {kept}, starting fresh")
    return Resume()


def save_resume(path: Path, state: Resume) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, json.dumps(asdict(state), indent=1))
