"""backline: the command line. Each command returns an exit code; bad input is
one line per problem on stderr, never a traceback."""
from __future__ import annotations

import argparse
import os
import sys
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .config import DEMO_LIBRARY, Config, load_config
from .errors import BacklineError, Problems, not_a_file
from .timeline.library import Library
from .timeline.song import MAX_FACTOR, MAX_TRANSPOSE, MIN_FACTOR, SONG_FILE
from .ui.progress import terminal_progress

if TYPE_CHECKING:
    from .audio.player import Player
    from .timeline.beatmap import BeatMap

RENDER_BLOCK = 4096
OPEN_S = 3.0        # without a terminal, how long `play` and `record` try to open the device
DAEMON_STATE = "/var/lib/backline/state.json"
DEMO_SONG = DEMO_LIBRARY / "songs" / "demo"


def _report(problems: Problems) -> None:
    for p in problems:
        print(p, file=sys.stderr)


def _config(args: argparse.Namespace) -> Config:
    return load_config(getattr(args, "config", None))


def _in_libraries(config: Config, place: Callable[[Library], Path]) -> Path | None:
    """The first `place` that exists: in the configured library, then in the bundled demo's
    (so `demo` is always found, and a library's own `demo` wins)."""
    for library in (Library(config.library), Library(DEMO_LIBRARY)):
        if place(library).exists():
            return place(library)
    return None


def _song_dir(text: str, config: Config) -> Path:
    """A song folder, or the name of a song in a library."""
    path = Path(text)
    if (path / SONG_FILE).is_file() or path.exists():
        return path
    found = _in_libraries(config, lambda library: library.song_dir(text) / SONG_FILE)
    return found.parent if found else path


def _show_target(text: str, config: Config) -> Path:
    """What `play` and `run` take: a song folder or name, a setlist file or name."""
    path = _song_dir(text, config)
    if path.exists():
        return path
    return _in_libraries(config, lambda library: library.setlist_path(text)) or path


def _device_opened(player: Player, command: str) -> bool:
    """On a terminal the status line shows why the device does not open while the engine
    keeps trying. Without one nobody would see it: give it OPEN_S, then say why."""
    import time
    from .vocab.state import Health

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


def _caught(limiter) -> list[str]:
    """What the safety limiter caught, one line per output that it turned down."""
    return [f"limiter: {name}: {n} frames turned down, by up to {-db:.1f} dB"
            for name, n, db in limiter.caught_by_output() if n]


def cmd_render(args: argparse.Namespace) -> int:
    from .audio.disk.loaded import load
    from .audio.mix.limiter import for_config
    from .audio.render import RenderRange, RenderWriteError, render, song_range

    config = _config(args)
    if (args.tempo is not None or args.transpose is not None) and \
            _prepare(_song_dir(args.song, config), config, args.tempo, args.transpose) != 0:
        return 1
    problems = Problems()
    loaded = load(_song_dir(args.song, config), config, problems, block=RENDER_BLOCK,
                  progress=terminal_progress, tempo=args.tempo, transpose=args.transpose)
    _report(problems)
    if loaded is None:
        return 1
    r = RenderRange(args.start_bar, args.bars, args.seconds, not args.no_count_in)
    try:
        first, end = song_range(loaded, r)
    except ValueError as exc:
        print(f"{args.song}: --from: {exc}", file=sys.stderr)
        return 1
    total = end - first
    limiter = for_config(config, RENDER_BLOCK)
    try:
        done = render(loaded, Path(args.output), r, fmt=args.format, limiter=limiter,
                      progress=terminal_progress(f"rendering {loaded.song.title}", total))
    except RenderWriteError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        loaded.close()
    print(f"{args.output}: {done.frames} frames, {done.frames / config.rate:.3f} s, "
          f"{config.channels} channels at {config.rate} Hz", file=sys.stderr)
    if limiter is None:
        print("limiter: off ([limiter] on = false in the config)", file=sys.stderr)
    else:
        for line in _caught(limiter) or [f"limiter: nothing reached its ceiling "
                                         f"({config.ceiling_db:g} dBTP)"]:
            print(line, file=sys.stderr)
    if done.clipped:
        print(f"{args.output}: {done.clipped} samples beyond full scale were clipped",
              file=sys.stderr)
    silent = loaded.stem_problems()       # the file is kept, but a musician must know
    for line in silent:
        print(f"{args.output}: {line}", file=sys.stderr)
    return 1 if silent else 0


def cmd_prepare(args: argparse.Namespace) -> int:
    """A song made ready ahead of time: its stems at its key and tempo (or those given),
    then its loudness measured and stored beside song.toml."""
    from .songs.loudness import prepare

    config = _config(args)
    folder = _song_dir(args.song, config)
    if _prepare(folder, config, args.tempo, args.transpose, say=print) != 0:
        return 1
    level = prepare(folder, config, terminal_progress)
    print(f"{folder.name}: loudness: {level.describe()}")
    return 0


def _prepare(folder: Path, config: Config, tempo: Fraction | None,
             transpose: Fraction | None, say: Callable[[str], None] | None = None) -> int:
    """Make the song's missing variants at its key and tempo (or those given), with a
    progress bar on a terminal; 0, or 1 with what failed on stderr."""
    from .audio.disk.variants import asked, prepare_song
    from .timeline.song import load_song

    problems = Problems()
    song = load_song(folder, problems)
    _report(problems)
    if song is None:
        return 1
    song = song.at(song.tempo.factor if tempo is None else tempo,
                   song.transpose if transpose is None else transpose)
    if not asked(song):
        if say:
            say(f"{song.title}: nothing to prepare: it plays at its written key and tempo")
        return 0
    bar = terminal_progress(f"preparing {song.title} at {asked(song)}", 1000)
    failed = prepare_song(song, config, progress=lambda f: bar(round(f * 1000) - bar.done))
    _report(failed)
    if failed:
        return 1
    if say:
        say(f"{song.title}: stems ready at {asked(song)}")
    return 0


def cmd_beats(args: argparse.Namespace) -> int:
    import itertools

    from .audio.disk.loaded import validate_song
    from .timeline import grid
    from .timeline.beatmap import BeatMap

    config = _config(args)
    problems = Problems()
    checked = validate_song(_song_dir(args.song, config), config, problems, tempo=args.tempo)
    _report(problems)
    if checked is None:
        return 1
    song, frames = checked.song, checked.frames
    rate = config.rate
    offset = 0
    rows: list = []
    if args.count_in and song.count_in_bars:
        ci = grid.count_in(song, rate)
        rows.extend((b.bar, b.beat, b.frame, b.bpm, b.meter) for b in ci.beats)
        offset = ci.frames
    out = sys.stdout
    out.write("bar,beat,frame,seconds,bpm,numerator,denominator\n")
    beats = BeatMap(song.tempo, song.meters, rate, frames)
    for bar, beat, frame, bpm, meter in itertools.chain(rows, _song_beats(beats)):
        frame += offset if bar >= 1 else 0
        bpm = f"{float(bpm):.3f}".rstrip("0").rstrip(".")
        out.write(f"{bar},{beat},{frame},{frame / rate:.6f},{bpm},"
                  f"{meter.numerator},{meter.denominator}\n")
    return 0


def _check_mix(folder: Path, config: Config, problems: Problems) -> None:
    """`check --deep`: the song mixed as `render` would, every stem decoded in full, through
    the safety limiter writing nowhere; a warning per output it would turn down."""
    from .audio.disk.loaded import load
    from .audio.mix.limiter import for_config
    from .audio.render import analyse

    limiter = for_config(config, RENDER_BLOCK)
    loaded = load(folder, config, Problems(), block=RENDER_BLOCK)   # its problems: said above
    if loaded is None or limiter is None:
        return
    try:
        analyse(loaded, limiter)
    finally:
        loaded.close()
    for line in _caught(limiter):
        problems.warn(folder / SONG_FILE, "", f"mixed as render would: {line}")


def _song_beats(beats: "BeatMap", chunk: int = 65536):
    """(bar, beat, frame, bpm, meter) of every beat, a chunk of frames at a time."""
    from .timeline.meter import Meter
    for start in range(0, beats.count, chunk):
        for i, frame in enumerate(beats.frames(start, min(start + chunk, beats.count)).tolist(),
                                  start):
            bpm, meter = beats.tempo(i)
            yield (*beats.bar_beat(i), frame, bpm, Meter.parse(meter))


def cmd_check(args: argparse.Namespace) -> int:
    from .audio.disk.loaded import validate_song
    from .config import check_layout

    config = _config(args)
    path = Path(args.library)
    problems = Problems(config.warnings)        # what the config leaves out, first
    check_layout(config, problems)
    if os.path.lexists(path / SONG_FILE):      # a song folder, even if song.toml is a FIFO
        song_dirs = [path]
        setlists: list[Path] = []
        library = None
    elif path.is_dir():
        library = Library(path)
        songs_dir = library.songs_dir
        song_dirs = sorted(p for p in songs_dir.iterdir() if p.is_dir()) if songs_dir.is_dir() else []
        setlists = library.setlist_paths()
        if not song_dirs and not setlists:
            problems.error(path, "", "no songs/ or setlists/ here: not a Backline library")
    else:
        problems.error(path, "", not_a_file(path, "no such folder")
                       or "is a file, not a library or a song folder")
        song_dirs, setlists, library = [], [], None
    for folder in song_dirs:       # against the configured box, as render and play do
        playable = validate_song(folder, config, problems)
        if playable is not None and playable.level is not None:
            print(f"{folder.name}: loudness: {playable.level.describe()}")
        if playable is not None and args.deep:
            _decode_all(playable.song, playable.stems, problems)
            _check_mix(folder, config, problems)
    for setlist in setlists:
        library.setlist(setlist, problems)
    _report(problems)
    errors = len(problems.errors)
    print(f"checked {_count(len(song_dirs), 'song')} and {_count(len(setlists), 'setlist')}: "
          f"{errors} errors, {len(problems) - errors} warnings", file=sys.stderr)
    return 1 if errors else 0


def _decode_all(song, stems, problems: Problems) -> None:
    """`check --deep`: every stem decoded to its end, so damage mid-file is found now."""
    from .audio.disk.stems import decode_errors

    for info in stems:
        decode_errors(info, song.folder / SONG_FILE, problems)


def cmd_import(args: argparse.Namespace) -> int:
    """A DAW's stem export becomes a library song (appliance/songs/importer.py)."""
    from .songs.importer import import_folder
    from .ui.progress import Overall

    config = _config(args)
    result = import_folder(Path(args.folder), Path(args.library or config.library), config=config,
                           name=args.name, tempo_map=args.tempo_map and Path(args.tempo_map),
                           bpm=args.bpm, meter=args.meter, replace=args.replace,
                           dry_run=args.dry_run, progress=Overall())
    _report(result.problems)
    verb = "would import" if result.dry_run else "imported"
    print(f"{result.song_dir}: {verb} {_count(len(result.stems), 'stem')}; tempo: "
          f"{result.tempo_note}")
    for p in result.stems:
        print(f"  {p.entry.name!r} <- {p.source.name} ({p.entry.role.value}, "
              f"{p.info.channels} ch, {p.info.source_rate} Hz)")
    if result.level is not None:
        print(f"  loudness: {result.level.describe()}")
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    from .audio.player import Player
    from .audio.threads.priority import BOX, realtime
    from .control.keyboard import HELP, QUIT, Keys, command_for
    from .ui.status import status_line
    from .vocab import commands as c
    from .vocab.state import TransportState

    config = _config(args)
    problems = Problems()
    target = _show_target(args.target, config)
    player = Player.open(target, config, problems, device=args.device)
    _report(problems)
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
    from .audio.player import Player
    from .audio.threads.priority import BOX, realtime
    from .control.keyboard import QUIT, Keys
    from .ui.status import record_line
    from .vocab import commands as c
    from .vocab.state import TransportState

    config = _config(args)
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
    target = _song_dir(args.song, config) if args.song else DEMO_SONG   # the engine needs a
    player = Player.open(target, config, problems, device=args.device)  # show; free takes
    _report(problems)                                                    # leave it unplayed
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
    from .audio.calibrate import measure, store_latency

    config = _config(args)
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
    from .audio.record.takes import recover

    folder = Path(args.folder) if args.folder else _config(args).recordings
    said = recover(folder)
    for line in said:
        print(line)
    if not said:
        print(f"{folder}: no unfinished takes")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .service.daemon import Daemon, install_signals
    from .service.logs import log, setup_logging

    setup_logging()
    try:
        config = _config(args)
    except BacklineError as exc:
        for problem in exc.problems:
            log.error("%s", problem)
        return 1
    target = _show_target(args.target, config) if args.target else None
    if args.sim:
        from .sim.session import run_sim
        return run_sim(config, folder=Path(args.sim_dir), target=target, device=args.device,
                       state_path=Path(args.state) if args.state else None, wav=args.sim_wav,
                       reload=lambda: _config(args),
                       socket_path=Path(args.socket) if args.socket else None)
    from .control.remote import default_path
    state = Path(args.state or DAEMON_STATE)
    daemon = Daemon(config, state_path=state, device=args.device,
                    target=target, power_off=_power_off, reload=lambda: _config(args),
                    socket_path=Path(args.socket) if args.socket else default_path(state))
    install_signals(daemon)
    return daemon.run()


def cmd_wiring(args: argparse.Namespace) -> int:
    from .control.header import wiring_text
    from .sim.session import BUILD, sim_controls

    config = _config(args)
    controls = sim_controls(config)
    if controls is not config.controls:
        print(f"the config has no front panel; this is the stomp4 build ({BUILD.name}):")
    print(wiring_text(controls), end="")
    return 0


SYNC_NEEDS_WRITE = 4    # `sync`: takes wait for a read-only stick (mounted writable, run again)


def cmd_sync(args: argparse.Namespace) -> int:
    from .songs.sync import sync

    config = _config(args)
    tty = sys.stderr.isatty()

    def progress(p) -> None:
        if tty:
            sys.stderr.write("\r\033[K" + p.line()[:200] + ("" if p.file else "\n"))

    result = sync(Path(args.path), Path(args.library) if args.library else config.library,
                  config, dry_run=args.dry_run, progress=progress)
    _report(result.problems)
    for line in result.said:
        print(line)
    if result.problems.errors:
        return 1
    return SYNC_NEEDS_WRITE if result.export_blocked else 0


def _power_off() -> None:
    """The menu's "Shut down": ask systemd (logind) to power the box off."""
    import subprocess
    from .service.logs import log
    r = subprocess.run(["systemctl", "poweroff"], capture_output=True, text=True)
    if r.returncode:
        log.error("systemctl poweroff: %s", r.stderr.strip() or f"exit {r.returncode}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _channels(text: str) -> list[int]:
    try:
        chans = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"channel numbers from 1, like 1,2,5; not {text!r}")
    if not chans or min(chans) < 1 or max(chans) > 64:
        raise argparse.ArgumentTypeError(f"channel numbers from 1 to 64, not {text!r}")
    return chans


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def _ranged(low: Fraction, high: Fraction, what: str) -> Callable[[str], Fraction]:
    """An argparse type: an exact number (0.9, 9/10) from `low` to `high`."""
    def parse(text: str) -> Fraction:
        try:
            value = Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise argparse.ArgumentTypeError(f"must be {what} like 0.9, not {text!r}")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {float(low):g} to {float(high):g}, "
                                             f"not {text}")
        return value
    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="backline", description="Backline backing-track appliance")
    sub = p.add_subparsers(dest="command", required=True)

    def with_config(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sp.add_argument("--config", help="config file (default: $BACKLINE_CONFIG, "
                                         "/etc/backline/config.toml, or built-in defaults)")
        return sp

    r = with_config(sub.add_parser("render", help="render a song as the box would play it"))
    r.add_argument("song", help="song folder, or a song name in the library")
    r.add_argument("-o", "--output", required=True, help="WAV file to write")
    r.add_argument("--from", dest="start_bar", type=int, default=1, metavar="BAR")
    length = r.add_mutually_exclusive_group()
    length.add_argument("--bars", type=_positive_int)
    length.add_argument("--seconds", type=_positive_float)
    r.add_argument("--format", choices=("float", "24"), default="float",
                   help="float32 (default) or 24-bit")
    r.add_argument("--no-count-in", action="store_true", help="leave the count-in out")
    r.add_argument("--transpose", type=_ranged(-MAX_TRANSPOSE, MAX_TRANSPOSE, "semitones"),
                   metavar="N", help="semitones, instead of the song's (cents: -1.5)")
    r.add_argument("--tempo", type=_ranged(MIN_FACTOR, MAX_FACTOR, "a factor"), metavar="F",
                   help="tempo factor, instead of the song's (0.9: 10 %% slower)")
    r.set_defaults(func=cmd_render)

    pr = with_config(sub.add_parser("prepare", help="make a song's stems at its key and tempo "
                                                    "(or the given ones) and measure its "
                                                    "loudness, ahead of time"))
    pr.add_argument("song", help="song folder, or a song name in the library")
    pr.add_argument("--transpose", type=_ranged(-MAX_TRANSPOSE, MAX_TRANSPOSE, "semitones"),
                    metavar="N", help="semitones, instead of the song's (cents: -1.5)")
    pr.add_argument("--tempo", type=_ranged(MIN_FACTOR, MAX_FACTOR, "a factor"), metavar="F",
                    help="tempo factor, instead of the song's (0.9: 10 %% slower)")
    pr.set_defaults(func=cmd_prepare)

    b = with_config(sub.add_parser("beats", help="print every beat as CSV"))
    b.add_argument("song")
    b.add_argument("--count-in", action="store_true", help="start with the count-in")
    b.add_argument("--tempo", type=_ranged(MIN_FACTOR, MAX_FACTOR, "a factor"), metavar="F",
                   help="tempo factor, instead of the song's")
    b.set_defaults(func=cmd_beats)

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
    rc.add_argument("--inputs", type=_channels, metavar="1,2,...",
                    help="device input channels to record (default: the config's [inputs])")
    rc.add_argument("--song", help="play this song and record a take that follows it")
    rc.add_argument("--seconds", type=_positive_float, help="stop after this long (free takes)")
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

    c = with_config(sub.add_parser("check", help="validate every song and setlist of a library"))
    c.add_argument("library")
    c.add_argument("--deep", action="store_true",
                   help="also decode every stem to its end, and mix every song as render "
                        "would to say which outputs the safety limiter would turn down (slow)")
    c.set_defaults(func=cmd_check)

    im = with_config(sub.add_parser("import", help="make a library song of a folder of stems "
                                                   "as a DAW exports them"))
    im.add_argument("folder")
    im.add_argument("--library", help="the library (default: the config's)")
    im.add_argument("--name", help="the song's folder name (default: the folder's)")
    tempo = im.add_mutually_exclusive_group()
    tempo.add_argument("--tempo-map", metavar="FILE.mid", help="tempo, meters and markers")
    tempo.add_argument("--bpm", type=_positive_float, help="one tempo (quarter notes a minute)")
    im.add_argument("--meter", help="with --bpm or a click track (default 4/4)")
    im.add_argument("--replace", action="store_true",
                    help="start over: do not keep what was edited in the song's song.toml")
    im.add_argument("--dry-run", action="store_true", help="say what would be done, write nothing")
    im.set_defaults(func=cmd_import)

    sy = with_config(sub.add_parser("sync", help="bring a stick's (or folder's) backline/ songs "
                                                 "and setlists into the library"))
    sy.add_argument("path", help="the stick's mount point, or a folder holding backline/")
    sy.add_argument("--library", help="the library to sync into (default: the config's)")
    sy.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    sy.set_defaults(func=cmd_sync)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except BacklineError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:      # `backline beats song | head`
        sys.stderr.close()
        return 0
