#!/usr/bin/env python3
"""The audio engine under JACK's dummy backend (real-time pacing, no sound card), or on the
box's own card (`--device`), where the figures that count are taken.

    .venv/bin/python bench/engine.py work     [--period 128] [--stems 16] [--seconds 60]
                                              [--display FPS] [--device NAME] [--chart]
    .venv/bin/python bench/engine.py bare     [--period 128] [--spin]
    .venv/bin/python bench/engine.py cost     [--period 128] [--stems 16] [--seconds 60]
    .venv/bin/python bench/engine.py latency  [--period 128]
    .venv/bin/python bench/engine.py live     [--period 128] [--runs 10]
    .venv/bin/python bench/engine.py memory   [--stems 16] [--minutes 30] [--seconds 60] [--null]
    .venv/bin/python bench/engine.py soak     [--period 256] [--minutes 30] [--peer 60]
                                              [--display FPS] [--device NAME]

work:    per-period engine work (commands + mix) as a fraction of the period: wall time,
         and the CPU time the audio thread ran (the difference is waiting: for the GIL,
         or for the CPU). The peer, run first on the same JACK server for as long: a bare
         loop in a fresh process, no other thread, doing the same mix in three numpy
         calls, which shows what this machine allows any Python audio loop.
         `--display 30` adds a display thread drawing the state at 30 fps, as the daemon.
         `--chart` (also for `cost`): the demo chart song instead, its drums, bass and keys synthesised as
         it plays (and `--stems` stems beside them; 0: none); the synth thread's CPU share
         (its CPU time over the time played) is printed too.
bare:    the peer (`work` runs it on its server). `bare --spin` needs no device: it spins
         through each period instead of waiting on one, so the CPU never idles: the
         work's cost with warm caches, which tells how much of the tail is waking up.
cost:    the CPU the period's code costs, hot: no device, no sleep; steadier than the
         paced figures, for comparing changes to that code. The safety limiter on the
         song and on a +18 dB copy (acting every period), and, when pedalboard is
         installed, its Limiter and BrickwallLimiter on the same copy.
latency: frames from a Play command to its first sound reaching ALSA.
live:    the demo chart song at 100 BPM, its parts playing: from a tap (the fourth of a run)
         or a BPM nudge entering the inbox to the first output frame at the new tempo, and
         from a key change to the first frame of the parts in the new key, in ms. Split
         into the engine's own part (the retimer's timing and the period that takes it;
         for a key, up to what the synth has rendered ahead) and the wait for the beat
         (the bar), which a musician asked for.
memory:  peak RSS while playing a long many-stem song, sampled as it plays; the issue's
         figure is `--stems 32 --minutes 60 --null` (without JACK's own shared memory).
soak:    xruns and disk underruns with a CPU-heavy neighbour and heavy disk reads;
         the bare loop runs first under the same neighbours (`--peer` seconds), to tell
         what the machine does to any loop from what our threads do to the audio thread.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import make_stems, peak_rss_mb, stem_tables, write_song  # noqa: E402
from alsa_doubles import Jack, file_pcm, jack_pcm  # noqa: E402

from appliance.audio.player import Player  # noqa: E402
from appliance.audio.threads.priority import AUDIO, BOX, realtime  # noqa: E402
from appliance.config import DEMO_LIBRARY, Config  # noqa: E402
from appliance.errors import Problems  # noqa: E402
from appliance.vocab import commands as c  # noqa: E402
from appliance.vocab.state import TransportState  # noqa: E402

OUTPUTS = {"foh": (1, 2), "ears": (3, 4), "click": (5, 3, 4), "cue": (6, 7)}


class _NoJack:
    def stop(self) -> None:
        pass


def song_and_config(work: Path, *, period: int, stems: int, seconds: float,
                    shared: bool = False, chart: bool = False) -> tuple[Path, Config]:
    """The bench's song of `stems` stereo stems (`chart`: the demo chart song's, with them),
    and the box's config at `period` frames."""
    song = work / "song"
    if chart:          # the work folder is kept between runs: its stems are made once
        shutil.copytree(DEMO_LIBRARY / "songs" / "demo-chart", song, dirs_exist_ok=True)
        with open(song / "song.toml", "a") as f:
            f.write(stem_tables(make_stems(song, stems, seconds, shared=shared)))
    else:
        (song / "chart.txt").unlink(missing_ok=True)
        write_song(song, make_stems(song, stems, seconds, shared=shared))
    return song, Config(rate=48000, channels=8, period=period, periods=3, format="FLOAT_LE",
                        outputs=OUTPUTS, cache=work / "cache")


def setup(work: Path, *, period: int, stems: int, seconds: float, shared: bool = False,
          tee: Path | None = None, null: bool = False, chart: bool = False,
          device: str = "") -> tuple[Jack | _NoJack, Player]:
    """A player on JACK's dummy backend (paced), on ALSA's null device (`null`: unpaced,
    for memory figures without the JACK client's own ~100 MB of shared memory), or on
    `device`, a real one: the box's own card, where the figures that count are taken."""
    song, config = song_and_config(work, period=period, stems=stems, seconds=seconds,
                                   shared=shared, chart=chart)
    conf = work / "asoundrc"
    if device:
        jack, text = _NoJack(), ""
    elif null:
        jack, text, device = _NoJack(), "pcm.nothing { type null }\n", "nothing"
    else:
        jack, text, device = Jack(period=period, channels=8), jack_pcm("jackhat", 8), "jackhat"
    if tee:
        text += file_pcm("copy", tee, slave=device)
        device = "copy"
    conf.write_text(text)
    os.environ["ALSA_CONFIG_PATH"] = f"/usr/share/alsa/alsa.conf:{conf}"
    player = Player.open(song, config, Problems(), device=device)
    realtime(BOX)          # as the daemon: this thread and the ones it starts
    return jack, player


def percentiles(ns: np.ndarray, period: int) -> str:
    frac = ns / (period / 48000 * 1e9) * 100
    p = np.percentile(frac, [50, 99, 99.9])
    return (f"p50 {p[0]:.2f} %  p99 {p[1]:.2f} %  p99.9 {p[2]:.2f} %  max {frac.max():.2f} %"
            f"  ({len(ns)} periods, {np.count_nonzero(frac > 50)} over half a period)")


def cmd_bare(args, work: Path) -> None:
    """The peer: the same stems-and-click mix as bare numpy in a loop (run as a subprocess)."""
    import alsaaudio
    period, rows = args.period, 2 * args.stems + 1
    pcm = None if args.spin else alsaaudio.PCM(
        type=alsaaudio.PCM_PLAYBACK, rate=48000, channels=8, format=alsaaudio.PCM_FORMAT_FLOAT_LE,
        periodsize=period, periods=3, device=args.device or "jackhat")
    period_ns = period * 1_000_000_000 // 48000
    if pcm is not None:        # spinning at SCHED_FIFO, the kernel's throttle would stop it
        realtime(AUDIO)        # 50 ms a second
    ring = np.random.default_rng(1).random((rows, 1 << 16), dtype=np.float32) * 0.01
    block = np.zeros((rows, period), dtype=np.float32)
    matrix = np.full((rows, 8), 0.1, dtype=np.float32)
    out = np.zeros((period, 8), dtype=np.float32)
    n = int(args.seconds * 48000 / period)
    wall, cpu = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    pos = 0
    for i in range(n):
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        np.copyto(block, ring[:, pos:pos + period])
        out.fill(0.0)
        np.dot(block.T, matrix, out=out)
        pos = (pos + period) % (ring.shape[1] - period)
        wall[i], cpu[i] = time.perf_counter_ns() - t0, time.thread_time_ns() - c0
        if pcm is None:
            while time.perf_counter_ns() - t0 < period_ns:     # the CPU never idles
                pass
        else:
            pcm.write(out)
    if pcm is not None:
        pcm.close()
    print(f"bare numpy loop, {'spinning between periods' if pcm is None else 'same device'}:",
          percentiles(wall[5:], period))
    print("  cpu:", percentiles(cpu[5:], period))


def run_peer(args, stems: int, seconds: float) -> None:
    """The bare loop, in a fresh process, on the player's device."""
    subprocess.run([sys.executable, __file__, "bare", "--period", str(args.period),
                    "--stems", str(stems), "--seconds", str(seconds),
                    "--device", args.device or "jackhat"], check=True)


def start_display(player: Player, fps: float) -> None:
    """An SSD1306 display thread drawing the player's state at `fps` (none at 0), as the
    daemon's: it runs until the bench ends."""
    if not fps:
        return
    import warnings
    warnings.simplefilter("ignore")
    from luma.oled.device import ssd1306
    from appliance.ui.display import Display, PixelScreen
    from display import _Wire
    display = Display(PixelScreen(ssd1306(serial_interface=_Wire())),
                      state=lambda: player.state, menu=lambda s: None, rate=48000, fps=fps)
    display.start()


def cmd_work(args, work: Path) -> None:
    jack, player = setup(work, period=args.period, stems=args.stems, seconds=args.seconds + 10,
                         chart=args.chart, device=args.device)
    run_peer(args, args.stems, args.seconds)
    try:
        player.start()
        start_display(player, args.display)
        time.sleep(1)                               # the song's first second read ahead
        player.send(c.Play())
        synth = thread_cpu_s("backline-synth")
        ahead = parts_ahead(player, args.seconds) if args.chart else []
        synth = thread_cpu_s("backline-synth") - synth
        s = player.state
        n = min(player.engine.periods, len(player.engine.work_ns))
        ns = player.engine.work_ns[:n][5:]          # skip the first periods (warm-up)
        parts = " + the demo chart song's drums, bass and keys" if args.chart else ""
        print(f"{args.stems} stereo stems{parts} + click -> 8 ch, {args.period}-frame periods, "
              f"{args.seconds:g} s paced")
        if args.chart:
            ms = np.array(ahead) * 1000 / 48000
            print(f"parts synthesised ahead of the playing frame (the earliest a change is put): "
                  f"p50 {np.percentile(ms, 50):.0f} ms, max {ms.max():.0f} ms "
                  f"({len(ms)} looks)")
            print(f"synth thread: {synth:.2f} s of CPU in {args.seconds:g} s played: "
                  f"{100 * synth / args.seconds:.1f} % of a core")
        print("per-period engine work:", percentiles(ns, args.period))
        print("  cpu:", percentiles(player.engine.cpu_ns[:n][5:], args.period))
        print("audio thread:", player.engine.realtime)
        print(f"xruns {s.xruns}, disk underruns {s.disk_underruns}, health {s.health}")
    finally:
        player.stop()
        jack.stop()


def parts_ahead(player: Player, seconds: float) -> list[int]:
    """Frames the parts' synthesis is ahead of the frame playing (`plan.head` over the
    published frame), looked at every 10 ms for `seconds`."""
    ahead = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.01)
        song, state = player.transport.song, player.state
        if song is not None and song.plan is not None and state.transport == TransportState.PLAYING:
            ahead.append(song.plan.head - state.frame)
    return ahead


def thread_cpu_s(prefix: str) -> float:
    """CPU seconds (user + system) the threads named `prefix`... of this process have used."""
    import threading
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for t in threading.enumerate():
        if t.name.startswith(prefix) and t.native_id is not None:
            fields = Path(f"/proc/self/task/{t.native_id}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick    # utime, stime
    return total


def cmd_cost(args, work: Path) -> None:
    """The transport rendering period after period with no device and no sleep between:
    the CPU our code costs a period, hot, without the machine's wake-ups. Steadier than the
    paced figures (within ~20 % from run to run here), for what a change to that code gains."""
    from appliance.audio.mix.limiter import Limiter
    from appliance.audio.disk.show import Show, SongBank
    from appliance.audio.play.transport import Transport
    from appliance.vocab.segments import SegmentLog
    song, config = song_and_config(work, period=args.period, stems=args.stems,
                                   seconds=args.seconds + 5, chart=args.chart)
    bank = SongBank(Show.open(song, Problems()), config, args.period, blocking=True)
    bank.load_now(0)
    transport = Transport(bank, rate=48000, channels=8, block=args.period)
    bank.start()
    log, out = SegmentLog(), np.zeros((args.period, 8), dtype=np.float32)
    loud = np.zeros_like(out)
    own, acting = (Limiter(OUTPUTS, 8, 48000, args.period) for _ in range(2))
    peers = pedalboard_peers()
    transport.apply(c.Play())
    n = int(args.seconds * 48000 / args.period)
    cpu, lim_own, lim_acting = (np.zeros(n, dtype=np.int64) for _ in range(3))
    peer_ns = {name: np.zeros(n, dtype=np.int64) for name in peers}
    for i in range(n):
        c0 = time.thread_time_ns()
        out.fill(0.0)
        transport.render(out, log, i * args.period)
        cpu[i] = time.thread_time_ns() - c0
        np.multiply(out, 8.0, out=loud)             # +18 dB: the limiter acts every period
        c0 = time.thread_time_ns()
        own.process(out)
        c1 = time.thread_time_ns()
        acting.process(loud)
        lim_own[i], lim_acting[i] = c1 - c0, time.thread_time_ns() - c1
        for name, peer in peers.items():            # the same +18 dB period, all 8 channels
            c0 = time.thread_time_ns()
            peer.process(loud, 48000, buffer_size=args.period, reset=False)
            peer_ns[name][i] = time.thread_time_ns() - c0
        transport.wake_disks()
    bank.stop()
    print(f"{args.stems} stereo stems + click -> 8 ch, {args.period}-frame periods, "
          f"{args.seconds:g} s of song, hot: CPU per period mean {cpu[n // 10:].mean() / 1000:.1f} µs")
    for name, ns in (("engine, no limiter", cpu), ("limiter, the song", lim_own),
                     ("limiter, acting (+18 dB)", lim_acting), *peer_ns.items()):
        ns = ns[n // 10:]                           # the first tenth warms up
        print(f"  {name}: mean {ns.mean() / 1000:.1f} µs;", percentiles(ns, args.period))
    print(f"  the limiter caught {own.caught.sum()} frames of the song, "
          f"{acting.caught.sum()} of the +18 dB copy")


def pedalboard_peers() -> dict:
    """pedalboard's limiters as peers for `cost`, when it is installed (it is not one of
    Backline's dependencies): the same +18 dB periods, one gain over all 8 channels."""
    try:
        import pedalboard
    except ImportError:
        print("  (pip install pedalboard to measure its limiters beside ours)")
        return {}
    return {"pedalboard Limiter (JUCE, acting)": pedalboard.Limiter(threshold_db=-1.0),
            "pedalboard BrickwallLimiter true_peak 1.4 ms (acting)": pedalboard.BrickwallLimiter(
                ceiling_db=-1.0, lookahead_ms=69 / 48, true_peak=True)}


def cmd_latency(args, work: Path) -> None:
    tee = work / "copy.raw"
    jack, player = setup(work, period=args.period, stems=4, seconds=30, tee=tee)
    try:
        player.start()
        lat = []
        for _ in range(args.runs):
            time.sleep(0.2)
            sent_at = player.state.output_frame       # the period being prepared next
            player.send(c.Play())
            time.sleep(0.3)
            player.send(c.Stop())
            time.sleep(0.1)
            while player.state.transport != TransportState.STOPPED:
                time.sleep(0.01)
            lat.append(sent_at)
        buffer = player.engine.device.buffer_frames
    finally:
        player.stop()
        jack.stop()
    raw = np.fromfile(str(tee), dtype=np.float32).reshape(-1, 8)
    loud = np.abs(raw).max(axis=1) > 0
    starts = np.flatnonzero(loud & ~np.concatenate([[False], loud[:-1]]))
    delays = [int(starts[np.searchsorted(starts, s)] - s) for s in lat]
    print(f"{args.period}-frame periods, ALSA buffer {buffer} frames")
    print(f"command -> first sound written: {delays} frames "
          f"(max {max(delays)} = {max(delays) / args.period:.2f} periods)")
    print(f"+ buffer depth to playout: up to {buffer} frames; total max "
          f"{(max(delays) + buffer) / 48:.1f} ms")


def _until(done, limit_s: float = 5.0) -> None:
    """Poll the player's published state (this is the bench, not the box: it may sleep)."""
    end = time.monotonic() + limit_s
    while not done():
        if time.monotonic() > end:
            raise SystemExit("the box did not change in time")
        time.sleep(0.0005)


def cmd_live(args, work: Path) -> None:
    jack, player = setup(work, period=args.period, stems=0, seconds=0, chart=True)
    ms = lambda frames: frames / 48.0        # noqa: E731
    try:
        player.start()
        t, engine = player.transport, player.engine
        retimer = t.bank.retimer
        _until(lambda: t.song is not None and t.song.plan is not None, 10)
        player.send(c.SetBpm(100))
        _until(lambda: abs(player.state.bpm - 100) < 1e-6)
        player.send(c.Play())
        _until(lambda: player.state.bar >= 2, 10)
        tempo: list[tuple[str, int, int]] = []          # (what, engine's frames, beat wait)
        for run in range(args.runs):
            time.sleep(0.25)
            if run % 2 == 0:                            # a run of four taps, 0.6 s apart
                for _ in range(3):
                    player.send(c.TapTempo())
                    time.sleep(0.6)
                what, cmd = "tap", c.TapTempo()
            else:
                what, cmd = "nudge", c.NudgeBpm(1 if run % 4 == 1 else -1)
            known, asks = len(t.timings) and t.timings[-1], retimer.asks
            sent = engine.output_frame
            player.send(cmd)
            _until(lambda: retimer.asks > asks)
            _until(lambda: t.retiming is not None or (t.timings and t.timings[-1] != known))
            taken = engine.output_frame
            _until(lambda: t.timings and t.timings[-1] != known)
            heard = t.timings[-1][0] - engine.delay
            tempo.append((what, taken - sent, heard - taken))
        keys = []
        for run in range(args.runs):
            time.sleep(0.3)
            s = player.state
            epoch = t.song.plan.epoch
            player.send(c.NudgeKey(1 if run % 2 == 0 else -1))
            _until(lambda: t.song.plan.epoch > epoch and t.plan_switch is not None)
            head = t.song.plan.head
            switch = t.plan_switch
            keys.append((head - s.frame, switch - head))
        buffer = engine.device.buffer_frames
        xruns = player.state.xruns
    finally:
        player.stop()
        jack.stop()
    print(f"{args.period}-frame periods, ALSA buffer {buffer} frames, xruns {xruns}; "
          f"a beat at 100 BPM is 600 ms")
    for what in ("tap", "nudge"):
        own = [ms(a) for w, a, _ in tempo if w == what]
        wait = [ms(b) for w, _, b in tempo if w == what]
        total = [x + y for x, y in zip(own, wait)]
        print(f"{what:5s} -> new tempo: total ms median {np.median(total):.0f} max "
              f"{max(total):.0f}; engine's own (retime, taken) median {np.median(own):.1f} max "
              f"{max(own):.1f}; the wait for the next beat median {np.median(wait):.0f} max "
              f"{max(wait):.0f}")
    ahead = [ms(a) for a, _ in keys]
    bar = [ms(b) for _, b in keys]
    total = [x + y for x, y in zip(ahead, bar)]
    print(f"key   -> new key: total ms median {np.median(total):.0f} max {max(total):.0f}; "
          f"the parts rendered ahead median {np.median(ahead):.0f} max {max(ahead):.0f}; "
          f"the wait for the next bar median {np.median(bar):.0f} max {max(bar):.0f}")
    print(f"+ the device buffer to playout: up to {ms(buffer):.1f} ms")


def cmd_memory(args, work: Path) -> None:
    jack, player = setup(work, period=256, stems=args.stems, seconds=args.minutes * 60,
                         shared=True, null=args.null)
    try:
        before = peak_rss_mb()
        player.start()
        time.sleep(1)
        player.send(c.Play())
        samples = []
        for _ in range(int(args.seconds // 10)):
            time.sleep(10)
            samples.append(peak_rss_mb())
        s = player.state
        print(f"{args.stems} stereo stems x {args.minutes:g} min, played {s.seconds:.0f} s "
              f"({'ALSA null device, unpaced' if args.null else 'JACK dummy, paced'})")
        print(f"peak RSS after loading {before:.1f} MB; while playing, every 10 s: "
              + ", ".join(f"{m:.1f}" for m in samples) + " MB")
        print(f"xruns {s.xruns}, disk underruns {s.disk_underruns}")
    finally:
        player.stop()
        jack.stop()


def ordinary() -> None:
    """A neighbour process at an ordinary priority, whatever the bench's thread runs at."""
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    os.setpriority(os.PRIO_PROCESS, 0, 0)


def cmd_soak(args, work: Path) -> None:
    big = work / "disk-load.bin"
    if not big.exists():
        subprocess.run(["dd", "if=/dev/urandom", f"of={big}", "bs=1M", "count=2048"],
                       check=True, capture_output=True)
    jack, player = setup(work, period=args.period, stems=16, seconds=args.minutes * 60 + 30,
                         device=args.device)
    neighbour = dict(preexec_fn=ordinary)
    loads = {"cpu": [sys.executable, "-c", "while True: pass"],
             "disk": ["sh", "-c", f"while true; do dd if={big} of=/dev/null bs=1M "
                                  f"iflag=direct 2>/dev/null; done"]}
    busy = [subprocess.Popen(loads[name], **neighbour) for name in args.neighbours.split("+")]
    try:
        if args.peer:
            run_peer(args, 16, args.peer)           # the same neighbours, no player yet
        player.start()
        start_display(player, args.display)
        time.sleep(1)
        player.send(c.Play())
        for minute in range(int(args.minutes)):
            time.sleep(60)
            s = player.state
            print(f"{minute + 1:3d} min: xruns {s.xruns}, disk underruns {s.disk_underruns}, "
                  f"health {s.health}", flush=True)
        n = min(player.engine.periods, len(player.engine.work_ns))
        print("per-period work (last periods):", percentiles(player.engine.work_ns[:n], args.period))
        print("  cpu:", percentiles(player.engine.cpu_ns[:n], args.period))
    finally:
        for proc in busy:
            proc.kill()
        player.stop()
        jack.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("work", "bare", "cost", "latency", "live", "memory", "soak"))
    ap.add_argument("--period", type=int, default=128)
    ap.add_argument("--stems", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--display", type=float, default=0.0,
                    help="work, soak: an SSD1306 display thread drawing the state at this fps")
    ap.add_argument("--peer", type=float, default=60.0,
                    help="soak: seconds of the bare loop under the same neighbours first")
    ap.add_argument("--neighbours", default="cpu+disk", choices=("cpu", "disk", "cpu+disk"),
                    help="soak: what else keeps the machine busy")
    ap.add_argument("--device", default="",
                    help="work, soak, bare: a real ALSA device (a plug device when the card has "
                         "fewer than 8 channels); default: JACK's dummy server, started here")
    ap.add_argument("--spin", action="store_true",
                    help="bare: no device; spin through each period, so the CPU never idles")
    ap.add_argument("--chart", action="store_true",
                    help="work: the demo chart song, its parts synthesised as it plays")
    ap.add_argument("--null", action="store_true", help="memory: ALSA null device, not JACK")
    args = ap.parse_args()
    work = Path(tempfile.gettempdir()) / f"backline-engine-{args.what}"
    work.mkdir(exist_ok=True)
    {"work": cmd_work, "bare": cmd_bare, "cost": cmd_cost, "latency": cmd_latency,
     "live": cmd_live, "memory": cmd_memory, "soak": cmd_soak}[args.what](args, work)


if __name__ == "__main__":
    main()
