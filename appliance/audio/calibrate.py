"""`backline calibrate`: the round trip from an output to an input, measured through a
loopback cable with the engine's own recording path, so the figure is exactly what a
take must be shifted by.

A click-only song plays on every output while a take follows it from input N; the take
is compared with the song as rendered (cross-correlation), and the lag of the best
match is the latency. It is written to the config as `[recording] latency`.
"""
from __future__ import annotations

import dataclasses
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import Config
from ..errors import BacklineError, Problem, Problems
from ..files import replace_file
from ..vocab import commands as c

MAX_LATENCY_S = 0.5        # longer than any sound card's round trip
CLEAR_MATCH = 4.0          # the best match must stand this far above the typical one
SONG = """title = "Backline calibration"
count_in = 0
length_bars = 2
[[tempo]]
bar = 1
bpm = 100
"""


def calibration_song(folder: Path) -> Path:
    """The song calibration plays: clicks only, two bars, 0.6 s apart (more than any lag)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "song.toml").write_text(SONG)
    return folder


def calibration_config(config: Config, input_channel: int, work: Path) -> Config:
    """The click on every output, one input, no latency applied, a take kept in `work`."""
    return dataclasses.replace(
        config, outputs={"click": tuple(range(1, config.channels + 1))},
        inputs={"loopback": input_channel},
        input_channels=max(config.input_channels, input_channel),
        recordings=work / "takes", record_format="FLOAT", latency=0)


def measure(config: Config, input_channel: int, device: str | None = None) -> int:
    """Frames from output to input; BacklineError saying why when there is no clear match."""
    from .disk.loaded import load
    from .player import Player
    from .render import render

    with tempfile.TemporaryDirectory(prefix="backline-calibrate-") as tmp:
        work = Path(tmp)
        song = calibration_song(work / "song")
        cal = calibration_config(config, input_channel, work)
        loaded = load(song, cal, Problems(), block=4096)
        render(loaded, work / "ref.wav")
        loaded.close()
        ref, _ = sf.read(str(work / "ref.wav"), dtype="float32", always_2d=True)
        player = Player.open(song, cal, Problems(), device=device)
        player.send(c.RecordArm(True))
        player.send(c.Play())
        player.start()
        deadline = time.monotonic() + len(ref) / cal.rate + 5
        try:
            while not player.writer.closed and time.monotonic() < deadline:
                time.sleep(0.05)
            problem = player.state.problem
        finally:
            player.stop()
        if not player.writer.closed:
            raise BacklineError(Problem(Path(device or config.device), "",
                                        f"no take from input {input_channel}: {problem}"))
        got, _ = sf.read(str(player.writer.closed[0] / "loopback.wav"), dtype="float32")
    return best_lag(ref[:, 0], got, int(MAX_LATENCY_S * config.rate), input_channel)


def best_lag(sent: np.ndarray, heard: np.ndarray, max_lag: int, input_channel: int) -> int:
    """The lag (0 to max_lag frames) at which `heard` best matches `sent`."""
    n = len(sent) + len(heard)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(heard, size) * np.conj(np.fft.rfft(sent, size)), size)
    window = np.abs(corr[: max_lag + 1])
    lag = int(np.argmax(window))
    typical = float(np.median(window)) + 1e-12
    if window[lag] < CLEAR_MATCH * typical or not np.any(heard):
        raise BacklineError(Problem(Path(f"input {input_channel}"), "",
                                    "no clear click came back: connect an output to this input "
                                    "with a cable and turn its gain up"))
    return lag


def store_latency(path: Path, frames: int) -> None:
    """Set `[recording] latency` in the learned file, leaving the rest of it as it is."""
    text = path.read_text() if path.exists() else ""
    line = f"latency = {frames}           # frames, measured by backline calibrate"
    table = re.search(r"(?m)^\[recording\][^\n]*\n", text)
    if table is None:
        text = text + ("" if text.endswith("\n") or not text else "\n") + \
            f"\n[recording]\n{line}\n"
    else:
        start = table.end()
        nxt = re.search(r"(?m)^\[", text[start:])
        end = start + nxt.start() if nxt else len(text)
        body = text[start:end]
        if re.search(r"(?m)^latency\s*=", body):
            body = re.sub(r"(?m)^latency\s*=.*$", line, body, count=1)
        else:
            body = line + "\n" + body
        text = text[:start] + body + text[end:]
    replace_file(path, text)                 # a power cut never leaves half a config
