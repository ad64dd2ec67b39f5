"""A foot and a hand on gpiozero's mock pins: taps, holds and encoder detents, the way
the real switches (active low, to ground) and quadrature encoders make them."""
from __future__ import annotations

import time

TAP_S = 0.03     # a tap's down and up each last longer than the 15 ms debounce (shorter is bounce)


class Hands:
    def __init__(self, factory) -> None:
        self.factory = factory
        self.down: set[int] = set()

    def tap(self, *pins: int) -> None:
        """A tap; several pins go down and up together (a two-switch combo)."""
        for pin in pins:
            self.factory.pin(pin).drive_low()
        time.sleep(TAP_S)
        for pin in pins:
            self.factory.pin(pin).drive_high()
            self.down.discard(pin)
        time.sleep(TAP_S)

    def toggle(self, pin: int) -> bool:
        """Put a switch down and leave it there (a hold), or let it back up. True: down."""
        if pin in self.down:
            self.factory.pin(pin).drive_high()
            self.down.discard(pin)
            return False
        self.factory.pin(pin).drive_low()
        self.down.add(pin)
        return True

    def turn(self, a: int, b: int, detents: int) -> None:
        """Detents of a quadrature encoder (active low): clockwise, a leads b."""
        first, second = (a, b) if detents > 0 else (b, a)
        for _ in range(abs(detents)):
            self.factory.pin(first).drive_low()
            self.factory.pin(second).drive_low()
            self.factory.pin(first).drive_high()
            self.factory.pin(second).drive_high()
