#!/usr/bin/env python3
"""MIDI timing.

    .venv/bin/python bench/midi.py drift   [--minutes 60]
    .venv/bin/python bench/midi.py jitter  [--seconds 60]
    .venv/bin/python bench/midi.py pc      [--runs 10]
    .venv/bin/python bench/midi.py burst   [--runs 3]

drift:  every clock tick of a long song with tempo changes and ramps, planned from the
        segments the audio thread logs, against the tempo map's own frame for it.
jitter: clock messages sent under JACK's dummy backend (paced like a card): how late
        each left against the moment its frame is heard (p50, p99, max).
pc:     a program change in -> the new song loaded and ready to play, in ms.
burst:  20 000 click-level CCs in one burst while a song plays (JACK-paced): xruns, and
        per period the commands applied and the work time (max, against before the burst).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from alsa_doubles import Jack, jack_pcm  # noqa: E402
import midi_backend  # noqa: E402

from appliance.audio.disk.loaded import song_frames  # noqa: E402
from appliance.audio.player import Player  # noqa: E402
from appliance.config import Config  # noqa: E402
from appliance.config.midi_map import MidiSpec  # noqa: E402
from appliance.control.midi import MidiPorts  # noqa: E402
from appliance.control.midi_out import ClockPlanner, ClockSender  # noqa: E402
from appliance.errors import Problems  # noqa: E402
from appliance.timeline.song import load_song  # noqa: E402
from appliance.vocab import commands as c  # noqa: E402
from appliance.vocab.segments import KIND_PLAYING, SegmentLog  # noqa: E402

RATE = 48000


def tempo_song(folder: Path, minutes: float) -> Path:
    """Click only; the tempo changes every 8 bars, every third change a ramp (at about
    120 bpm on average, `minutes` long)."""
    folder.mkdir(parents=True, exist_ok=True)
    bars = int(minutes * 60 * 120 / 60 / 4)
    text = f'title = "Tempo map"\ncount_in = 1\nlength_bars = {bars}\n'
    tempi = [120, 96, 140, 133.5, 72, 160, 101.25]
    for i, bar in enumerate(range(1, bars, 8)):
        ramp = "ramp = true\n" if i % 3 == 2 else ""
        text += f"[[tempo]]\nbar = {bar}\nbpm = {tempi[i % len(tempi)]}\n{ramp}"
    (folder / "song.toml").write_text(text)
    return folder


def cmd_drift(args, work: Path) -> None:
    folder = tempo_song(work / "song", args.minutes)
    song = load_song(folder, Problems())
    changes = (folder / "song.toml").read_text().count("[[tempo]]")
    end = song_frames(song, [], RATE)
    log = SegmentLog(capacity=1 << 12)
    planner = ClockPlanner(lambda i: song, RATE)
    ticks: list[int] = []
    t0 = time.process_time()
    for start in range(0, end, 256):
        log.add(start, start, min(256, end - start), KIND_PLAYING, 0, 0)
        ticks += [f for f, m in planner.plan(log.data[(log.written - 1) % log.capacity])
                  if m.type == "clock"]
    spent = time.process_time() - t0
    ideal = [song.tempo.frame_at(Fraction(k, 24), RATE) for k in range(len(ticks))]
    diff = np.abs(np.array(ticks) - np.array(ideal))
    print(f"a {end / RATE / 60:.0f}-minute song, {changes} tempo changes (a third of them "
          f"ramps): {len(ticks)} ticks, drift max {diff.max()} frames")
    print(f"planning cost: {spent / (end / RATE) * 100:.3f} % of a core")


def cmd_jitter(args, work: Path) -> None:
    song = tempo_song(work / "song", 5)
    conf = work / "asoundrc"
    conf.write_text(jack_pcm("jackhat", 2))
    os.environ["ALSA_CONFIG_PATH"] = f"/usr/share/alsa/alsa.conf:{conf}"
    jack = Jack(period=256, channels=2)
    config = Config(rate=RATE, channels=2, period=256, periods=3, format="FLOAT_LE",
                    cache=work / "cache")
    player = Player.open(song, config, Problems(), device="jackhat")
    timeline = load_song(song, Problems())
    sent: list[float] = []
    engine = player.engine
    sender = ClockSender(engine.segments, ClockPlanner(lambda i: timeline, RATE),
                         send=lambda m: sent.append(time.perf_counter()), period=256,
                         buffer_frames=lambda: engine.device.buffer_frames)
    try:
        player.start()
        sender.start()
        time.sleep(1)
        player.send(c.Play())
        time.sleep(args.seconds)
    finally:
        sender.close()
        player.stop()
        jack.stop()
    late = np.array(sender.late_ns) / 1e6
    p = np.percentile(np.abs(late), [50, 99])
    print(f"{len(late)} messages over {args.seconds:g} s (256-frame periods, JACK dummy): "
          f"|late| p50 {p[0]:.3f} ms, p99 {p[1]:.3f} ms, max {np.abs(late).max():.3f} ms")


def cmd_pc(args, work: Path) -> None:
    songs = []
    for i in range(3):
        folder = work / "lib" / "songs" / f"s{i}"
        tempo_song(folder, 4)
        songs.append(folder.name)
    setlist = work / "lib" / "setlists" / "gig.setlist"
    setlist.parent.mkdir(parents=True, exist_ok=True)
    setlist.write_text("\n".join(songs) + "\n")
    conf = work / "asoundrc"
    conf.write_text(jack_pcm("jackhat", 2))
    os.environ["ALSA_CONFIG_PATH"] = f"/usr/share/alsa/alsa.conf:{conf}"
    os.environ["MIDO_BACKEND"] = "midi_backend"
    jack = Jack(period=256, channels=2)
    config = Config(rate=RATE, channels=2, period=256, periods=3, format="FLOAT_LE",
                    cache=work / "cache", library=work / "lib")
    player = Player.open(setlist, config, Problems(), device="jackhat")
    mc6 = midi_backend.plug("MC6")
    ports = MidiPorts(MidiSpec(inputs=("mc6",)), send=player.send)
    took = []
    try:
        player.start()
        ports.scan()
        time.sleep(1)
        for run in range(args.runs):
            want = run % 3
            if player.state.index == want + 1:
                want = (want + 1) % 3
            t0 = time.perf_counter()
            mc6.feed(bytes([0xC0, want]))
            while not (player.state.index == want + 1 and player.state.transport == "stopped"
                       and player.state.song_name == songs[want]):
                time.sleep(0.0005)
            took.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.3)
    finally:
        ports.close()
        player.stop()
        jack.stop()
    print(f"program change in -> the song ready to play: {', '.join(f'{t:.1f}' for t in took)} "
          f"ms (median {np.median(took):.1f}, max {max(took):.1f})")


def cmd_burst(args, work: Path) -> None:
    from appliance.audio.engine import WORK_HISTORY
    from appliance.config import load_config
    song = tempo_song(work / "song", 5)
    conf = work / "asoundrc"
    conf.write_text(jack_pcm("jackhat", 2))
    os.environ["ALSA_CONFIG_PATH"] = f"/usr/share/alsa/alsa.conf:{conf}"
    os.environ["MIDO_BACKEND"] = "midi_backend"
    (work / "c.toml").write_text('[midi]\nin = ["mc6"]\n[[midi.map]]\ncc = 7\n'
                                 'set = "click-level"\nrange_db = [-60, 6]\n')
    spec = load_config(work / "c.toml").midi
    jack = Jack(period=256, channels=2)
    config = Config(rate=RATE, channels=2, period=256, periods=3, format="FLOAT_LE",
                    cache=work / "cache")
    player = Player.open(song, config, Problems(), device="jackhat")
    mc6 = midi_backend.plug("MC6")
    ports = MidiPorts(spec, send=player.send)
    engine = player.engine
    burst = b"".join(bytes([0xB0, 7, i % 128]) for i in range(20000))
    try:
        player.start()
        ports.scan()
        player.send(c.Play())
        time.sleep(1.5)
        for run in range(args.runs):
            p0, x0 = engine.periods, engine.xruns
            time.sleep(0.5)
            p1 = engine.periods
            t0 = time.perf_counter()
            mc6.feed(burst)
            sent_s = time.perf_counter() - t0
            while len(engine.inbox):
                time.sleep(0.001)
            time.sleep(0.5)
            p2 = engine.periods
            idx = lambda a, b: np.arange(a, b) % WORK_HISTORY   # noqa: E731
            quiet, busy = idx(p0, p1), idx(p1, p2)
            print(f"run {run + 1}: 20000 CCs sent in {sent_s * 1000:.0f} ms; "
                  f"{engine.xruns - x0} xruns; commands a period max "
                  f"{engine.applied[busy].max()}, {engine.applied[busy].sum()} in all; "
                  f"work a period max {engine.work_ns[busy].max() / 1e6:.3f} ms "
                  f"(before the burst {engine.work_ns[quiet].max() / 1e6:.3f} ms; "
                  f"a period is {256 / RATE * 1000:.2f} ms)")
    finally:
        ports.close()
        player.stop()
        jack.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("drift", "jitter", "pc", "burst"))
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix=f"backline-midi-{args.what}-"))
    {"drift": cmd_drift, "jitter": cmd_jitter, "pc": cmd_pc,
     "burst": cmd_burst}[args.what](args, work)


if __name__ == "__main__":
    main()
