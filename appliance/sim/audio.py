"""Where the simulator's audio goes: the sound card when there is one; with none, a JACK
server on its dummy backend paces the engine as a card would, and ALSA's `file` plugin
in front of it keeps an exact copy, turned into a WAV file when the sim ends."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import Config
from ..errors import BacklineError, Problem
from .alsa import Jack, config_path_for, file_pcm, has_sound_card, jack_pcm

SIM_PCM = "backline_sim"
CONVERT_FRAMES = 1 << 16     # the copy becomes a WAV file this many frames at a time


class SimAudio:
    def __init__(self, config: Config, folder: Path, device: str | None = None, *,
                 wav: bool = False) -> None:
        """`wav`: into the WAV file even when there is a sound card."""
        self.config = config
        self.device = device
        self.wav: Path | None = None
        self._jack: Jack | None = None
        self._raw = folder / "output.raw"
        if not wav and (device or has_sound_card()):
            self.where = f"audio: ALSA device {device or config.device}"
            return
        self.config = config = replace(config, format="FLOAT_LE")    # no card: our choice
        try:
            self._jack = Jack(rate=config.rate, period=config.period, channels=config.channels)
        except RuntimeError as exc:
            raise BacklineError(Problem(folder, "", f"no sound card, and {exc}")) from None
        asoundrc = folder / "asoundrc"
        asoundrc.write_text(jack_pcm("backline_jack", config.channels)
                            + file_pcm(SIM_PCM, self._raw, slave="backline_jack"))
        os.environ["ALSA_CONFIG_PATH"] = config_path_for(asoundrc)
        self.device = SIM_PCM
        self.wav = folder / "output.wav"
        self.where = f"audio: no sound card; paced by JACK's dummy driver, kept in {self.wav}"

    def close(self) -> None:
        """Stop the JACK server; the copy of the output becomes `self.wav`."""
        if self._jack is None:
            return
        self._jack.stop()
        self._jack = None
        channels = self.config.channels
        frames = self._raw.stat().st_size // (4 * channels) if self._raw.exists() else 0
        with sf.SoundFile(str(self.wav), "w", samplerate=self.config.rate,
                          channels=channels, subtype="FLOAT") as wav:
            for start in range(0, frames, CONVERT_FRAMES):
                n = min(CONVERT_FRAMES, frames - start)
                block = np.fromfile(str(self._raw), dtype=np.float32, count=n * channels,
                                    offset=start * channels * 4)
                wav.write(block.reshape(n, channels))
        self._raw.unlink(missing_ok=True)
