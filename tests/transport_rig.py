"""A transport driven period by period, with songs whose samples say where they are.

Each song's one stem holds sign * (frame + 1) / 2**24 at every frame (exact in
float32), routed to channel 1; the click goes to channel 2. Decoding channel 1
tells which song frame sounded at each output sample.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from appliance.audio.disk.show import Show, SongBank
from appliance.audio.play.transport import Transport
from appliance.config import Config
from appliance.vocab import commands as c
from appliance.vocab.segments import SegmentLog

SCALE = float(2 ** 24)
RATE = 48000
BAR = 96000          # 4/4 at 120


def position_song(library: Path, name: str, bars: int, *, sign: float = 1.0, count_in: int = 0,
                  sections: tuple[tuple[str, int], ...] = (("A", 1), ("B", 3), ("C", 5)),
                  extra: str = "") -> Path:
    folder = library / "songs" / name
    folder.mkdir(parents=True, exist_ok=True)
    frames = bars * BAR
    data = (sign * (np.arange(frames, dtype=np.float64) + 1) / SCALE).astype(np.float32)
    sf.write(str(folder / "pos.wav"), data, RATE, subtype="FLOAT")
    text = f'count_in = {count_in}\n[[tempo]]\nbar = 1\nbpm = 120\n'
    text += "".join(f'[[section]]\nname = "{n}"\nbar = {b}\n' for n, b in sections)
    text += '[[stem]]\nfile = "pos.wav"\nroute = ["foh"]\n' + extra
    (folder / "song.toml").write_text(text)
    return folder


CONFIG = dict(rate=RATE, channels=2, period=128, outputs={"foh": (1,), "click": (2,)})


def rig(show: Show, tmp: Path, block: int = 128) -> Transport:
    config = Config(cache=tmp / "cache", **CONFIG)
    bank = SongBank(show, config, block, blocking=True)
    for i in range(len(show.entries)):
        assert bank.load_now(i) is not None, bank.problems
    return Transport(bank, rate=RATE, channels=2, block=block)


def run(t: Transport, frames: int, script: dict[int, list[c.Command]] | None = None,
        period: int = 128) -> np.ndarray:
    """Render `frames`; the commands in `script` are applied at the period starting at that frame."""
    out = np.zeros((frames, 2), dtype=np.float32)
    script = dict(script or {})
    for start in range(0, frames, period):
        for cmd in script.pop(start, []):
            t.apply(cmd)
        t.render(out[start: start + period])
    assert not script, f"script frames not on a period boundary: {sorted(script)}"
    return out


def played(t: Transport, frames: int, script: dict | None = None,
           period: int = 128) -> SegmentLog:
    """What the transport logged it played over `frames`, commands as in `run`."""
    log = SegmentLog(capacity=1 << 16)
    script = dict(script or {})
    out = np.zeros((period, 2), np.float32)
    for start in range(0, frames, period):
        for cmd in script.pop(start, []):
            t.apply(cmd)
        out.fill(0.0)
        t.render(out, log, start)
    return log


def decode(out: np.ndarray) -> np.ndarray:
    """The song frame heard at each output sample (sign shows which song; 0: silence)."""
    v = out[:, 0].astype(np.float64) * SCALE
    return np.where(v > 0, np.round(v) - 1, np.where(v < 0, np.round(v) + 1, np.nan))


def onsets(out: np.ndarray) -> np.ndarray:
    """Output frames where a click starts on channel 2."""
    loud = np.abs(out[:, 1]) > 0
    starts = np.flatnonzero(loud & ~np.concatenate([[False], loud[:-1]]))
    return starts


def close(t: Transport) -> None:
    t.bank.stop()
