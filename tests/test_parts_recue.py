"""A change of key or intensity reaches a jump target already synthesised: the transport
calls `LoadedSong.recue()` and the cued ring is made again with the new settings."""
from __future__ import annotations

import numpy as np

from appliance.audio.disk.loaded import load
from appliance.config import Config
from appliance.errors import Problems

from conftest import RATE, make_song
from parts_rig import ONLY_BASS, pitch_class

CHART = '''loudness = false
chart = """
tempo: 120
[A]
| C | C |
[B]
| C | C |
"""
''' + ONLY_BASS
BAR = 2 * RATE


def fill(song) -> None:
    while song.stream.parts.fill():
        pass


def bass_at(song, frame: int, n: int = RATE // 2) -> np.ndarray:
    """The bass's `n` frames from `frame`, read as the mixer does, the ring refilled between."""
    out = np.zeros((song.stream.parts.channels, n), np.float32)
    for i in range(0, n, 2048):
        song.stream.parts.read_into(frame + i, out[:, i:i + 2048])
        fill(song)
    return out[2]                              # drums, bass, keys: two rows each


def test_recue_makes_the_jump_target_again_in_the_new_key(library, tmp_path):
    folder = make_song(library, "s", CHART)
    config = Config(cache=tmp_path / "cache", rate=RATE, channels=2, period=128,
                    outputs={"foh": (1,), "click": (2,)})
    problems = Problems()
    song = load(folder, config, problems, block=128)
    assert song is not None and song.plan is not None, problems
    try:
        song.prepare(0)
        song.cue(2 * BAR)                          # [B], read ahead before the change
        fill(song)
        song.plan.change(None, transpose=2)
        song.recue()
        fill(song)
        assert pitch_class(bass_at(song, 2 * BAR)) == 2        # D: the new key
    finally:
        song.close()
