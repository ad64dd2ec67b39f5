"""Commands by name, as a musician writes them in config.toml (and MIDI maps):
`"toggle-play"`, `"jump Chorus @bar"`, `"vamp 4"`, `"select-song 3"`, `"panic"`.

One word names the command; an argument may follow; `@now|@beat|@bar|@section`
sets where it takes effect. A bad name raises ValueError listing what is allowed,
so config validation can name the field.

Encoder turns (and MIDI CCs that set a level) name a *target* instead (`"menu"`,
`"song"`, `"click-level"`, `"level ears"`, `"level ears bass"`) and become a command
for each step count with `turn_command` (or a CC's value with `level_command`).
"""
from __future__ import annotations

import functools
from typing import Callable

from . import commands as c

_AT = {f"@{a.value}": a for a in c.At}


def _int(word: str, arg: str) -> int:
    try:
        return int(arg)
    except ValueError:
        raise ValueError(f"{word!r} needs a whole number, not {arg!r}") from None


def _section(arg: str) -> str | int:
    return int(arg) if arg.isdigit() else arg


def _key(arg: str) -> c.SetKey:
    """`key -2`, `key +3`, `key 0`: the key to play at, in semitones from the recording."""
    return c.SetKey(_int("key", arg))


def _tempo(arg: str) -> c.SetTempo | c.NudgeTempo:
    """`tempo 90%` sets the tempo; `tempo +1%` and `tempo -1%` turn it."""
    if not arg.endswith("%"):
        raise ValueError(f"'tempo' needs a percentage (tempo 90%, tempo +1%), not {arg!r}")
    percent = _int("tempo", arg[:-1])
    return c.NudgeTempo(percent) if arg[0] in "+-" else c.SetTempo(percent)


def _number(word: str, arg: str) -> float:
    try:
        return float(arg)
    except ValueError:
        raise ValueError(f"{word!r} needs a number, not {arg!r}") from None


def _bpm(arg: str) -> c.SetBpm | c.NudgeBpm:
    """`bpm 96` sets the tempo heard now; `bpm +1` and `bpm -2` turn it."""
    bpm = _number("bpm", arg)
    return c.NudgeBpm(bpm) if arg[0] in "+-" else c.SetBpm(bpm)


def _intensity(arg: str) -> c.SetIntensity | c.NudgeIntensity:
    """`intensity 0.8` sets the parts' dynamics; `intensity +0.1` turns them."""
    level = _number("intensity", arg)
    return c.NudgeIntensity(level) if arg[0] in "+-" else c.SetIntensity(level)


INTENSITY_STEP = 0.05      # an encoder detent of `intensity`; `softer`/`louder` take two


# word -> (takes an argument: None no / "?" optional / "!" required, maker(arg, at))
_Maker = Callable[[str, c.At | None], c.Command]
_WORDS: dict[str, tuple[str | None, _Maker]] = {
    "play": (None, lambda a, at: c.Play()),
    "stop": (None, lambda a, at: c.Stop(at=at or c.At.NOW)),
    "panic": (None, lambda a, at: c.Stop(at=c.At.NOW)),
    "toggle-play": (None, lambda a, at: c.TogglePlay()),
    "pause": (None, lambda a, at: c.Pause(at=at or c.At.NOW)),
    "resume": (None, lambda a, at: c.Resume()),
    "restart": (None, lambda a, at: c.Restart(at=at or c.At.NOW)),
    "seek": ("!", lambda a, at: c.Seek(_int("seek", a), at=at or c.At.NOW)),
    "jump": ("!", lambda a, at: c.Jump(_section(a), at=at or c.At.BAR)),
    "next-section": (None, lambda a, at: c.NextSection(at=at or c.At.BAR)),
    "vamp": ("?", lambda a, at: c.Vamp(_int("vamp", a) if a else 0)),
    "release-vamp": (None, lambda a, at: c.ReleaseVamp()),
    "cancel": (None, lambda a, at: c.Cancel()),
    "next-song": (None, lambda a, at: c.NextSong()),
    "previous-song": (None, lambda a, at: c.PreviousSong()),
    "select-song": ("!", lambda a, at: c.SelectSong(_int("select-song", a))),
    "mute": ("!", lambda a, at: c.Mute(a, True)),
    "unmute": ("!", lambda a, at: c.Mute(a, False)),
    "solo": ("!", lambda a, at: c.Solo(a, True)),
    "unsolo": ("!", lambda a, at: c.Solo(a, False)),
    "record": (None, lambda a, at: c.Record()),
    "record-arm": (None, lambda a, at: c.RecordArm()),
    "arm": ("?", lambda a, at: c.Arm(a or "all", True)),
    "disarm": ("?", lambda a, at: c.Arm(a or "all", False)),
    "key": ("!", lambda a, at: _key(a)),
    "key-down": (None, lambda a, at: c.NudgeKey(-1)),
    "key-up": (None, lambda a, at: c.NudgeKey(1)),
    "tempo": ("!", lambda a, at: _tempo(a)),
    "tempo-down": (None, lambda a, at: c.NudgeTempo(-1)),
    "tempo-up": (None, lambda a, at: c.NudgeTempo(1)),
    "tap": (None, lambda a, at: c.TapTempo()),
    "bpm": ("!", lambda a, at: _bpm(a)),
    "bpm-down": (None, lambda a, at: c.NudgeBpm(-1)),
    "bpm-up": (None, lambda a, at: c.NudgeBpm(1)),
    "intensity": ("!", lambda a, at: _intensity(a)),
    "softer": (None, lambda a, at: c.NudgeIntensity(-2 * INTENSITY_STEP)),
    "louder": (None, lambda a, at: c.NudgeIntensity(2 * INTENSITY_STEP)),
    "menu": (None, lambda a, at: c.OpenMenu()),
    "menu-up": (None, lambda a, at: c.MenuMove(-1)),
    "menu-down": (None, lambda a, at: c.MenuMove(1)),
    "menu-select": (None, lambda a, at: c.MenuSelect()),
    "menu-back": (None, lambda a, at: c.MenuBack()),
    "shutdown": (None, lambda a, at: c.Shutdown()),
}
COMMAND_WORDS = tuple(_WORDS)
TURN_TARGETS = ("menu", "song", "key", "tempo", "bpm", "intensity", "click-level",
                "level OUTPUT", "level OUTPUT STEM")
LEVEL_TARGETS = ("click-level", "level OUTPUT", "level OUTPUT STEM")
LIVE_TARGETS = ("key", "tempo", "bpm", "intensity")   # a CC's value sets one of these


def _words_of() -> dict[type, list[str]]:
    """Each kind of command -> the words that make it, the later first ("panic", "stop")."""
    words: dict[type, list[str]] = {}
    for word, (takes, make) in reversed(_WORDS.items()):
        words.setdefault(type(make(_SAMPLE.get(word, "1") if takes else "", None)),
                         []).append(word)
    return words


_SAMPLE = {"tempo": "100%", "bpm": "120", "intensity": "0.5"}     # an argument a word takes, when "1" is not one
_WORDS_OF = _words_of()
_WORDS_OF[c.NudgeTempo] = ["tempo-up", "tempo-down", "tempo"]     # `tempo` makes both kinds
_WORDS_OF[c.NudgeBpm] = ["bpm-up", "bpm-down", "bpm"]               # and so do `bpm`
_WORDS_OF[c.NudgeIntensity] = ["louder", "softer", "intensity"]     # and `intensity`
# the field a word's argument fills
_ARGUMENT = {c.Seek: "bar", c.Jump: "section", c.Vamp: "bars", c.SelectSong: "index",
             c.Mute: "stem", c.Solo: "stem", c.Arm: "input", c.SetKey: "semitones",
             c.SetTempo: "percent", c.NudgeTempo: "percent", c.SetBpm: "bpm", c.NudgeBpm: "bpm",
             c.SetIntensity: "level", c.NudgeIntensity: "step"}
_SPELLED: dict[type, Callable[[int], str]] = {    # how an argument is written, else str()
    c.SetKey: lambda n: f"{n:+d}" if n else "0", c.SetTempo: lambda n: f"{n}%",
    c.NudgeTempo: lambda n: f"{n:+d}%", c.SetBpm: lambda n: f"{n:g}",
    c.NudgeBpm: lambda n: f"{n:+g}", c.SetIntensity: lambda n: f"{n:g}",
    c.NudgeIntensity: lambda n: f"{n:+g}"}


def command_name(cmd: c.Command) -> str:
    """The name `parse_command` reads back as `cmd` (its class name when it has none, e.g.
    SetGain): a word, its argument, and `@at` unless it takes effect now by default. The
    later of two words wins ("panic" over "stop")."""
    return _name(cmd) or type(cmd).__name__


@functools.lru_cache(maxsize=4)     # the menu asks at every redraw; the song rarely changes
def every_name(*, sections: tuple[str, ...] = (), stems: tuple[str, ...] = (),
               songs: int = 0, inputs: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every command the vocabulary has for this song and setlist, by name (what MIDI
    learn offers): the words without an argument, then a jump to each section, each
    song of the setlist, each stem's mute and solo, each input's arm. A name that would
    not read back as its command (a section called "3" is section 3) is left out."""
    plain = [word for word, (takes, _) in _WORDS.items() if takes != "!"]
    made = [c.Jump(s) for s in sections] + [c.SelectSong(i) for i in range(1, songs + 1)]
    made += [kind(stem, on) for stem in stems for kind in (c.Mute, c.Solo) for on in (True, False)]
    made += [c.Arm(name, on) for name in inputs for on in (True, False)]
    return (*plain, *(n for n in map(_name, made) if n is not None))


def _name(cmd: c.Command) -> str | None:
    """Tries the words that make this kind of command, each with and without its argument."""
    field = _ARGUMENT.get(type(cmd))
    spelled = _SPELLED.get(type(cmd), str)
    args = [""] + ([spelled(getattr(cmd, field))] if field else [])
    at = getattr(cmd, "at", c.At.NOW)
    # at NOW: bare, unless the word's default is another ("jump 2" is at the bar)
    suffixes = ("", " @now") if at is c.At.NOW else (f" @{at.value}",)
    for word in _WORDS_OF.get(type(cmd), ()):
        for arg in args:
            for suffix in suffixes:
                text = " ".join(filter(None, (word, arg))) + suffix
                try:
                    if parse_command(text) == cmd:
                        return text
                except ValueError:      # this word does not take (or needs) an argument
                    continue
    return None


def parse_command(text: str) -> c.Command:
    """The command a name stands for; ValueError (saying what is allowed) if none."""
    if not isinstance(text, str):
        raise TypeError(f"a command name must be a string, not {text!r}")
    words = text.split()
    at = None
    if words and words[-1].lower() in _AT:
        at = _AT[words.pop().lower()]
    if not words or words[0].lower() not in _WORDS:
        raise ValueError(f"unknown command {text!r} (commands: {', '.join(COMMAND_WORDS)})")
    word, arg = words[0].lower(), " ".join(words[1:])
    takes, make = _WORDS[word]
    if takes is None and arg:
        raise ValueError(f"{word!r} takes no argument, not {arg!r}")
    if takes == "!" and not arg:
        raise ValueError(f"{word!r} needs an argument")
    return make(arg, at)


def check_turn(target: str, outputs: tuple[str, ...]) -> str | None:
    """None when `target` is an encoder target, else why not. `level OUTPUT STEM` is
    checked for its output only: which stems there are depends on the song playing, and
    the engine refuses a stem the song lacks. The output is always the second word, so a
    stem may share an output's name (`level ears ears`)."""
    words = target.split()
    if words in (["menu"], ["song"], ["key"], ["tempo"], ["bpm"], ["intensity"],
                 ["click-level"]):
        return None
    if len(words) >= 2 and words[0] == "level":
        if words[1] in outputs:
            return None
        return f"no output {words[1]!r} (outputs: {', '.join(outputs)})"
    return f"unknown encoder target {target!r} (targets: {', '.join(TURN_TARGETS)})"


def level_command(target: str, db: float, *, relative: bool) -> c.Command:
    """The level a checked level target names, set to `db` or (relative) turned by it."""
    words = target.split()
    if words == ["click-level"]:
        stem, output = "click", ""
    elif len(words) == 2:
        return (c.NudgeOutputGain if relative else c.SetOutputGain)(words[1], db)
    else:
        stem, output = " ".join(words[2:]), words[1]
    return (c.NudgeGain if relative else c.SetGain)(stem, db, output)


def turn_command(target: str, steps: int, *, db_per_step: float = 1.0) -> list[c.Command]:
    """What `steps` detents (negative: anticlockwise) of an encoder on `target` do."""
    if target == "menu":
        return [c.MenuMove(steps)]
    if target == "song":
        return [c.NextSong() if steps > 0 else c.PreviousSong()] * abs(steps)
    if target == "key":
        return [c.NudgeKey(steps)]
    if target == "tempo":
        return [c.NudgeTempo(steps)]
    if target == "bpm":
        return [c.NudgeBpm(steps)]
    if target == "intensity":
        return [c.NudgeIntensity(max(-1.0, min(1.0, round(steps * INTENSITY_STEP, 6))))]
    return [level_command(target, steps * db_per_step, relative=True)]
