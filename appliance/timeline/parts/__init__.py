"""The parts a chart plays: drums, bass and keys as MIDI events on the song's beat grid,
the same for the same seed. `intensity` (0 soft .. 1 loud; one level or one per bar) is
the input a live control will drive."""
from __future__ import annotations

from dataclasses import dataclass

from ..chart import Chart
from . import bass, drums, keys
from .events import Event, Intensity


@dataclass(frozen=True)
class Part:
    name: str
    channel: int            # 0-based: 9 is GM's drum channel 10
    program: int | None     # GM program; None for drums
    events: tuple[Event, ...]


def generate(chart: Chart, seed: int = 0, intensity: Intensity = 0.6) -> list[Part]:
    """Every part of the chart."""
    return [Part("drums", drums.DRUM_CHANNEL, None, drums.drums(chart, seed, intensity)),
            Part("bass", bass.BASS_CHANNEL, bass.BASS_PROGRAM, bass.bass(chart, seed, intensity)),
            Part("keys", keys.KEYS_CHANNEL, keys.KEYS_PROGRAM, keys.keys(chart, seed, intensity))]
