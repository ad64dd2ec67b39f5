"""ALSA without a sound card, for tests: the simulator's configs and JACK server, plus a
per-test ALSA_CONFIG_PATH and a reader for what the `file` plugin wrote."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from appliance.sim.alsa import Jack, config_path_for, duplex_pcm, file_pcm, jack_pcm

__all__ = ["Jack", "duplex_pcm", "file_pcm", "jack_pcm", "use_config", "read_raw"]


def use_config(monkeypatch, folder: Path, text: str) -> Path:
    path = folder / "asoundrc"
    path.write_text(text)
    monkeypatch.setenv("ALSA_CONFIG_PATH", config_path_for(path))
    return path


def read_raw(path: Path, channels: int, dtype=np.float32) -> np.ndarray:
    return np.fromfile(str(path), dtype=dtype).reshape(-1, channels)
