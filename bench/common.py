"""Shared by the benches: a song of many stems written to a scratch folder."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import soundfile as sf

CONFIG = '''
[audio]
rate = 48000
channels = 8

[outputs]
foh = [1, 2]
ears = [3, 4]
click = [5, 3, 4]
cue = [6, 7]
'''


def make_stems(folder: Path, count: int, seconds: float, *, rate: int = 48000,
               subtype: str = "PCM_24", shared: bool = False) -> list[str]:
    """`count` stereo stems (one file used `count` times when `shared`), written in chunks."""
    folder.mkdir(parents=True, exist_ok=True)
    names = ["stem.wav"] if shared else [f"stem{i:02d}.wav" for i in range(count)]
    rng = np.random.default_rng(0)
    frames = int(seconds * rate)
    for name in names:
        path = folder / name
        if path.exists() and sf.info(str(path)).frames == frames:
            continue
        with sf.SoundFile(str(path), "w", rate, 2, subtype=subtype) as f:
            for start in range(0, frames, 1 << 18):
                n = min(1 << 18, frames - start)
                f.write((rng.standard_normal((n, 2)) * 0.05).astype(np.float32))
    return [names[0]] * count if shared else names


def write_song(folder: Path, files: list[str]) -> None:
    (folder / "song.toml").write_text(
        'title = "Bench"\n[[tempo]]\nbar = 1\nbpm = 123\nmeter = "4/4"\n'
        '[click]\nsubdivision = 2\n' + stem_tables(files))


def stem_tables(files: list[str]) -> str:
    """song.toml's [[stem]] tables for the bench's stems."""
    return "".join(
        f'\n[[stem]]\nname = "s{i}"\nfile = "{f}"\nroute = ["foh", "ears", "cue"]\ngain_db = -12\n'
        for i, f in enumerate(files))


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss can include a forking parent's)."""
    with open("/proc/self/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024
