"""Tempo map, meters and markers from a Standard MIDI File, as DAWs export them.

Ticks become exact quarter notes (tick / PPQ) and set_tempo's microseconds per
quarter note an exact tempo, so an imported map keeps the DAW's grid to the frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import mido

from ..errors import not_a_file
from ..vocab.commands import MAX_BPM, MIN_BPM
from .meter import Meter, MeterMap
from .tempo import MAX_SECONDS, TempoMap, TempoPoint


@dataclass(frozen=True)
class MidiTiming:
    tempo: TempoMap
    meters: MeterMap
    markers: list[tuple[Fraction, str]]
    end_qn: Fraction     # the file's last event (at most 24 h in)
    warnings: tuple[str, ...] = ()    # what was left out, for the song's problems


def _open(path: Path) -> mido.MidiFile:
    why = not_a_file(path, "file not found")     # a FIFO or a device would hang mido's open
    if why is not None:
        raise ValueError(why)
    try:
        mid = mido.MidiFile(str(path))
    except FileNotFoundError:
        raise ValueError("file not found") from None
    except Exception as exc:  # mido raises OSError, EOFError, KeyError, ValueError... on corrupt data
        raise ValueError(f"not a readable MIDI file ({exc or type(exc).__name__})") from None
    if mid.type == 2:
        raise ValueError("MIDI file type 2 (independent patterns) has no single timeline")
    if not 0 < mid.ticks_per_beat < 0x8000:
        raise ValueError("SMPTE-timed MIDI files are not supported; export with PPQ timing")
    return mid


def read_midi_events(path: Path) -> list[tuple[Fraction, mido.Message]]:
    """Every channel message and SysEx of every track, at its quarter note (tick / PPQ):
    placed on the song's own tempo map, so a lights or lyrics track follows the song."""
    mid = _open(path)
    events = []
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if not msg.is_meta:
                events.append((Fraction(tick, mid.ticks_per_beat), msg.copy(time=0)))
    events.sort(key=lambda e: e[0])
    return events


def read_midi_timing(path: Path) -> MidiTiming:
    """ValueError with a musician-readable reason when the file is unusable.

    Events more than 24 h in (MAX_SECONDS) are left out with a warning, so a stray
    event far out cannot make a song of a thousand hours; a tempo outside 10-999 BPM
    within them is an error.
    """
    mid = _open(path)
    ppq = mid.ticks_per_beat

    tempos: dict[int, int] = {}
    meters: dict[int, tuple[int, int]] = {}
    markers: list[tuple[int, str]] = []
    end_tick = 0
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempos[tick] = msg.tempo
            elif msg.type == "time_signature":
                meters[tick] = (msg.numerator, msg.denominator)
            elif msg.type == "marker":
                markers.append((tick, msg.text.strip()))
        end_tick = max(end_tick, tick)
    if not tempos:
        raise ValueError("has no tempo (set_tempo) events")

    def qn(tick: int) -> Fraction:
        return Fraction(tick, ppq)

    points = [] if 0 in tempos else [TempoPoint(Fraction(0), Fraction(120))]  # the SMF default
    for tick in sorted(tempos):
        if tempos[tick] <= 0:
            raise ValueError(f"set_tempo at tick {tick} is 0")
        points.append(TempoPoint(qn(tick), Fraction(60_000_000, tempos[tick])))
    limit = TempoMap(points).qn_at_seconds(MAX_SECONDS)
    warnings = ()
    if qn(end_tick) > limit:
        warnings = (f"events after 24 hours (from tick {math.ceil(limit * ppq)} on, the last at "
                    f"tick {end_tick}) are left out; a song lasts at most 24 hours",)
    points = [p for p in points if p.qn <= limit]
    for p in points:
        if not MIN_BPM <= p.bpm <= MAX_BPM:
            raise ValueError(f"set_tempo at tick {p.qn * ppq} is {float(p.bpm):.4g} BPM; "
                             f"tempo must be {MIN_BPM} to {MAX_BPM} BPM")
    try:
        meter_map = MeterMap.from_qn([(qn(t), Meter(*meters[t]))
                                      for t in sorted(meters) if qn(t) <= limit])
    except ValueError as exc:
        raise ValueError(f"time signature: {exc}") from None
    markers.sort(key=lambda m: m[0])
    return MidiTiming(TempoMap(points), meter_map,
                      [(qn(t), text) for t, text in markers if qn(t) <= limit],
                      min(qn(end_tick), limit), warnings)
