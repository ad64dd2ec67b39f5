"""`backline play`, `run`, `record`, `calibrate`, `recover` and `wiring`: the box itself, its
audio device and its panel."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import DEMO_LIBRARY
from ..errors import BacklineError, Problems
from .common import WithConfig, channels, config_of, positive_float, report, show_target, song_dir

if TYPE_CHECKING:
    from ..audio.player import Player

OPEN_S = 3.0        # without a terminal, how long `play` and `record` try to open the device
DAEMON_STATE = "/var/lib/backline/state.json"
DEMO_SONG = DEMO_LIBRARY / "songs" / "demo"


def _device_opened(player: Player, command: str) -> bool:
    """On a terminal the status line shows why the device does not open while the engine
    keeps trying. Without one nobody would see it: give it OPEN_S, then say why."""
    import time
    from ..vocab.state import Health

    if sys.stdin.isatty() and sys.stdout.isatty():
        return True
    deadline = time.monotonic() + OPEN_S
    while (state := player.state).health == Health.STALLED:
        if time.monotonic() > deadline:
            print(f"backline {command}: the audio device: {state.problem or 'does not answer'}",
                  file=sys.stderr)
            return False
        time.sleep(0.05)
    return True


def cmd_play(args: argparse.Namespace) -> int:
    from ..audio.player import Player
    from ..audio.threads.priority import BOX, realtime
    from ..control.keyboard import HELP, QUIT, Keys, command_for
    from ..ui.status import status_line
    from ..vocab import commands as c
    from ..vocab.state import TransportState

    config = config_of(args)
    problems = Problems()
    target = show_target(args.target, config)
    player = Player.open(target, config, problems, device=args.device)
    report(problems)
    if player is None:
        return 1
    realtime(BOX)       # this thread and the ones it starts share the GIL with the audio
    keys = Keys()
    tty = sys.stdout.isatty()
    if tty:
        print(HELP, file=sys.stderr)
    player.send(c.Play())
    player.start()
    try:
        if not _device_opened(player, "play"):
            return 2
        while True:
            key = keys.get(0.1)
            state = player.state
            if key == QUIT:
                break
            if key:
                cmd = command_for(key, state)
                if cmd:
                    player.send(cmd)
            if tty:
                sys.stdout.write("\r\033[K" + status_line(state, config.rate)[:200])
                sys.stdout.flush()
            if keys.closed and state.songs_ended and state.transport == TransportState.STOPPED:
                break            # not on a terminal: play the show once, then exit
    finally:
        keys.restore()
        player.stop()
        if tty:
            sys.stdout.write("\n")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    import dataclasses
    import time
    from ..audio.player import Player
    from ..audio.threads.priority import BOX, realtime
    from ..control.keyboard import QUIT, Keys
    from ..ui.status import record_line
    from ..vocab import commands as c
    from ..vocab.state import TransportState

    config = config_of(args)
    if args.inputs:
        named = {ch: name for name, ch in config.inputs.items()}
        inputs = {named.get(n, f"in{n}"): n for n in args.inputs}
        config = dataclasses.replace(config, inputs=inputs,
                                     input_channels=max(config.input_channels, *args.inputs))
    if not config.inputs:
        print("backline record: no inputs: give --inputs 1,2,... or [inputs] in the config",
              file=sys.stderr)
        return 1
    problems = Problems()
    target = song_dir(args.song, config) if args.song else DEMO_SONG   # the engine needs a
    player = Player.open(target, config, problems, device=args.device)  # show; free takes
    report(problems)                                                    # leave it unplayed
    if player is None:
        return 1
    if args.song:
        player.send(c.RecordArm(True))
        player.send(c.Play())
    else:
        player.send(c.Record(True, frames=round(args.seconds * config.rate) if args.seconds else 0))
    realtime(BOX)
    keys = Keys()
    tty = sys.stdout.isatty()

    def song_plays(s) -> bool:
        return bool(args.song) and s.transport != TransportState.STOPPED and not s.songs_ended

    player.start()
    said = -1
    try:
        if not _device_opened(player, "record"):
            return 2
        while not player.writer.closed or song_plays(player.state):
            key = keys.get(0.1)
            s = player.state
            if key == QUIT or (not args.song and keys.closed and not args.seconds):
                player.send(c.Record(False) if not args.song else c.Stop())
            if s.record.problem and not s.record.running and not player.writer.take \
                    and not song_plays(s):      # a take that failed: the song plays on
                break
            if tty:
                line = record_line(s.record, player.recorder.take_peaks(), config.inputs)
                if s.problem:            # the device that does not open, while it is retried
                    line += f"  {s.problem}"
                sys.stdout.write("\r\033[K" + line[:200])
                sys.stdout.flush()
            elif s.record.running and int(s.record.seconds) != said:   # a pipe: a line a second
                said = int(s.record.seconds)
                print(f"recording {s.record.seconds:.1f} s", flush=True)
    except KeyboardInterrupt:
        player.send(c.Record(False) if not args.song else c.Stop())
        deadline = time.monotonic() + 5
        while not player.writer.closed and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        keys.restore()
        player.stop()
    if tty:
        sys.stdout.write("\n")
    s = player.state
    for folder in player.writer.closed:
        print(f"take: {folder}")
    if s.record.problem:
        print(f"backline record: {s.record.problem}", file=sys.stderr)
        return 1
    return 0 if player.writer.closed else 1


def cmd_calibrate(args: argparse.Namespace) -> int:
    from ..audio.calibrate import measure, store_latency

    config = config_of(args)
    frames = measure(config, args.input, device=args.device)
    print(f"round trip: {frames} frames ({frames / config.rate * 1000:.2f} ms) from the outputs "
          f"to input {args.input}")
    path = config.learned                    # read after the config; the box can write it
    try:
        store_latency(path, frames)
    except (OSError, UnicodeError) as exc:
        print(f"{path}: cannot store it ({exc}); put `latency = {frames}` under [recording]",
              file=sys.stderr)
        return 1
    print(f"{path}: [recording] latency = {frames}")
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    from ..audio.record.takes import recover

    folder = Path(args.folder) if args.folder else config_of(args).recordings
    said = recover(folder)
    for line in said:
        print(line)
    if not said:
        print(f"{folder}: no unfinished takes")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from ..service.daemon import Daemon, install_signals
    from ..service.logs import log, setup_logging

    setup_logging()
    try:
        config = config_of(args)
    except BacklineError as exc:
        for problem in exc.problems:
            log.error("%s", problem)
        return 1
    target = show_target(args.target, config) if args.target else None
    if args.sim:
        from ..sim.session import run_sim
        return run_sim(config, folder=Path(args.sim_dir), target=target, device=args.device,
                       state_path=Path(args.state) if args.state else None, wav=args.sim_wav,
                       reload=lambda: config_of(args),
                       socket_path=Path(args.socket) if args.socket else None)
    from ..control.remote_socket import default_path
    state = Path(args.state or DAEMON_STATE)
    daemon = Daemon(config, state_path=state, device=args.device,
                    target=target, power_off=_power_off, reload=lambda: config_of(args),
                    socket_path=Path(args.socket) if args.socket else default_path(state))
    install_signals(daemon)
    return daemon.run()


def cmd_wiring(args: argparse.Namespace) -> int:
    from ..control.header import wiring_text
    from ..sim.session import BUILD, sim_controls

    config = config_of(args)
    controls = sim_controls(config)
    if controls is not config.controls:
        print(f"the config has no front panel; this is the stomp4 build ({BUILD.name}):")
    print(wiring_text(controls), end="")
    return 0


def _power_off() -> None:
    """The menu's "Shut down": ask systemd (logind) to power the box off."""
    import subprocess
    from ..service.logs import log
    r = subprocess.run(["systemctl", "poweroff"], capture_output=True, text=True)
    if r.returncode:
        log.error("systemctl poweroff: %s", r.stderr.strip() or f"exit {r.returncode}")


def add_commands(sub: argparse._SubParsersAction, with_config: WithConfig) -> None:
    pl = with_config(sub.add_parser("play", help="play a song or setlist through ALSA, "
                                                   "with keys for the transport"))
    pl.add_argument("target", help="song folder, song name, or setlist file")
    pl.add_argument("--device", help="ALSA device (default: the config's)")
    pl.set_defaults(func=cmd_play)

    rn = with_config(sub.add_parser("run", help="the daemon: play, serve the controls, "
                                                "talk to systemd"))
    rn.add_argument("target", nargs="?", help="song or setlist (default: where it was, or the "
                                              "library's first setlist)")
    rn.add_argument("--device", help="ALSA device (default: the config's)")
    rn.add_argument("--state", help="where the daemon keeps its place between restarts "
                                    f"(default: {DAEMON_STATE}; with --sim, in the sim folder)")
    rn.add_argument("--socket", metavar="PATH",
                    help="the control socket (docs/remote.md; default: control.sock in "
                         "$RUNTIME_DIRECTORY, else beside the state; with --sim, in the sim folder)")
    rn.add_argument("--sim", action="store_true",
                    help="the front panel on this machine: keys for switches and encoders, "
                         "the display in the terminal, audio to the sound card or a WAV file")
    rn.add_argument("--sim-wav", action="store_true",
                    help="with --sim: the audio into a WAV file at real-time pace, even when "
                         "there is a sound card")
    rn.add_argument("--sim-dir", default="backline-sim", metavar="DIR",
                    help="where --sim keeps its screen PNGs, audio, log and state "
                         "(default: ./backline-sim)")
    rn.set_defaults(func=cmd_run)

    rc = with_config(sub.add_parser("record", help="record the inputs, free or following a song"))
    rc.add_argument("--inputs", type=channels, metavar="1,2,...",
                    help="device input channels to record (default: the config's [inputs])")
    rc.add_argument("--song", help="play this song and record a take that follows it")
    rc.add_argument("--seconds", type=positive_float, help="stop after this long (free takes)")
    rc.add_argument("--device", help="ALSA device (default: the config's)")
    rc.set_defaults(func=cmd_record)

    cb = with_config(sub.add_parser("calibrate", help="measure the round trip through a loopback "
                                                      "cable and store it as the recording latency"))
    cb.add_argument("--input", type=int, default=1, help="the input the cable goes to (default 1)")
    cb.add_argument("--device", help="ALSA device (default: the config's)")
    cb.set_defaults(func=cmd_calibrate)

    rv = with_config(sub.add_parser("recover", help="repair takes a power cut or crash left"))
    rv.add_argument("folder", nargs="?", help="recordings folder (default: the config's)")
    rv.set_defaults(func=cmd_recover)

    w = with_config(sub.add_parser("wiring", help="the front panel's wiring on the 40-pin header"))
    w.set_defaults(func=cmd_wiring)
