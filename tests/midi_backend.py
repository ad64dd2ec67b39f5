"""A mido backend module of port subclasses (MIDO_BACKEND=midi_backend): devices that can
be plugged and unplugged, inputs fed raw bytes through mido's own parser, outputs that
keep what was sent and when."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from mido.ports import BaseInput, BaseOutput

DEVICES: dict[str, "Device"] = {}


@dataclass
class Device:
    name: str
    inputs: list["Input"] = field(default_factory=list)
    sent: list[tuple[float, object]] = field(default_factory=list)   # (perf_counter, message)

    def feed(self, data: bytes) -> None:
        """Bytes from the controller's cable, to every open input of it."""
        for port in list(self.inputs):
            port.feed(data)


def plug(name: str) -> Device:
    DEVICES[name] = Device(name)
    return DEVICES[name]


def unplug(name: str) -> None:
    DEVICES.pop(name, None)


def reset() -> None:
    DEVICES.clear()


def get_devices(**kwargs) -> list[dict]:
    return [{"name": n, "is_input": True, "is_output": True} for n in DEVICES]


class Input(BaseInput):
    def _open(self, callback=None, **kwargs) -> None:
        if self.name not in DEVICES:
            raise OSError(f"unknown port {self.name!r}")
        self.callback = callback
        self.device = DEVICES[self.name]
        self.device.inputs.append(self)

    def feed(self, data: bytes) -> None:
        self._parser.feed(data)
        while self._messages:
            msg = self._messages.popleft()
            if self.callback:
                self.callback(msg)

    def _close(self) -> None:
        if self in self.device.inputs:
            self.device.inputs.remove(self)


class Output(BaseOutput):
    def _open(self, **kwargs) -> None:
        if self.name not in DEVICES:
            raise OSError(f"unknown port {self.name!r}")
        self.device = DEVICES[self.name]

    def _send(self, msg) -> None:
        self.device.sent.append((time.perf_counter(), msg))
