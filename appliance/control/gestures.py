"""Footswitch gestures from raw switch edges: press, double, hold, release (of a hold),
and two-switch combos, with a debounce that suits cheap stomp switches.

Pure logic with the clock passed in (`now`, seconds), so tests are exact and the
same code serves gpiozero pins, the simulator's keys and a bench. Edges go in
through `edge()`; `tick()` fires what is due by time (a hold, a press held back to
see whether a double follows); `due()` says when to call `tick()` next.

How a press is timed, by what else the switch has mapped:
- only `press`: fires on the down edge (the lowest latency: play/stop).
- also in a combo: fires `combo` seconds after the down edge, unless the partner
  goes down first (then the combo fires, and neither switch's own gestures).
- `hold` mapped: fires on release if released before the hold time, so a hold
  never also fires a press; `release` fires when a hold ends (vamp while held).
- `double` mapped: a single press fires `double` seconds after its release.
"""
from __future__ import annotations

from ..vocab.gestures import DOUBLE, HOLD, PRESS, RELEASE, Timing

_NEVER = float("inf")


class _Switch:
    def __init__(self, name: str, wants: frozenset[str], timing: Timing, in_combo: bool) -> None:
        self.name = name
        self.wants = wants
        self.t = timing
        self.in_combo = in_combo
        self.immediate = wants <= {PRESS} and not in_combo
        self.down = False
        self.raw = False               # the pin's last reported level
        self.quiet_until = -_NEVER     # debounce lock-out
        self.press_at = _NEVER         # a deferred press (combo window, double window)
        self.hold_at = _NEVER
        self.waiting_double = False    # released once; a second press makes a double
        self.held = False              # the hold fired: the release ends it
        self.spent = False             # this press already made its gesture (double, combo)

    def due(self) -> float:
        pending = self.quiet_until if self.raw != self.down else _NEVER
        return min(self.press_at, self.hold_at, pending)

    def accept(self, down: bool, now: float) -> list[str]:
        self.down = down
        self.quiet_until = now + self.t.debounce
        return self._pressed(now) if down else self._released(now)

    def _pressed(self, now: float) -> list[str]:
        if self.waiting_double:
            self.waiting_double, self.press_at, self.spent = False, _NEVER, True
            return [DOUBLE]
        self.spent = self.held = False
        if HOLD in self.wants:
            self.hold_at = now + self.t.hold
        if self.immediate:
            self.spent = True
            return [PRESS]
        if self.in_combo and self.wants <= {PRESS}:
            self.press_at = now + self.t.combo
        return []

    def _released(self, now: float) -> list[str]:
        self.hold_at = _NEVER
        if self.held:
            self.held = False
            return [RELEASE] if RELEASE in self.wants else []
        if self.spent:
            return []
        if self.press_at != _NEVER:        # released inside the combo window: press now
            self.press_at = _NEVER
            self.spent = True
            return [PRESS] if PRESS in self.wants else []
        if DOUBLE in self.wants:
            self.waiting_double = True
            self.press_at = now + self.t.double
            return []
        self.spent = True
        return [PRESS] if PRESS in self.wants else []

    def tick(self, now: float) -> list[str]:
        out: list[str] = []
        if self.raw != self.down and now >= self.quiet_until:
            out += self.accept(self.raw, now)
        if now >= self.press_at:
            self.press_at = _NEVER
            self.waiting_double = False
            self.spent = self.down
            if PRESS in self.wants:
                out.append(PRESS)
        if now >= self.hold_at and self.down:
            self.hold_at = _NEVER
            self.held = self.spent = True
            out.append(HOLD)
        return out

    def cancel(self) -> None:
        """A combo took this press: none of its own gestures."""
        self.press_at = self.hold_at = _NEVER
        self.waiting_double = self.held = False
        self.spent = True


class Gestures:
    """The gestures of a set of switches and their combos.

    `switches` maps a switch name to the gestures mapped on it; `combos` are
    pairs (or more) of switch names whose joint press is a gesture of its own,
    reported under the name `"A+B"`.
    """

    def __init__(self, switches: dict[str, set[str]], combos: list[tuple[str, ...]] = (), *,
                 timing: Timing = Timing()) -> None:
        for combo in combos:
            unknown = [n for n in combo if n not in switches]
            if unknown:
                raise ValueError(f"combo {'+'.join(combo)}: no switch {unknown[0]!r}")
        members = {n for combo in combos for n in combo}
        self.timing = timing
        self._switches = {name: _Switch(name, frozenset(wants), timing, name in members)
                          for name, wants in switches.items()}
        self._combos = [tuple(combo) for combo in combos]

    def edge(self, name: str, down: bool, now: float) -> list[tuple[str, str]]:
        """A switch's pin changed level; the gestures this completes, as (source, gesture)."""
        sw = self._switches[name]
        sw.raw = down
        if now < sw.quiet_until or down == sw.down:
            return []                    # bounce: looked at again when the lock-out ends
        return self._combo_or(sw, sw.accept(down, now))

    def tick(self, now: float) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for sw in self._switches.values():
            if sw.due() <= now:
                was_down = sw.down
                gestures = sw.tick(now)
                out += self._combo_or(sw, gestures) if sw.down != was_down else \
                    [(sw.name, g) for g in gestures]
        return out

    def due(self) -> float:
        """When `tick` has something to do (inf: nothing pending)."""
        return min((sw.due() for sw in self._switches.values()), default=_NEVER)

    def _combo_or(self, sw: _Switch, gestures: list[str]) -> list[tuple[str, str]]:
        if sw.down and not gestures:
            for combo in self._combos:
                if sw.name in combo:
                    members = [self._switches[n] for n in combo]
                    if all(m.down and not m.spent for m in members):
                        for m in members:
                            m.cancel()
                        return [("+".join(combo), PRESS)]
        return [(sw.name, g) for g in gestures]
