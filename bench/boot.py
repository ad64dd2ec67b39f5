#!/usr/bin/env python3
"""Process start to READY=1: `backline run` on the demo library, JACK's dummy backend as
the sound card, a datagram socket as systemd's NOTIFY_SOCKET.

    .venv/bin/python bench/boot.py [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from alsa_doubles import Jack, jack_pcm  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="backline-boot-"))
    (work / "asoundrc").write_text(jack_pcm("jackhat", 2))
    (work / "config.toml").write_text(f'[audio]\ndevice = "jackhat"\n[library]\ncache = "{work}"\n')
    env = {**os.environ, "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{work / 'asoundrc'}",
           "NOTIFY_SOCKET": str(work / "notify")}
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(work / "notify"))
    jack = Jack(period=256, channels=2)
    times = []
    try:
        for _ in range(args.runs):
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "appliance", "run", "--config",
                                     str(work / "config.toml"), "--state", str(work / "st.json")],
                                    env=env, stderr=subprocess.DEVNULL)
            while b"READY=1" not in sock.recv(4096):
                pass
            times.append(time.perf_counter() - t0)
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    finally:
        jack.stop()
    print(f"start -> READY=1 over {args.runs} runs: best {min(times):.2f} s, "
          f"worst {max(times):.2f} s (the demo song, its stems already resampled after run 1)")


if __name__ == "__main__":
    main()
