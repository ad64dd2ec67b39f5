"""The front panel of the running box: footswitches, encoders, LEDs and the display,
built from the config. A part whose hardware is absent or broken is logged, naming
the config field, and left out; the rest of the box plays on."""
from __future__ import annotations

from typing import Callable

from ..config import Config
from ..errors import BacklineError
from ..timeline.library import Library
from ..vocab import commands as c
from ..vocab.state import State
from .logs import log
from .panel import Panel
from .remote_pairing import RemotePairing


class FrontPanel:
    def __init__(self, config: Config, *, send: Callable[[c.Command], None],
                 box: Callable[[c.Command], None], state: Callable[[], State],
                 songs: Callable[[], list[str]], pin_factory=None, display=None,
                 midi_trigger: Callable[[c.Command], str] | None = None,
                 pairing: RemotePairing | None = None) -> None:
        """`pin_factory` and `display` (a PixelScreen or TextScreen) stand in for the
        header's pins and the configured display: the simulator's, a test's."""
        controls = config.controls
        self.panel = Panel(controls, send=send, box=box, songs=songs,
                           setlists=Library(config.library).setlist_paths,
                           outputs=tuple(config.outputs), midi_trigger=midi_trigger,
                           pairing=pairing)
        self.switches = self.lights = self.display = None
        where = config.path or "config"
        if controls.switches or controls.encoders:
            try:
                from ..control.gpio import Footswitches
                self.switches = Footswitches(controls, on_gesture=self.panel.gesture,
                                             on_turn=self.panel.turn, pin_factory=pin_factory)
            except Exception as exc:        # gpiozero: no pin library, pin busy, not a Pi
                log.error("%s: footswitches and encoders left out: %s", where, exc)
        if controls.leds:
            try:
                from ..control.gpio import Lights
                self.lights = Lights(controls, pin_factory=pin_factory)
            except Exception as exc:
                log.error("%s: LEDs left out: %s", where, exc)
        screen = display
        if screen is None and controls.display.kind != "none":
            try:
                from ..ui.display import open_display
                screen = open_display(controls.display, config.path)
            except BacklineError as exc:
                log.error("%s; the box plays on without it", exc)
        if screen is not None or self.lights is not None:    # the thread drives both
            from ..ui.display import Display
            self.display = Display(screen, state=state, menu=self.panel.view, rate=config.rate,
                                   fps=controls.display.fps, lights=self.lights)
            self.display.start()

    def close(self) -> None:
        for part in (self.display, self.switches, self.lights):
            if part is not None:
                part.close()
