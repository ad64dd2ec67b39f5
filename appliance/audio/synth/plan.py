"""What a chart song's parts play, as the musician changes it live: how the song's quarter
notes fall on its frames (the tempo map), the key (semitones for bass and keys) and the
intensity (0 soft .. 1 loud: the notes' velocity and density).

Two threads share it without a lock: the transport (the audio thread) writes, publishing each
new value whole (one reference assignment); the synth thread reads. What is published:

- `settings`, *in force*: what a run of frames started now begins with (a start, a jump's
  target cued, a ring cued again);
- `pending`, the changes asked and not yet reached, each at a bar of the song (its beat, the
  same in every tempo map, and its quarter note), several at once in the order they come.

A render context (one run of consecutive song frames) takes a pending change at its frame
when it renders across it, or from its first frame when it starts past it; one that first
sees a change it has already passed (a ring cued ahead) takes it from its next frame, until
the transport cues that ring again. When the play reaches a change, the transport makes it
in force (`reached`); when it stops or pauses, every change asked is (`settle`).

Newest wins: a change asked replaces, from its bar on, what earlier changes still waiting
would set of the same setting, so two asks for the same bar leave the second.

A new tempo map (`retempo`) never changes a context already rendering: the transport moves to
the same beat in the new map (a cued jump), so the old context plays on only while it fades
out. The changes waiting keep their bars, so they land on the same bar in the new map.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction

from ...timeline.tempo import TempoMap
from ...vocab.commands import KEY_RANGE

DEFAULT_INTENSITY = 0.6
FIELDS = ("transpose", "intensity")    # the settings a change carries


@dataclass(frozen=True)
class Settings:
    tempo: TempoMap               # the song's quarter notes on its frames, as played now
    transpose: int = 0            # semitones, bass and keys (the drums stay)
    intensity: float = DEFAULT_INTENSITY

    def __post_init__(self) -> None:
        low, high = KEY_RANGE
        if not isinstance(self.transpose, int) or isinstance(self.transpose, bool):
            raise TypeError(f"transpose must be a whole number of semitones, not {self.transpose!r}")
        if not low <= self.transpose <= high:
            raise ValueError(f"transpose must be {low} to {high} semitones, not {self.transpose}")
        if not (isinstance(self.intensity, (int, float)) and math.isfinite(self.intensity)
                and 0 <= self.intensity <= 1):
            raise ValueError(f"intensity must be 0 (soft) to 1 (loud), not {self.intensity!r}")

    def with_(self, change: Change) -> Settings:
        return dataclasses.replace(self, **dict(change.fields))


@dataclass(frozen=True)
class Change:
    """`fields` (a few of `FIELDS`, with their values) from the song's beat `beat` on (a bar's
    first), at quarter note `qn`; `epoch` counts the changes asked."""

    beat: int
    qn: Fraction
    fields: tuple[tuple[str, object], ...]
    epoch: int

    def without(self, names: set[str]) -> Change | None:
        """This change less the settings `names` (a newer change sets them); None if empty."""
        kept = tuple((k, v) for k, v in self.fields if k not in names)
        return dataclasses.replace(self, fields=kept) if kept else None


class PartsPlan:
    """The settings in force, the changes waiting (`pending`), and how far the synth thread
    has rendered the run playing (`head`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pending: tuple[Change, ...] = ()
        self.epoch = 0
        self._head = 0
        self.playing: int | None = None

    @property
    def latest(self) -> Settings:
        """The settings once every change asked is reached: what the musician last asked."""
        settings = self.settings
        for change in self.pending:
            settings = settings.with_(change)
        return settings

    # -- the transport's side ----------------------------------------------------
    def change(self, at: tuple[int, Fraction] | None = None, **fields) -> Change | None:
        """These `FIELDS` changed: from `at` (the beat and quarter note of a bar the
        run playing has not been rendered to), else in force at once (stopped, or the next
        run's from its first frame). ValueError/TypeError for a bad value, the plan as it
        was. The change waiting, or None when in force at once."""
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise TypeError(f"a change sets {' and '.join(FIELDS)}, not {', '.join(sorted(unknown))}")
        self.latest.with_(Change(0, Fraction(0), tuple(fields.items()), 0))   # checks values
        self.epoch += 1
        names = set(fields)
        if at is None:
            self.settings = dataclasses.replace(self.settings, **fields)
            self.pending = self._trimmed(names, None)
            return None
        beat, qn = at
        change = Change(beat, qn, tuple(fields.items()), self.epoch)
        kept = self._trimmed(names, beat)
        self.pending = tuple(sorted(kept + (change,), key=lambda c: (c.beat, c.epoch)))
        return change

    def _trimmed(self, names: set[str], beat: int | None) -> tuple[Change, ...]:
        """The changes waiting, less `names` from `beat` on (everywhere when None)."""
        out = []
        for c in self.pending:
            c = c if beat is not None and c.beat < beat else c.without(names)
            if c is not None:
                out.append(c)
        return tuple(out)

    def retempo(self, tempo: TempoMap) -> None:
        """Runs started from now on play with `tempo` (the transport re-bases on it)."""
        self.settings = dataclasses.replace(self.settings, tempo=tempo)

    def withdraw(self, change: Change) -> None:
        """`change` is not to wait where it was put (the transport puts it again)."""
        self.pending = tuple(c for c in self.pending if c.epoch != change.epoch)

    def enforce(self, changes: list[Change]) -> bool:
        """These changes waiting are in force too (the next run's), and still wait where
        they are. Whether the settings in force changed."""
        before = self.settings
        for c in changes:
            self.settings = self.settings.with_(c)
        if changes:                      # an older change still waiting would undo them
            newest = max(c.epoch for c in changes)
            names = {name for c in changes for name, _ in c.fields}
            own = {c.epoch for c in changes}
            kept = (c if c.epoch > newest or c.epoch in own else c.without(names)
                    for c in self.pending)
            self.pending = tuple(c for c in kept if c is not None)
        return self.settings != before

    def reached(self, beat: int) -> bool:
        """The play has reached `beat`: the changes waiting there are in force, and wait no
        more. Whether the settings in force changed."""
        here = [c for c in self.pending if c.beat == beat]
        changed = self.enforce(here)         # first: `latest` holds all along
        if here:
            self.pending = tuple(c for c in self.pending if c.beat != beat)
        return changed

    def settle(self) -> bool:
        """Stopped or paused: every change asked is in force. Whether any was waiting."""
        waiting = bool(self.pending)
        if waiting:
            self.settings, self.pending = self.latest, ()
        return waiting

    def play_from(self, frame: int) -> None:
        """The transport plays on from song `frame` (a start, a jump taken): `head` follows
        the context rendering that run. Without it, `head` follows the context read last."""
        self.playing = frame

    # -- the synth thread's side -------------------------------------------------
    @property
    def head(self) -> int:
        """The furthest song frame the synth thread has rendered of the run playing, or is
        about to: a change put at a bar at or after it is heard exactly there."""
        return self._head

    def rendered(self, frame: int) -> None:
        """The synth thread has rendered the playing context up to `frame`, or is about to."""
        self._head = frame
