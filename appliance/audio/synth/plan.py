"""What a chart song's parts play, as the musician changes it live: how the song's quarter
notes fall on its frames (the tempo map), the key (semitones for bass and keys) and the
intensity (0 soft .. 1 loud: the notes' velocity and density).

Two threads share it without a lock. The transport (the audio thread) writes: it picks the
song frame a change takes effect at (the next beat or bar at or after `head`, the furthest
frame the synth thread has rendered of the playing context, so the change is exact) and
publishes a new `Switch` whole, one reference assignment. The synth thread reads: it renders
each *context* (one run of consecutive song frames: the playing ring, or a ring cued at a
jump or vamp target) with the settings it had, and

- a context rendering across a switch's frame takes the new transposition and intensity
  from that frame on (notes already sounding keep their pitch); one already past it (a ring
  cued ahead) takes them from the next frame it renders;
- a context started after a switch has the newest settings from its first frame;
- a new tempo map never changes a context already rendering: the transport moves to the
  same beat in the new map (a cued jump), so the old context plays on only while it fades
  out, unchanged.

A change holds wherever the song goes next (a vamp's loop, a jump back), not only past the
bar it was made at: when a change takes effect, the transport cues its jump target again,
so that context starts anew with it.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ...timeline.tempo import TempoMap
from ...vocab.commands import KEY_RANGE

DEFAULT_INTENSITY = 0.6


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


@dataclass(frozen=True)
class Switch:
    """The settings from song frame `frame` of the context playing; `epoch` counts switches."""

    frame: int
    settings: Settings
    epoch: int


class PartsPlan:
    """The published switch (`now`) and the synth thread's progress (`head`)."""

    def __init__(self, settings: Settings) -> None:
        self.now = Switch(0, settings, 0)
        self._head = 0
        self.playing: int | None = None

    @property
    def settings(self) -> Settings:
        """The newest settings: what a context started now renders with."""
        return self.now.settings

    def change(self, frame: int, **fields) -> Switch:
        """From song `frame` of the playing context on, these fields of `Settings` changed
        (`tempo`, `transpose`, `intensity`); ValueError/TypeError for a bad value, and the
        plan stays as it was. Called by the transport, at a frame at or after `head`."""
        settings = dataclasses.replace(self.now.settings, **fields)
        self.now = Switch(frame, settings, self.now.epoch + 1)
        return self.now

    def play_from(self, frame: int) -> None:
        """The transport plays on from song `frame` (a start, a jump taken): `head` follows
        the context rendering that run. Without it, `head` follows the context read last."""
        self.playing = frame

    # -- the synth thread's side -------------------------------------------------
    @property
    def head(self) -> int:
        """The furthest song frame the synth thread has rendered of the playing context:
        a change at or after it is heard exactly where it was put."""
        return self._head

    def rendered(self, frame: int) -> None:
        """The synth thread has rendered the playing context up to `frame`."""
        self._head = frame
