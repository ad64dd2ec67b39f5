"""A song's parts as a standard MIDI file (type 1) to open in a DAW: a tempo track (tempo,
meters, key, section markers), then one track per part on its own channel."""
from __future__ import annotations

import re
from fractions import Fraction

import mido

from ..song import Song
from . import Part

PPQ = 480                       # per quarter note
_KEY = re.compile(r"^\s*([A-G][#b]?)\s*(m|min|minor|maj|major)?\s*$")


def key_name(key: str | None) -> str | None:
    """A song's key as MIDI spells it ('A minor' -> 'Am'), or None when it cannot."""
    m = _KEY.match(key or "")
    if not m:
        return None
    name = m.group(1) + ("m" if m.group(2) in ("m", "min", "minor") else "")
    try:
        mido.MetaMessage("key_signature", key=name)
    except ValueError:
        return None
    return name


def _track(name: str, timed: list[tuple[Fraction, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    """A track of (quarter note, message), in order, with delta times in ticks."""
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
    now = 0
    for qn, msg in timed:
        tick = round(qn * PPQ)
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def midi_file(song: Song, parts: list[Part]) -> mido.MidiFile:
    """The MIDI file of `song`'s parts at the tempo it plays (its tempo factor included)."""
    meta: list[tuple[Fraction, mido.MetaMessage]] = []
    for seg in song.meters.segments:
        meta.append((seg.qn, mido.MetaMessage("time_signature", numerator=seg.meter.numerator,
                                              denominator=seg.meter.denominator)))
    for point in song.tempo.points:
        tempo = mido.bpm2tempo(float(song.tempo.bpm_at(point.qn)))
        meta.append((point.qn, mido.MetaMessage("set_tempo", tempo=tempo)))
    if key_name(song.key):
        meta.append((Fraction(0), mido.MetaMessage("key_signature", key=key_name(song.key))))
    meta += [(s.qn, mido.MetaMessage("marker", text=s.name)) for s in song.sections]
    out = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    out.tracks.append(_track(song.title, sorted(meta, key=lambda e: e[0])))
    for part in parts:
        program = [] if part.program is None else \
            [(Fraction(0), mido.Message("program_change", channel=part.channel,
                                        program=part.program))]
        out.tracks.append(_track(part.name, program + list(part.events)))
    return out
