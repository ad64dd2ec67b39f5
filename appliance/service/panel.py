"""The front panel's switchboard: gestures, encoder turns, keys and MIDI become
commands, and each command goes where it belongs.

Which command a gesture means depends on the mode: *menu* while the menu is open,
else *perform*; a gesture the menu mode leaves unmapped keeps its perform meaning,
so play/stop works from anywhere. Engine commands go to `send` (the engine's
queue), menu commands to the menu, the box's own (c.BOX_COMMANDS: a show, the power,
the display, MIDI learn, the web remote's pairing) to `box` (the daemon).
Callers are the GPIO thread, the gesture timer, the keyboard and MIDI: a lock
keeps the menu whole; nothing here blocks.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from ..config.layout import Controls
from ..ui.menu import Menu, MenuView
from ..vocab import commands as c
from ..vocab import names
from ..vocab.state import State
from .remote_pairing import RemotePairing

PERFORM, MENU = "perform", "menu"
_MENU_COMMANDS = (c.OpenMenu, c.MenuMove, c.MenuSelect, c.MenuBack)


class Panel:
    def __init__(self, controls: Controls, *, send: Callable[[c.Command], None],
                 box: Callable[[c.Command], None], songs: Callable[[], list[str]],
                 setlists: Callable[[], list[Path]], outputs: tuple[str, ...],
                 midi_trigger: Callable[[c.Command], str] | None = None,
                 pairing: RemotePairing | None = None) -> None:
        """`pairing`: the web remote's pairing files, for the menu's Remote page."""
        self.controls = controls
        self.menu = Menu(self.command, songs=songs, setlists=setlists, outputs=outputs,
                         db_per_step=controls.db_per_step, midi_trigger=midi_trigger,
                         paired=pairing.paired if pairing else None,
                         pairing_code=(lambda: pairing.code) if pairing else str)
        self._send = send
        self._box = box
        self._lock = threading.Lock()
        self._gestures: dict[str, dict[str, dict[str, c.Command]]] = {
            s.name: s.modes for s in controls.switches}
        self._gestures.update({e.name: e.modes for e in controls.encoders})
        self._gestures.update({combo.name: {PERFORM: {"press": combo.command}}
                               for combo in controls.combos})
        self._turns = {e.name: e.turn for e in controls.encoders}

    @property
    def mode(self) -> str:
        return MENU if self.menu.is_open else PERFORM

    def gesture(self, source: str, gesture: str) -> None:
        modes = self._gestures.get(source, {})
        cmd = modes.get(self.mode, {}).get(gesture) or modes.get(PERFORM, {}).get(gesture)
        if cmd is not None:
            self.command(cmd)

    def turn(self, name: str, steps: int) -> None:
        targets = self._turns.get(name, {})
        target = targets.get(self.mode) or targets.get(PERFORM)
        if target:
            for cmd in names.turn_command(target, steps, db_per_step=self.controls.db_per_step):
                self.command(cmd)

    def command(self, cmd: c.Command) -> None:
        if isinstance(cmd, _MENU_COMMANDS):
            with self._lock:
                self.menu.apply(cmd)
        elif isinstance(cmd, c.BOX_COMMANDS):
            self._box(cmd)
        else:
            self._send(cmd)

    def view(self, state: State) -> MenuView | None:
        """The menu as a screen draws it (None: the performance screen)."""
        with self._lock:
            self.menu.see(state)
            return self.menu.view()
