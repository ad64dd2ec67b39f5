"""Where the box is (setlist, song, levels, armed inputs), kept on disk so a restart comes back to it.

Written atomically (a temporary file, fsync, rename), so a power cut leaves the
old state or the new one, never half of one. A corrupt file is set aside with
a message naming it and the line, and the box starts from its defaults.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import Problems
from ..files import replace_file


@dataclass(frozen=True)
class Resume:
    target: str = ""                  # the song folder or setlist file being played
    index: int = 1                    # 1-based position in it
    output_gain_db: dict[str, float] = field(default_factory=dict)
    click_db: float | None = None
    armed: tuple[str, ...] | None = None     # None: as the config has them (all)
    record_arm: bool = False


def load_resume(path: Path, problems: Problems) -> Resume:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return Resume()
    except (OSError, UnicodeDecodeError) as exc:
        problems.warn(path, "", f"cannot read the saved state ({exc}); starting fresh")
        return Resume()
    try:
        data = json.loads(text)
        state = Resume(target=str(data.get("target", "")), index=int(data.get("index", 1)),
                       output_gain_db={str(k): float(v) for k, v in
                                       dict(data.get("output_gain_db", {})).items()},
                       click_db=None if data.get("click_db") is None else float(data["click_db"]),
                       armed=None if data.get("armed") is None
                       else tuple(str(a) for a in data["armed"]),
                       record_arm=bool(data.get("record_arm", False)))
        if state.index < 1:
            raise ValueError(f"index must be 1 or more, not {state.index}")
        return state
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}"
        reason = exc.msg
    except (TypeError, ValueError, AttributeError) as exc:
        where, reason = "", str(exc)
    aside = Path(f"{path}.corrupt")
    os.replace(path, aside)
    problems.warn(path, where, f"saved state is corrupt ({reason}); set aside as "
                               f"{aside.name}, starting fresh")
    return Resume()


def save_resume(path: Path, state: Resume) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, json.dumps(asdict(state), indent=1))
