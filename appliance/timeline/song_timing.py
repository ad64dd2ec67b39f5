"""A song's timing: its [[tempo]] entries (tempo, ramps, meter changes, in order) or a
MIDI tempo map, made into the tempo and meter maps, within the length a song may last."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..errors import Problems
from ..tomlfields import Table, in_range
from ..vocab.commands import MAX_BPM, MIN_BPM
from .meter import Meter, MeterMap
from .midi_import import read_midi_timing
from .tempo import MAX_SECONDS, TempoMap, TempoPoint

LENGTH_LIMIT = f"a song lasts at most {MAX_SECONDS // 3600} hours"


@dataclass(frozen=True)
class _TempoChange:
    """One [[tempo]] entry as read, before it is placed on the meter map."""
    table: Table
    bar: int
    beat: Fraction
    bpm: Fraction | None
    ramp: bool
    meter: Meter | None


def read_timing(top: Table, folder: Path, problems: Problems):
    if isinstance(top.data.get("tempo"), (int, float)):
        top.read_elsewhere("tempo")           # a factor written as `tempo`: read_key_tempo
    midi_name = top.get("tempo_map", str, None)
    tables = top.tables("tempo") if isinstance(top.data.get("tempo", []), (list, dict)) else []
    if midi_name is not None:
        if tables:
            top.error("tempo", "give either tempo_map or [[tempo]] entries, not both")
            return None
        try:
            t = read_midi_timing(folder / midi_name)
        except ValueError as exc:
            top.error("tempo_map", f"{midi_name}: {exc}")
            return None
        for warning in t.warnings:
            top.warn("tempo_map", f"{midi_name}: {warning}")
        return t.tempo, t.meters, t.markers, t.end_qn
    if not tables:
        top.error("tempo", "is required: at least one [[tempo]] with bar = 1 and bpm (or tempo_map)")
        return None

    changes: list[_TempoChange] = []
    ok = True
    for t in tables:
        bar = t.get("bar", int, check=in_range(1))
        beat = t.get("beat", (int, float), 1, check=in_range(1))
        bpm = t.get("bpm", (int, float), None, check=in_range(MIN_BPM, MAX_BPM))
        ramp = t.get("ramp", bool, False)
        meter_text = t.get("meter", str, None)
        t.finish()
        meter = None
        if meter_text is not None:
            try:
                meter = Meter.parse(meter_text)
            except ValueError as exc:
                t.error("meter", str(exc))
                ok = False
            if beat != 1:
                t.error("meter", "a meter change must be on beat 1")
                ok = False
        if bar is None or beat is None or (bpm is None and t.has("bpm")):
            ok = False
            continue
        changes.append(_TempoChange(t, bar, Fraction(str(beat)),
                                    Fraction(str(bpm)) if bpm else None, ramp, meter))
    if not ok or not changes:
        return None

    first = changes[0]
    if (first.bar, first.beat) != (1, 1) or first.bpm is None:
        first.table.error("bar", "the first [[tempo]] must be at bar 1, beat 1, with a bpm")
        return None
    if first.ramp:
        first.table.error("ramp", "the first tempo has nothing to ramp from")
        return None
    for a, b in zip(changes, changes[1:]):
        if (b.bar, b.beat) <= (a.bar, a.beat):
            b.table.error("bar", f"bar {b.bar} beat {b.beat} must come after {a.table.where} "
                                 f"(bar {a.bar} beat {a.beat}); [[tempo]] entries go in order")
            return None
    meter_changes = [(ch.bar, ch.meter) for ch in changes if ch.meter is not None]
    if first.meter is None:
        meter_changes.insert(0, (1, Meter(4, 4)))
    meters = MeterMap.from_bars(meter_changes)
    points: list[TempoPoint] = []
    placed: list[tuple[Table, int, Fraction]] = []
    for ch in changes:
        try:
            qn = meters.qn_at(ch.bar, ch.beat)
        except ValueError as exc:
            ch.table.error("beat", str(exc))
            return None
        placed.append((ch.table, ch.bar, qn))
        if ch.bpm is None:
            if ch.ramp:
                ch.table.error("ramp", "a ramp needs the bpm it arrives at")
                return None
            continue
        points.append(TempoPoint(qn, ch.bpm, ch.ramp))
    tempo = TempoMap(points)
    late = [(t, bar, qn) for t, bar, qn in placed if tempo.seconds_at(qn) > MAX_SECONDS]
    for t, bar, qn in late:
        t.error("bar", f"bar {bar} is {hours(tempo, qn)} into the song; {LENGTH_LIMIT}")
    return None if late else (tempo, meters, [], None)


def hours(tempo: TempoMap, qn: Fraction) -> str:
    """How far into the song a position is, for a message about the length limit."""
    hours = tempo.seconds_at(qn) / 3600
    return f"{float(hours):.1f} hours" if hours < 10**6 else "over a million hours"
