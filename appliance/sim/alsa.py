"""ALSA without a sound card: userspace configs with the `file`, `null` and `jack` plugins,
and a JACK server on its dummy backend for real-time pacing.

ALSA reads ALSA_CONFIG_PATH at every open, so a process (or a test) points it at its own file.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from ..lifetime import Lifetime

ALSA_CONF = "/usr/share/alsa/alsa.conf"
# The server's thread stands for the sound card's interrupt: above the audio thread's
# real-time priority, so nothing of ours can keep the "card" from its period.
JACK_PRIORITY = 80


def file_pcm(name: str, path: Path, slave: str = "{ type null }") -> str:
    """A PCM that writes exactly what it is given to `path` (and passes it on to `slave`)."""
    slave_text = f'"{slave}"' if not slave.startswith("{") else slave
    return (f'pcm.{name} {{\n type file\n slave {{ pcm {slave_text} }}\n file "{path}"\n'
            f' format "raw"\n truncate true\n}}\n')


def duplex_pcm(name: str, out: Path, infile: Path, slave: str) -> str:
    """A device whose outputs are written to `out` and whose inputs play `infile` (raw,
    interleaved, in the capture format), both through `slave` (a JACK PCM paces them)."""
    return (file_pcm(f"{name}_out", out, slave=slave) +
            f'pcm.{name}_in {{\n type file\n slave {{ pcm "{slave}" }}\n file "/dev/null"\n'
            f' infile "{infile}"\n format "raw"\n}}\n'
            f'pcm.{name} {{ type asym playback.pcm "{name}_out" capture.pcm "{name}_in" }}\n')


def jack_pcm(name: str, channels: int) -> str:
    """`NAMEraw`: the JACK server's ports as an ALSA PCM; `NAME`: the same through `plug`."""
    play = " ".join(f"{i} system:playback_{i + 1}" for i in range(channels))
    cap = " ".join(f"{i} system:capture_{i + 1}" for i in range(channels))
    return (f"pcm.{name}raw {{ type jack playback_ports {{ {play} }} "
            f"capture_ports {{ {cap} }} }}\n"
            f'pcm.{name} {{ type plug slave.pcm "{name}raw" }}\n')


def config_path_for(asoundrc: Path) -> str:
    """The ALSA_CONFIG_PATH value that adds `asoundrc` to the system's configuration."""
    return f"{ALSA_CONF}:{asoundrc}"


def has_sound_card() -> bool:
    try:
        cards = Path("/proc/asound/cards").read_text()
    except OSError:
        return False
    return any(re.match(r"\s*\d+ \[", line) for line in cards.splitlines())


class Jack(Lifetime):
    """A JACK server with the dummy backend: real-time pacing without a sound card. It runs
    from when it is made; `with Jack() as jack:` stops it when the block is left."""

    def __init__(self, rate: int = 48000, period: int = 256, channels: int = 10) -> None:
        if not shutil.which("jackd"):
            raise RuntimeError("jackd is not installed (deploy/dev.sh installs jackd2)")
        self.proc = subprocess.Popen(
            ["jackd", "--realtime", "--realtime-priority", str(JACK_PRIORITY),
             "-d", "dummy", "-r", str(rate), "-p", str(period),
             "-C", str(channels), "-P", str(channels)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "JACK_NO_AUDIO_RESERVATION": "1"})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if subprocess.run(["jack_lsp"], capture_output=True).returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("jackd did not start (is another JACK server running?)")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
