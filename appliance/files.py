"""A file written so that a power cut leaves the old one or the new one, never half of one:
a temporary file beside it, fsync, rename, fsync of the folder."""
from __future__ import annotations

import os
from pathlib import Path


def replace_file(path: Path, text: str) -> None:
    """`path` now holds `text`; OSError (the temporary file removed) when it cannot."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
