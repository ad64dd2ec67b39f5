"""Which SoundFont the parts play: the musician's own (the config's `[parts] soundfont`),
else Debian's FluidR3 GM if installed (the better sound, 141 MB), else the small TimGM6mb
(6 MB, what the box installs). Checked before FluidSynth sees it, so the message names the
file and says what is wrong with it in a musician's words."""
from __future__ import annotations

import struct
from pathlib import Path

from ...errors import not_a_file
from .errors import SynthError

SF2_FOLDER = Path("/usr/share/sounds/sf2")
INSTALLED = (SF2_FOLDER / "FluidR3_GM.sf2", SF2_FOLDER / "TimGM6mb.sf2")


def choose(given: Path | None = None, *, installed: tuple[Path, ...] = INSTALLED) -> Path:
    """The SoundFont to use, checked; SynthError naming the file (or the packages) if none can."""
    if given is not None:
        return check(Path(given))
    for path in installed:
        if not_a_file(path) is None:
            return check(path)
    raise SynthError(installed[-1], "no General MIDI SoundFont is installed: "
                                    "apt install timgm6mb-soundfont")


def check(path: Path) -> Path:
    """`path` if it looks like a whole SoundFont 2 file; SynthError saying why not."""
    why = not_a_file(path)
    if why is not None:
        raise SynthError(path, f"SoundFont {why}")
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            size = f.seek(0, 2)
    except OSError as exc:
        raise SynthError(path, f"SoundFont cannot be read: {exc.strerror or exc}") from None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise SynthError(path, "is not a SoundFont (.sf2)")
    promised = struct.unpack("<I", head[4:8])[0] + 8
    if size < promised:
        raise SynthError(path, f"SoundFont is truncated: its header promises {promised} bytes, "
                               f"the file holds {size}; copy it again")
    return path
