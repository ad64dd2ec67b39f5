"""MIDI in as config.toml describes it, and what each incoming message means.

```toml
[midi]
in = ["MC6", "FCB1010"]      # ports by name: a part of it, any case ("*": every port)
out = ["Lights"]
channel = 0                  # 0: any; 1-16: only that one
program_change = true        # program n (bank select CC 0/32 for more than 128) -> song n + 1
follow_clock = false         # an external Start / Stop / Continue drives the transport
clock = true                 # send beat clock, Start/Stop/Continue and SPP on `out`
mtc = 0                      # MIDI Time Code at 24, 25 or 30 fps; bar 1 is 01:00:00:00

[[midi.map]]
note = 60                    # a note on (velocity > 0)
command = "toggle-play"

[[midi.map]]
cc = 80
value = 127                  # only this value; without it, any value above 0
command = "next-song"

[[midi.map]]
cc = 7
set = "click-level"          # or "level foh" (a master), "level ears bass" (a stem in
range_db = [-60, 6]          # one output's mix): the CC's 0-127 spans range_db

[[midi.map]]
cc = 21
set = "key"                  # the song's key: 0-127 spans -12..+12 semitones (64: as recorded);
                             # "tempo": 1 % a step around 64 (100 %), from 50 % to 163 %;
                             # "bpm": 60 to 187 BPM, one a step (a song without stems);
                             # "intensity": an expression pedal, 0-127 spans soft..loud
```

`MidiMap.commands` is pure: a message in, commands out; the port threads call it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..tomlfields import Table, in_range
from ..vocab import commands as c
from ..vocab import names

BPM_CC_LOW = 60       # `set = "bpm"`: CC value 0 is 60 BPM, 127 is 187


@dataclass(frozen=True)
class MidiRule:
    kind: str                          # "note" or "cc"
    number: int
    value: int | None = None           # a CC's exact value (None: any above 0)
    command: c.Command | None = None
    target: str = ""                   # a level a CC's value sets
    low_db: float = -60.0
    high_db: float = 6.0


@dataclass(frozen=True)
class MidiSpec:
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    channel: int = 0
    program_change: bool = True
    follow_clock: bool = False
    rules: tuple[MidiRule, ...] = field(default=())
    clock: bool = True                 # beat clock, Start/Stop/Continue/SPP on the outputs
    mtc: int = 0                       # MIDI Time Code quarter frames at 24, 25 or 30 fps (0: off)


def read_midi(top: Table, outputs: tuple[str, ...]) -> MidiSpec:
    t = top.table("midi")
    d = MidiSpec()
    ports = {}
    for key in ("in", "out"):
        names_ = t.get(key, list, [])
        if not all(isinstance(n, str) and n for n in names_):
            t.error(key, f"must list port names (a part of each is enough), not {names_}")
            names_ = []
        ports[key] = tuple(names_)
    channel = t.get("channel", int, d.channel, check=in_range(0, 16))
    program = t.get("program_change", bool, d.program_change)
    follow = t.get("follow_clock", bool, d.follow_clock)
    clock = t.get("clock", bool, d.clock)
    mtc = t.get("mtc", int, d.mtc, check=lambda v: None if v in (0, 24, 25, 30)
                else f"must be 0 (off), 24, 25 or 30 (frames a second), not {v}")
    rules = []
    for r in t.tables("map"):
        rule = read_rule(r, outputs)
        r.finish()
        if rule is not None:
            rules.append(rule)
    t.finish()
    return MidiSpec(ports["in"], ports["out"], channel, program, follow, tuple(rules), clock, mtc)


def read_rule(t: Table, outputs: tuple[str, ...]) -> MidiRule | None:
    """One `[[midi.map]]` table, the config's or the learned file's."""
    kinds = [k for k in ("note", "cc") if t.has(k)]
    if len(kinds) != 1:
        t.error("note", "give either note or cc (one of them)")
        return None
    kind = kinds[0]
    number = t.get(kind, int, check=in_range(0, 127))
    value = t.get("value", int, None, check=in_range(0, 127)) if kind == "cc" else None
    command_text = t.get("command", str, None)
    target = t.get("set", str, None)
    if (command_text is None) == (target is None):
        t.error("command", "give either command or set (one of them)")
        return None
    if number is None:
        return None
    if command_text is not None:
        try:
            return MidiRule(kind, number, value, command=names.parse_command(command_text))
        except ValueError as exc:
            t.error("command", str(exc))
            return None
    if kind != "cc":
        t.error("set", "a level is set by a CC's value, not a note")
        return None
    if target in names.LIVE_TARGETS:
        return MidiRule(kind, number, target=target)
    problem = names.check_turn(target, outputs)
    if problem or target in ("menu", "song"):
        t.error("set", problem or
                f"{target!r} is not a level (levels: "
                f"{', '.join(names.LEVEL_TARGETS + names.LIVE_TARGETS)})")
        return None
    span = t.get("range_db", list, [-60.0, 6.0])
    if not (isinstance(span, list) and len(span) == 2 and
            all(isinstance(x, (int, float)) and -120 <= x <= 12 for x in span)):
        t.error("range_db", f"must be [low, high] in dB from -120 to 12, not {span}")
        return None
    return MidiRule(kind, number, target=target, low_db=float(span[0]), high_db=float(span[1]))


class MidiMap:
    """Messages to commands, remembering each channel's bank select."""

    def __init__(self, spec: MidiSpec) -> None:
        self.spec = spec
        self._bank: dict[int, list[int]] = {}          # channel -> [MSB, LSB]
        self.rules: dict[tuple, MidiRule] = {}         # one rule a trigger: the last wins
        for r in spec.rules:
            self.add(r)

    def add(self, rule: MidiRule) -> None:
        self.rules[(rule.kind, rule.number, rule.value)] = rule
        self._notes = {r.number: r for r in self.rules.values() if r.kind == "note"}
        self._ccs: dict[int, list[MidiRule]] = {}
        for r in self.rules.values():
            if r.kind == "cc":
                self._ccs.setdefault(r.number, []).append(r)

    def trigger_of(self, command: c.Command) -> str:
        """How `command` is reached now ("note 60", "cc 80 = 127"), or ""."""
        for r in self.rules.values():
            if r.command == command:
                return f"{r.kind} {r.number}" + (f" = {r.value}" if r.value is not None else "")
        return ""

    def commands(self, msg) -> list[c.Command]:
        """What a mido Message means (an empty list: nothing)."""
        kind = msg.type
        if kind in ("start", "stop", "continue"):
            if not self.spec.follow_clock:
                return []
            return [{"start": c.Play(), "stop": c.Stop(), "continue": c.Resume()}[kind]]
        channel = getattr(msg, "channel", None)
        if channel is None or (self.spec.channel and channel + 1 != self.spec.channel):
            return []
        if kind == "note_on" and msg.velocity > 0:
            rule = self._notes.get(msg.note)
            return [rule.command] if rule else []
        if kind == "control_change":
            if msg.control in (0, 32):
                self._bank.setdefault(channel, [0, 0])[msg.control // 32] = msg.value
            return [cmd for r in self._ccs.get(msg.control, ()) for cmd in _cc(r, msg.value)]
        if kind == "program_change" and self.spec.program_change:
            msb, lsb = self._bank.get(channel, (0, 0))
            return [c.SelectSong((msb * 128 + lsb) * 128 + msg.program + 1)]
        return []


def _cc(rule: MidiRule, value: int) -> list[c.Command]:
    if rule.command is not None:
        hit = value == rule.value if rule.value is not None else value > 0
        return [rule.command] if hit else []
    if rule.target == "key":
        return [c.SetKey(round(value * 24 / 127) - 12)]
    if rule.target == "tempo":
        return [c.SetTempo(max(c.TEMPO_PERCENT[0], value + 36))]
    if rule.target == "bpm":
        return [c.SetBpm(value + BPM_CC_LOW)]
    if rule.target == "intensity":      # an expression pedal: heel 0, toe 1
        return [c.SetIntensity(value / 127)]
    db = round(rule.low_db + (rule.high_db - rule.low_db) * value / 127, 1)
    return [names.level_command(rule.target, db, relative=False)]


def learned(msg, command_text: str) -> MidiRule | None:
    """The rule a pressed pedal makes for `command_text`: a note on, or a CC at its value."""
    if msg.type == "note_on" and msg.velocity > 0:
        return MidiRule("note", msg.note, command=names.parse_command(command_text))
    if msg.type == "control_change" and msg.value > 0 and msg.control not in (0, 32):
        return MidiRule("cc", msg.control, msg.value, command=names.parse_command(command_text))
    return None


def rule_toml(rule: MidiRule, command_text: str) -> str:
    """The rule as config.toml keeps it; the name quoted as a TOML string (a JSON string is
    one), since a section's or stem's name may hold a quote or a backslash."""
    value = f"value = {rule.value}\n" if rule.value is not None else ""
    return f'\n[[midi.map]]              # learned\n{rule.kind} = {rule.number}\n{value}' \
           f'command = {json.dumps(command_text, ensure_ascii=False)}\n'
