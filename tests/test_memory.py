"""Memory does not grow with song length: stems stream, nothing is loaded whole."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from conftest import make_song

PROBE = """
import re, sys
from pathlib import Path
from appliance.audio.disk.loaded import load
from appliance.audio.render import RenderRange, render
from appliance.config import Config
from appliance.errors import Problems
loaded = load(Path(sys.argv[1]), Config(cache=Path(sys.argv[3])), Problems(), block=4096)
render(loaded, Path(sys.argv[2]), RenderRange())
loaded.close()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec
print(int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024)
"""


def _long_song(library: Path, name: str, minutes: float) -> Path:
    folder = make_song(library, name, '[[tempo]]\nbar = 1\nbpm = 128\n[[stem]]\nfile = "a.wav"\n'
                                      '[[stem]]\nfile = "b.wav"\n')
    frames = int(minutes * 60 * 48000)
    for stem, channels in (("a.wav", 2), ("b.wav", 1)):
        with sf.SoundFile(str(folder / stem), "w", 48000, channels, subtype="PCM_16") as f:
            block = np.full((1 << 18, channels), 0.1, dtype=np.float32)
            for start in range(0, frames, len(block)):
                f.write(block[: frames - start])
    return folder


def _peak_mb(folder: Path, tmp: Path) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, str(folder), str(tmp / "o.wav"),
                          str(tmp / "cache")], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_peak_memory_is_flat_with_song_length(library, tmp_path):
    short = _peak_mb(_long_song(library, "short", 0.5), tmp_path)
    long = _peak_mb(_long_song(library, "long", 8), tmp_path)
    assert sf.info(str(tmp_path / "o.wav")).frames == 8 * 60 * 48000
    assert long < 150
    assert long - short < 10, (short, long)
