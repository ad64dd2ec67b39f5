"""`backline run --sim`: the daemon as it runs on the box, with the front panel on the
desk. Pins are gpiozero's MockFactory driven by keys, the display is drawn in the terminal,
the audio goes to the sound card or (with none) to a WAV file at real-time pace.
A character LCD in the config is drawn as one, through RPLCD's own protocol."""
from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..config import Config
from ..config.layout import Controls, read_controls
from ..control.keyboard import Keys
from ..control.remote_socket import SOCKET_NAME
from ..errors import BacklineError, Problems
from ..tomlfields import Table, load_toml
from ..ui.display import PixelScreen, TextScreen
from .audio import SimAudio
from .hands import Hands
from .keymap import PNG_KEY, QUIT_KEY, key_map
from .lcd import TerminalLcd
from .screen import Terminal, TerminalScreen

# hw/ is shipped inside the package (appliance/hw links to it): the same path in a checkout,
# an editable install and an installed wheel.
BUILD = Path(__file__).resolve().parents[1] / "hw" / "builds" / "stomp4.toml"
SIM_KEEPS = ("rate", "period", "periods", "channels", "format")   # what JACK was started with


def sim_controls(config: Config, build: Path = BUILD) -> Controls:
    """The config's front panel, or (it has none) the documented stomp4 build, checked
    against the config's HAT like any panel."""
    if config.controls.switches or config.controls.encoders:
        return config.controls
    problems = Problems()
    data = load_toml(build, problems)
    if data is not None:
        if config.controls.hat_pins:
            data["hat"] = {"name": config.controls.hat, "pins": list(config.controls.hat_pins)}
        top = Table(data, file=build, where="", problems=problems)
        controls = read_controls(top, tuple(config.outputs))
        top.finish()
    if problems.errors:
        raise BacklineError(problems.errors[0])
    return controls


class _ToTerminal(logging.Handler):
    def __init__(self, terminal: Terminal) -> None:
        super().__init__()
        self.terminal = terminal
        self.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.terminal.note(self.format(record)[:200])


def run_sim(config: Config, *, folder: Path, target: Path | None, device: str | None,
            state_path: Path | None, wav: bool = False,
            reload: Callable[[], Config] | None = None,
            socket_path: Path | None = None) -> int:
    """`reload` reads the config again on SIGHUP; the desk's panel and the audio the sim
    set up (JACK's rate, period and channels) stay as they started. The control socket
    is `socket_path`, else `control.sock` in the sim folder."""
    from gpiozero.pins.mock import MockFactory

    from ..service.daemon import Daemon, install_signals
    from ..service.logs import log, setup_logging

    folder.mkdir(parents=True, exist_ok=True)
    log_file = (folder / "backline.log").open("a")
    setup_logging()
    log.handlers[:] = [logging.StreamHandler(log_file)]
    os.dup2(log_file.fileno(), 2)              # ALSA's and JACK's own lines too, off the screen
    try:
        config = replace(config, controls=sim_controls(config))
        audio = SimAudio(config, folder, device, wav=wav)
    except BacklineError as exc:
        print(f"backline run --sim: {exc}", file=sys.stdout)
        return 1
    factory = MockFactory()
    keys = key_map(audio.config.controls, Hands(factory))
    terminal = Terminal(sys.stdout, legend=[*keys.legend, audio.where])
    spec = audio.config.controls.display
    face: TerminalScreen | TerminalLcd
    if spec.kind == "hd44780":
        face = TerminalLcd(terminal, cols=spec.cols, rows=spec.rows)
        screen: PixelScreen | TextScreen = TextScreen(face)
    else:
        face = TerminalScreen(terminal)
        screen = PixelScreen(face)
    log.handlers[:] = [_ToTerminal(terminal), logging.StreamHandler(log_file)]

    def reload_sim() -> Config:
        fresh = reload()
        return replace(fresh, controls=audio.config.controls, **{
            name: getattr(audio.config, name) for name in SIM_KEEPS})

    daemon = Daemon(audio.config, state_path=state_path or folder / "state.json",
                    target=target, device=audio.device, pin_factory=factory, display=screen,
                    reload=reload_sim if reload else None,
                    socket_path=socket_path or folder / SOCKET_NAME)
    install_signals(daemon)
    reader = Keys()

    def press_keys() -> None:
        while True:
            key = reader.get(0.1)
            if key == QUIT_KEY or (key is None and reader.closed):
                daemon.request_stop()
                return
            if key == PNG_KEY:
                path = terminal.save_png(face.picture(), folder)
                if path is not None:
                    log.info("screen saved as %s", path)
            elif key in keys.actions:
                keys.actions[key]()

    threading.Thread(target=press_keys, name="backline-sim-keys", daemon=True).start()
    sys.stdout.write("\033[2J")
    try:
        code = daemon.run()
    finally:
        reader.restore()
        audio.close()
        factory.reset()
    print(audio.where if audio.wav is None else f"the audio is in {audio.wav}")
    return code
