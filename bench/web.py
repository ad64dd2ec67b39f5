#!/usr/bin/env python3
"""The web remote (`backline web`, its own process) beside a playing engine on JACK's dummy
backend, talking to it through the control socket as on the box. Loopback only.

    .venv/bin/python bench/web.py [--period 128] [--stems 16] [--seconds 20] [--commands 100]

state:   an engine change (a new SetOutputGain sent to the inbox) to the WebSocket message
         that shows it, in ms (the socket's stream ticks at 20/s: up to 50 ms of it is that)
command: a button: `POST /api/command` to its HTTP reply (the daemon's), in ms
cpu:     backline-web's CPU time (user + system, /proc) with 10 WebSocket clients reading
         the state while the engine plays, as a share of one core
work:    the engine's per-period work with no web server, then with it and its 10 clients
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import setup  # noqa: E402
from remote import control_server, work_figures  # noqa: E402

from appliance.vocab import commands as c  # noqa: E402
from appliance.web.access import Access  # noqa: E402


def _ws(port: int, token: str):
    from websockets.sync.client import connect
    base = f"http://127.0.0.1:{port}"
    return connect(f"ws://127.0.0.1:{port}/api/events", open_timeout=10,
                   additional_headers={"Cookie": f"backline_token={token}", "Origin": base})


def clients(port: str, token: str, count: str, seconds: str) -> None:
    """`web.py clients PORT TOKEN N SECONDS` (run by the bench): N WebSocket readers;
    prints how many states each read."""
    counts: list[int] = []

    def read() -> None:
        n, end = 0, time.monotonic() + float(seconds)
        with _ws(int(port), token) as ws:
            while time.monotonic() < end:
                try:
                    ws.recv(timeout=0.5)
                    n += 1
                except TimeoutError:
                    pass
        counts.append(n)
    readers = [threading.Thread(target=read) for _ in range(int(count))]
    for r in readers:
        r.start()
    for r in readers:
        r.join()
    print(" ".join(map(str, counts)))


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _line(name: str, values: list[float]) -> None:
    p = np.percentile(values, [50, 99])
    print(f"  {name}: p50 {p[0]:.2f} ms  p99 {p[1]:.2f} ms  max {max(values):.2f} ms")


def main() -> None:
    import httpx

    ap = argparse.ArgumentParser()
    ap.add_argument("--period", type=int, default=128)
    ap.add_argument("--stems", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--commands", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        jack, player = setup(work, period=args.period, stems=args.stems,
                             seconds=3 * args.seconds + 60)
        server = control_server(work, player)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        web = None
        try:
            player.start()
            time.sleep(1)
            player.send(c.Play())
            time.sleep(1)
            print(f"{args.stems} stereo stems + click -> 8 ch, {args.period}-frame periods "
                  f"({args.period / 48:.2f} ms), JACK dummy backend")
            print(f"engine work, no web server ({args.seconds:g} s):")
            print("   ", work_figures(player, args.seconds, args.period))

            code = Access(work / "web").new_code()
            web = subprocess.Popen([sys.executable, "-m", "appliance", "web", "--listen",
                                    f"127.0.0.1:{port}", "--socket", str(server.path),
                                    "--state", str(work / "web")])
            http = httpx.Client(base_url=base, timeout=10, headers={"Origin": base})
            for _ in range(200):
                try:
                    http.get("/api/state")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            assert http.post("/api/pair", json={"code": code}).status_code == 200
            token = http.cookies["backline_token"]

            state_ms, command_ms = [], []
            with _ws(port, token) as ws:
                for i in range(args.commands):
                    db = -round(1 + (i % 50) * 0.5 + (i // 50) * 0.01, 2)
                    t0 = time.perf_counter_ns()
                    player.send(c.SetOutputGain("foh", db))
                    while json.loads(ws.recv(timeout=5))["state"]["output_gain_db"].get("foh") != db:
                        pass
                    state_ms.append((time.perf_counter_ns() - t0) / 1e6)
                    time.sleep(np.random.default_rng(i).uniform(0.005, 0.055))
            for i in range(args.commands):
                t0 = time.perf_counter_ns()
                reply = http.post("/api/command", json={"command": "SetOutputGain", "args": {
                    "output": "foh", "db": -round(2 + (i % 40) * 0.25, 2)}}).json()
                command_ms.append((time.perf_counter_ns() - t0) / 1e6)
                assert reply == {"ok": True}, reply
            print(f"latency ({args.commands} each):")
            _line("engine change -> WebSocket message", state_ms)
            _line("POST /api/command -> its reply", command_ms)

            readers = subprocess.Popen([sys.executable, __file__, "clients", str(port), token,
                                        "10", str(args.seconds + 1)],
                                       stdout=subprocess.PIPE, text=True)
            time.sleep(0.5)
            cpu0, t0 = cpu_s(web.pid), time.monotonic()
            print(f"engine work, backline-web with 10 WebSocket clients ({args.seconds:g} s):")
            print("   ", work_figures(player, args.seconds, args.period))
            share = (cpu_s(web.pid) - cpu0) / (time.monotonic() - t0) * 100
            counts = [int(n) for n in readers.communicate()[0].split()]
            print(f"  backline-web CPU: {share:.1f} % of one core; states each client read: "
                  f"{min(counts)} to {max(counts)}")
            s = player.state
            print(f"xruns {s.xruns}, disk underruns {s.disk_underruns}, health {s.health}")
            http.close()
        finally:
            if web is not None:
                web.terminate()
                web.wait(10)
            server.close()
            player.stop()
            jack.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["clients"]:
        clients(*sys.argv[2:6])
    else:
        main()
