#!/usr/bin/env python3
"""The control socket (docs/remote.md) beside a playing engine on JACK's dummy backend.

    .venv/bin/python bench/remote.py [--period 128] [--stems 16] [--seconds 20] [--commands 200]

latency: a command's way from a client's socket write to the engine's inbox, and to the
         published state that shows it (a new `SetOutputGain` each time, read from the
         state stream as a client would), in ms and in output frames.
work:    the engine's per-period work while playing, with no client, then with 10
         subscribers to the state stream (reading it as fast as it comes) in another
         process, as the web service would be (in this one they would hold the GIL).
"""
from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import percentiles, setup  # noqa: E402

from appliance.control.remote import RemoteServer  # noqa: E402
from appliance.vocab import commands as c  # noqa: E402


def connect(path: Path) -> tuple[socket.socket, object]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    lines = sock.makefile("rb")
    lines.readline()                       # hello
    return sock, lines


def subscriber(path: Path, seconds: float, counts: list[int]) -> None:
    sock, lines = connect(path)
    sock.sendall(b'{"subscribe": "state"}\n')
    sock.settimeout(0.5)
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if lines.readline():
                n += 1
        except OSError:
            pass
    counts.append(n)
    sock.close()


def subscribers(path: str, count: str, seconds: str) -> None:
    """`remote.py subscribers PATH N SECONDS` (run by the bench): N readers of the state
    stream; prints how many states each read."""
    counts: list[int] = []
    readers = [threading.Thread(target=subscriber, args=(Path(path), float(seconds), counts))
               for _ in range(int(count))]
    for r in readers:
        r.start()
    for r in readers:
        r.join()
    print(" ".join(map(str, counts)))


def work_figures(player, seconds: float, period: int) -> str:
    start = player.engine.periods
    time.sleep(seconds)
    end = player.engine.periods
    idx = np.arange(start + 5, end) % len(player.engine.work_ns)
    return (f"{percentiles(player.engine.work_ns[idx], period)}\n"
            f"    cpu: {percentiles(player.engine.cpu_ns[idx], period)}")


def control_server(work: Path, player, send=None) -> RemoteServer:
    """The daemon's control socket over a bench player, started: no daemon behind it, so the
    box's own commands do nothing and it is never busy."""
    server = RemoteServer(work / "control.sock", send=send or player.send,
                          state=lambda: player.state, config=lambda: player.config,
                          box=lambda cmd: None, busy=lambda: "")
    server.start()
    return server


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--period", type=int, default=128)
    ap.add_argument("--stems", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--commands", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        jack, player = setup(work, period=args.period, stems=args.stems,
                             seconds=3 * args.seconds + 30)
        arrived: dict[float, int] = {}

        def send(cmd: c.Command) -> None:
            if isinstance(cmd, c.SetOutputGain):
                arrived[cmd.db] = time.perf_counter_ns()
            player.send(cmd)
        server = control_server(work, player, send)
        try:
            player.start()
            time.sleep(1)
            player.send(c.Play())
            time.sleep(1)
            print(f"{args.stems} stereo stems + click -> 8 ch, {args.period}-frame periods "
                  f"({args.period / 48:.2f} ms), JACK dummy backend")
            print(f"engine work, no client ({args.seconds:g} s):")
            print("   ", work_figures(player, args.seconds, args.period))

            sock, lines = connect(server.path)
            sock.sendall(b'{"subscribe": "state"}\n')
            inbox_ms, state_ms, state_frames, reply_ms = [], [], [], []
            rng = np.random.default_rng(0)
            for i in range(args.commands):
                db = -round(1 + (i % 50) * 0.5 + (i // 50) * 0.01, 2)
                f0, t0 = player.engine.output_frame, time.perf_counter_ns()
                sock.sendall(json.dumps({"id": i, "command": "SetOutputGain",
                                         "args": {"output": "foh", "db": db}}).encode() + b"\n")
                replied = seen = False
                while not (replied and seen):
                    msg = json.loads(lines.readline())
                    now = time.perf_counter_ns()
                    if msg.get("id") == i:
                        replied = True
                        reply_ms.append((now - t0) / 1e6)
                    elif "state" in msg and not seen and \
                            msg["state"]["output_gain_db"].get("foh") == db:
                        seen = True
                        state_ms.append((now - t0) / 1e6)
                        state_frames.append(msg["state"]["output_frame"] - f0)
                inbox_ms.append((arrived[db] - t0) / 1e6)
                time.sleep(rng.uniform(0.005, 0.055))    # out of step with the stream's tick
            sock.close()

            def line(name: str, values: list[float], unit: str) -> None:
                p = np.percentile(values, [50, 99])
                print(f"  {name}: p50 {p[0]:.2f} {unit}  p99 {p[1]:.2f} {unit}  "
                      f"max {max(values):.2f} {unit}")
            print(f"command latency ({args.commands} SetOutputGain, one client):")
            line("socket write -> engine inbox", inbox_ms, "ms")
            line("socket write -> reply", reply_ms, "ms")
            line("socket write -> state stream shows it", state_ms, "ms")
            line("  the same in output frames", state_frames, "frames")

            readers = subprocess.Popen([sys.executable, __file__, "subscribers",
                                        str(server.path), "10", str(args.seconds + 1)],
                                       stdout=subprocess.PIPE, text=True)
            time.sleep(0.5)
            print(f"engine work, 10 subscribers in another process ({args.seconds:g} s):")
            print("   ", work_figures(player, args.seconds, args.period))
            counts = [int(n) for n in readers.communicate()[0].split()]
            print(f"  states each subscriber read: {min(counts)} to {max(counts)} "
                  f"({min(counts) / (args.seconds + 1):.1f}/s at least)")
            s = player.state
            print(f"xruns {s.xruns}, disk underruns {s.disk_underruns}, health {s.health}")
        finally:
            server.close()
            player.stop()
            jack.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["subscribers"]:
        subscribers(*sys.argv[2:5])
    else:
        main()
