"""Why the parts cannot sound: one error, naming the file and saying what to do."""
from __future__ import annotations

from pathlib import Path

from ...errors import BacklineError, Problem


class SynthError(BacklineError):
    """FluidSynth missing, no SoundFont, or a SoundFont that cannot be used. The song still
    plays its stems and click; only its parts are silent."""

    def __init__(self, file: Path | str, message: str) -> None:
        super().__init__(Problem(Path(file), "", message))
