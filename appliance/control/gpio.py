"""Footswitches, encoders and LEDs on the 40-pin header, through gpiozero.

The pin factory is gpiozero's own choice (lgpio on a Pi; `GPIOZERO_PIN_FACTORY=mock`
or `pin_factory=MockFactory()` in tests and the simulator). Switch edges go through
`Gestures` (our own debounce, so mock pins and real ones behave alike) and come out
as `on_gesture(source, gesture)`; encoder detents as `on_turn(name, steps)`. Both are
called on the GPIO library's thread or the gesture timer's: the receiver only
queues a command.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from gpiozero import LED, Button, RotaryEncoder

from ..config.layout import Controls
from ..vocab.state import Health, State, TransportState
from .gestures import Gestures

BEAT_LIGHT = 0.25     # the tempo LED is lit for this first part of each beat
ARMED_BLINK = 16384   # output frames per half blink of an armed record LED (~3 Hz at 48 kHz)


class Footswitches:
    """The switches, encoder buttons and encoders of a `Controls`, feeding callbacks."""

    def __init__(self, controls: Controls, *, on_gesture: Callable[[str, str], None],
                 on_turn: Callable[[str, int], None], pin_factory=None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._on_gesture = on_gesture
        self._on_turn = on_turn
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._closed = False
        wants: dict[str, set[str]] = {}
        for sw in controls.switches:
            wants[sw.name] = {g for mode in sw.modes.values() for g in mode}
        for enc in controls.encoders:
            if enc.button is not None:
                wants[enc.name] = {g for mode in enc.modes.values() for g in mode}
        for sw in controls.switches:        # a release ends a hold: a hold must be timed
            if "release" in wants[sw.name]:
                wants[sw.name].add("hold")
        self.gestures = Gestures(wants, [c.switches for c in controls.combos],
                                 timing=controls.timing)
        self.devices: list = []
        try:
            for sw in controls.switches:
                self._button(sw.name, sw.pin, pin_factory)
            for enc in controls.encoders:
                if enc.button is not None:
                    self._button(enc.name, enc.button, pin_factory)
                self._encoder(enc.name, enc.a, enc.b, pin_factory)
        except Exception:
            self.close()
            raise
        self._thread = threading.Thread(target=self._timer, name="backline-switches",
                                        daemon=True)
        self._thread.start()

    def _button(self, name: str, pin: int, factory) -> None:
        # bounce_time=None: every edge reaches Gestures, which debounces the same way on any pin
        button = Button(pin, pull_up=True, bounce_time=None, pin_factory=factory)
        button.when_pressed = lambda: self._edge(name, True)
        button.when_released = lambda: self._edge(name, False)
        self.devices.append(button)

    def _encoder(self, name: str, a: int, b: int, factory) -> None:
        enc = RotaryEncoder(a, b, max_steps=0, pin_factory=factory)
        last = [0]

        def rotated() -> None:
            steps = enc.steps                 # the count, not the callbacks: no step is lost
            delta, last[0] = steps - last[0], steps
            if delta:
                self._on_turn(name, delta)
        enc.when_rotated = rotated
        self.devices.append(enc)

    def _edge(self, name: str, down: bool) -> None:
        with self._lock:
            done = self.gestures.edge(name, down, self._clock())
            self._wake.notify()
        for source, gesture in done:
            self._on_gesture(source, gesture)

    def _timer(self) -> None:
        """Fires what is due by time: holds, presses held back for a double or a combo."""
        while True:
            with self._lock:
                if self._closed:
                    return
                wait = self.gestures.due() - self._clock()
                if wait > 0:
                    self._wake.wait(min(wait, 1.0))
                    continue
                done = self.gestures.tick(self._clock())
            for source, gesture in done:
                self._on_gesture(source, gesture)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wake.notify()
        for device in self.devices:
            device.close()


class Lights:
    """LEDs that show the state: the tempo flashing on the beat, an alert when unhealthy."""

    def __init__(self, controls: Controls, *, pin_factory=None) -> None:
        self.leds: list[tuple[str, LED]] = []
        try:
            for spec in controls.leds:
                self.leds.append((spec.shows, LED(spec.pin, pin_factory=pin_factory)))
        except Exception:
            self.close()
            raise

    def show(self, s: State) -> None:
        """Called by the display thread with each snapshot it reads."""
        for shows, led in self.leds:
            led.value = lit(shows, s)

    def close(self) -> None:
        for _, led in self.leds:
            led.close()


def lit(shows: str, s: State) -> bool:
    if shows == "beat":
        return s.transport in (TransportState.PLAYING, TransportState.COUNT_IN) and s.beat_phase < BEAT_LIGHT
    if shows == "record":      # steady while a take runs; blinking while armed to follow play
        return s.record.running or (s.record.follow and s.output_frame // ARMED_BLINK % 2 == 0)
    return s.health != Health.HEALTHY or bool(s.failed_stems or s.problem or s.record.problem)
