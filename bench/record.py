#!/usr/bin/env python3
"""Recording under JACK's dummy backend (real-time pacing, no sound card).

    .venv/bin/python bench/record.py load [--minutes 10] [--inputs 8] [--stems 16] [--no-record]
    .venv/bin/python bench/record.py kill [--runs 20]

load: `inputs` inputs recorded (24-bit) while `stems` stereo stems + click play at
      256-frame periods: dropped input periods, xruns, per-period engine work, the
      writer's largest lag behind the audio thread, frames on disk against frames played.
      `--no-record`: the same playback, inputs open but no take, for the comparison.
kill: `backline record` killed with SIGKILL at a random moment, `runs` times: does every
      file open with soundfile as the crash left it, holding all audio up to 1 s before
      the kill, and does `backline recover` give back the rest?
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import make_stems, peak_rss_mb, write_song  # noqa: E402
from alsa_doubles import Jack, jack_pcm  # noqa: E402
from engine import OUTPUTS, percentiles  # noqa: E402

from appliance.audio.player import Player  # noqa: E402
from appliance.audio.threads.priority import BOX, realtime  # noqa: E402
from appliance.config import Config  # noqa: E402
from appliance.errors import Problems  # noqa: E402
from appliance.vocab import commands as c  # noqa: E402

RATE = 48000
PERIOD = 256


def use_jack(work: Path, channels: int = 8) -> Jack:
    conf = work / "asoundrc"
    conf.write_text(jack_pcm("jackhat", channels))
    os.environ["ALSA_CONFIG_PATH"] = f"/usr/share/alsa/alsa.conf:{conf}"
    return Jack(period=PERIOD, channels=channels)


def cmd_load(args, work: Path) -> None:
    song = work / "song"
    write_song(song, make_stems(song, args.stems, args.minutes * 60 + 30, shared=True))
    jack = use_jack(work)
    inputs = {f"in{i + 1}": i + 1 for i in range(args.inputs)}
    config = Config(rate=RATE, channels=8, period=PERIOD, periods=3, format="FLOAT_LE",
                    outputs=OUTPUTS, cache=work / "cache", input_channels=args.inputs,
                    inputs=inputs, recordings=work / "takes")
    player = Player.open(song, config, Problems(), device="jackhat")
    lag = 0
    realtime(BOX)          # as the daemon: this thread and the ones it starts
    try:
        player.start()
        time.sleep(1)
        if not args.no_record:
            player.send(c.Record(True))
        player.send(c.Play())
        end = time.monotonic() + args.minutes * 60
        next_print = time.monotonic() + 60
        ring = player.recorder.ring
        while time.monotonic() < end:
            time.sleep(0.05)
            if ring is not None:
                lag = max(lag, ring.written - ring.consumed)
            ring = player.recorder.ring
            if time.monotonic() >= next_print:
                s = player.state
                print(f"{s.record.seconds / 60:5.1f} min: xruns {s.xruns}, dropped input "
                      f"periods {s.record.dropped}, writer lag max {lag / RATE * 1000:.0f} ms",
                      flush=True)
                next_print += 60
        s = player.state
        player.send(c.Record(False))
        while not args.no_record and not player.writer.closed:
            time.sleep(0.05)
        n = min(player.engine.periods, len(player.engine.work_ns))
        work_line = percentiles(player.engine.work_ns[:n], PERIOD)
        cpu_line = percentiles(player.engine.cpu_ns[:n], PERIOD)
    finally:
        player.stop()
        jack.stop()
    print(f"{args.inputs} inputs (24-bit) {'open, not recorded' if args.no_record else 'recorded'}"
          f" while {args.stems} stereo stems + click played, {PERIOD}-frame periods, "
          f"{args.minutes:g} min paced")
    print("per-period engine work (last periods):", work_line)
    print("  cpu:", cpu_line)
    if args.no_record:
        return
    take = player.writer.closed[0]
    frames = [sf.info(str(f)).frames for f in sorted(take.glob("*.wav"))]
    print(f"xruns {s.xruns}, input overruns {player.engine.overruns}, dropped input periods "
          f"{s.record.dropped}, disk underruns {s.disk_underruns}")
    print(f"files: {len(frames)}, frames each {set(frames)} "
          f"({frames[0] / RATE:.1f} s); take ended: {s.record.problem or 'as asked'}")
    print(f"writer lag behind the audio thread: max {lag / RATE * 1000:.0f} ms "
          f"(the ring holds {player.recorder.ring.capacity / RATE:.0f} s)")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


def cmd_kill(args, work: Path) -> None:
    jack = use_jack(work)
    cfg = work / "c.toml"
    ok = 0
    lines = []
    try:
        for run in range(args.runs):
            rec = work / f"takes{run}"
            cfg.write_text(f'[audio]\ndevice = "jackhat"\nchannels = 8\nformat = "FLOAT_LE"\n'
                           f'[library]\ncache = "{work / "cache"}"\n'
                           f'[recording]\npath = "{rec}"\n')
            proc = subprocess.Popen(
                [sys.executable, "-m", "appliance", "record", "--config", str(cfg),
                 "--inputs", ",".join(str(i) for i in range(1, 9))],
                stdout=subprocess.PIPE, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True)
            said = 0.0
            while said < 1.0:
                said = float(proc.stdout.readline().split()[1])
            wait = random.uniform(0.0, 4.0)
            time.sleep(wait)
            proc.kill()
            proc.wait()
            take = next(rec.iterdir())
            # what the take must hold: the time recorded when last said, plus the wait since
            must = (said + wait - 1.0) * RATE
            crashed = [sf.info(str(f)).frames for f in sorted(take.glob("*.wav"))]
            r = subprocess.run([sys.executable, "-m", "appliance", "recover", str(rec)],
                               capture_output=True, text=True)
            repaired = [sf.info(str(f)).frames for f in sorted(take.glob("*.wav"))]
            good = len(crashed) == 8 and min(crashed) >= must - PERIOD and r.returncode == 0
            ok += good
            lines.append(f"run {run + 1:2d}: killed {wait:.2f} s after the {said:.0f} s line; "
                         f"as left: {min(crashed) / RATE:.2f} s (needed >= {must / RATE:.2f}); "
                         f"after recover: {min(repaired) / RATE:.2f} s; "
                         f"{'ok' if good else 'LOST'}")
            print(lines[-1], flush=True)
    finally:
        jack.stop()
    print(f"{ok}/{args.runs} runs: every file opened and held all audio up to 1 s before "
          f"the kill")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("load", "kill"))
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--inputs", type=int, default=8)
    ap.add_argument("--stems", type=int, default=16)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--no-record", action="store_true", help="load: play, record nothing")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix=f"backline-record-{args.what}-"))
    {"load": cmd_load, "kill": cmd_kill}[args.what](args, work)


if __name__ == "__main__":
    main()
