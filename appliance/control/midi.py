"""MIDI ports, through mido: the config's inputs and outputs found by a part of their
name, and found again when a controller is unplugged and plugged back in.

The backend is mido's own choice (`MIDO_BACKEND`: python-rtmidi on the box; tests use
a backend module of mido port subclasses). Incoming messages arrive on the backend's
thread and only become commands (`MidiMap`) queued for the engine. A port that is not
there is said once, and looked for again every RESCAN_S.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

import mido

from ..config.midi_map import MidiMap, MidiRule, MidiSpec, learned
from ..lifetime import Lifetime
from ..vocab.commands import Command

RESCAN_S = 2.0
log = logging.getLogger("backline")


def matches(pattern: str, name: str) -> bool:
    return pattern == "*" or pattern.lower() in name.lower()


class MidiPorts(threading.Thread, Lifetime, ends="close"):
    """Keeps the wanted ports open; `outputs` is what is open for sending now.
    `with MidiPorts(...) as ports:` does not start the looking thread (`start()`, or
    `scan()` by hand); leaving the block closes every port it opened."""

    def __init__(self, spec: MidiSpec, *, send: Callable[[Command], None],
                 backend: mido.Backend | None = None,
                 on_learned: Callable[[MidiRule, str], None] = lambda rule, text: None) -> None:
        super().__init__(name="backline-midi-ports", daemon=True)
        self.spec = spec
        self.map = MidiMap(spec)
        self._send = send
        self.learning = ""               # a command name: the next pedal pressed will send it
        self._on_learned = on_learned
        self.backend = backend or mido.Backend()
        self.inputs: dict[str, object] = {}
        self.outputs: dict[str, object] = {}
        self._said: set[str] = set()
        self._halt = threading.Event()

    def run(self) -> None:
        while True:
            try:
                self.scan()
            except Exception as exc:        # never let one bad scan end the looking
                self._say("scan", f"MIDI ports could not be listed: {exc}")
            if self._halt.wait(RESCAN_S):
                return

    def scan(self) -> None:
        """Open wanted ports that appeared; close the ones that went away."""
        try:
            ins, outs = self.backend.get_input_names(), self.backend.get_output_names()
        except Exception as exc:            # no MIDI system at all (no ALSA sequencer ...)
            self._say("midi", f"MIDI is not available: {exc}")
            return
        self._keep(self.inputs, ins, self.spec.inputs, "in")
        self._keep(self.outputs, outs, self.spec.outputs, "out")

    def _keep(self, open_: dict, names: list[str], wanted: tuple[str, ...], way: str) -> None:
        for name in [n for n in list(open_) if n not in names]:   # (send() may drop one too)
            log.warning("MIDI %s %r went away; looking for it again", way, name)
            self._close(open_.pop(name))
        for pattern in wanted:
            found = [n for n in names if matches(pattern, n)]
            if not found:
                self._say(f"{way}:{pattern}", f"MIDI {way} {pattern!r}: no such port "
                          f"(ports: {', '.join(names) or 'none'}); looking for it")
                continue
            self._said.discard(f"{way}:{pattern}")
            for name in found:
                if name not in open_:
                    self._open(open_, name, way)

    def _open(self, open_: dict, name: str, way: str) -> None:
        try:
            if way == "in":
                port = self.backend.open_input(name, callback=self._receiver(name))
            else:
                port = self.backend.open_output(name)
        except Exception as exc:            # rtmidi and the OS have their own errors
            self._say(f"open:{name}", f"MIDI {way} {name!r} cannot be opened: {exc}")
            return
        self._said.discard(f"open:{name}")
        open_[name] = port
        log.info("MIDI %s %r open", way, name)

    def _receiver(self, name: str) -> Callable:
        def receive(msg) -> None:
            try:
                text = self.learning
                rule = learned(msg, text) if text else None
                if rule is not None:
                    self.learning = ""
                    self.map.add(rule)
                    self._on_learned(rule, text)
                    return
                for cmd in self.map.commands(msg):
                    self._send(cmd)
            except Exception as exc:        # never let one message take the port down
                self._say(f"msg:{name}", f"MIDI in {name!r}: {msg!r} ignored: {exc}")
        return receive

    def _say(self, key: str, text: str) -> None:
        if key not in self._said:
            self._said.add(key)
            log.warning("%s", text)

    @staticmethod
    def _close(port) -> None:
        try:
            port.close()
        except Exception:                   # a port whose device is gone may fail to close
            pass

    def send(self, msg) -> None:
        """To every open output; one that fails is closed and looked for again."""
        for name, port in list(self.outputs.items()):
            try:
                port.send(msg)
            except Exception as exc:
                self._say(f"send:{name}", f"MIDI out {name!r} failed: {exc}")
                self.outputs.pop(name, None)
                self._close(port)

    def close(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(5)
        for port in [*self.inputs.values(), *self.outputs.values()]:
            self._close(port)
        self.inputs.clear()
        self.outputs.clear()
