"""MIDI messages as a song.toml spells them: `"program 5"`, `"cc 7 100"`, `"note 60 127"`,
`"note-off 60"`, `"sysex F0 7E 7F 06 01 F7"` (hex bytes, F0 and F7 included); each on the
song's `midi_channel` unless it ends with `ch N`."""
from __future__ import annotations

import mido

FORMS = ('"program N"', '"cc N V"', '"note N V"', '"note-off N"', '"sysex F0 .. F7"')


def parse_midi(text: str, channel: int = 1) -> mido.Message:
    """The message `text` names; ValueError saying what is wrong and what is allowed."""
    words = text.split()
    if len(words) >= 2 and words[-2] == "ch":
        channel, words = _number(words[-1], "the channel", 1, 16), words[:-2]
    ch = channel - 1
    if not words:
        raise ValueError(f"empty MIDI message (forms: {', '.join(FORMS)})")
    kind, args = words[0].lower(), words[1:]
    if kind == "sysex":
        try:
            data = bytes(int(b, 16) for b in args)
        except ValueError:
            raise ValueError(f"{text!r}: sysex takes hex bytes, like F0 7E 7F 06 01 F7") from None
        if len(data) < 2 or data[0] != 0xF0 or data[-1] != 0xF7 or any(b > 0x7F for b in data[1:-1]):
            raise ValueError(f"{text!r}: sysex starts with F0, ends with F7, data bytes 00-7F")
        return mido.Message("sysex", data=data[1:-1])
    shapes = {"program": 1, "cc": 2, "note": 2, "note-off": 1}
    if kind not in shapes or len(args) != shapes[kind]:
        raise ValueError(f"{text!r}: not a MIDI message (forms: {', '.join(FORMS)})")
    n = [_number(a, text, 0, 127) for a in args]
    if kind == "program":
        return mido.Message("program_change", channel=ch, program=n[0])
    if kind == "cc":
        return mido.Message("control_change", channel=ch, control=n[0], value=n[1])
    if kind == "note":
        return mido.Message("note_on", channel=ch, note=n[0], velocity=n[1])
    return mido.Message("note_off", channel=ch, note=n[0], velocity=0)


def _number(word: str, what: str, low: int, high: int) -> int:
    try:
        value = int(word)
    except ValueError:
        raise ValueError(f"{what!r}: {word!r} is not a number") from None
    if not low <= value <= high:
        raise ValueError(f"{what!r}: {value} is outside {low}-{high}")
    return value
