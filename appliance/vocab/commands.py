"""The one command vocabulary: footswitches, encoders, MIDI, the menu, the
terminal and any remote all say what they want with these.

Commands are small immutable values, checked when made (TypeError for a wrong
type, ValueError naming the allowed range), so a bad mapping fails where it is
configured, never in the audio thread. The engine applies each at a
sample-exact position: now, or quantised to the next beat, bar or section end.
"""
from __future__ import annotations

import functools
import math
import types
import typing
from dataclasses import dataclass, fields
from enum import Enum
from typing import ClassVar


class At(Enum):
    """Where a command takes effect."""

    NOW = "now"
    BEAT = "beat"
    BAR = "bar"
    SECTION = "section"     # the end of the current section


@functools.cache
def _hints(cls: type) -> dict[str, object]:
    return typing.get_type_hints(cls)


def _check(cmd: object) -> None:
    hints = _hints(type(cmd))
    for f in fields(cmd):
        value = getattr(cmd, f.name)
        hint = hints[f.name]
        kind = hint if isinstance(hint, type) else None
        if kind is float:
            kind = (int, float)
        elif isinstance(hint, types.UnionType) and all(isinstance(a, type)
                                                       for a in typing.get_args(hint)):
            kind = typing.get_args(hint)          # e.g. bool | None
        if f.name == "at":
            if not isinstance(value, At):
                raise TypeError(f"{type(cmd).__name__}.at must be an At, not {value!r}")
        elif kind is not None and (not isinstance(value, kind) or
                                   (isinstance(value, bool) and kind is not bool and
                                    not (isinstance(kind, tuple) and bool in kind))):
            name = kind.__name__ if isinstance(kind, type) else \
                "a number" if kind == (int, float) else " or ".join(
                    "None" if k is type(None) else k.__name__ for k in kind)
            raise TypeError(f"{type(cmd).__name__}.{f.name} must be {name}, not {value!r}")


@dataclass(frozen=True)
class Command:
    RANGES: ClassVar[dict[str, tuple[float, float | None]]] = {}   # field -> allowed (low, high)

    def __post_init__(self) -> None:
        _check(self)
        for f in fields(self):          # nan passes every range check: refuse it by name
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{self.name}.{f.name} must be a finite number, not {value}")
        for name, (low, high) in self.RANGES.items():
            value = getattr(self, name)
            if value < low or (high is not None and value > high):
                allowed = f"{low:g} to {high:g}" if high is not None else f"{low:g} or more"
                raise ValueError(f"{self.name}.{name} must be {allowed}, not {value}")

    @property
    def name(self) -> str:
        return type(self).__name__


# -- transport ------------------------------------------------------------
@dataclass(frozen=True)
class Play(Command):
    """Start (with the song's count-in) or resume."""


@dataclass(frozen=True)
class Stop(Command):
    """Stop and go back to the start of the song."""
    at: At = At.NOW


@dataclass(frozen=True)
class TogglePlay(Command):
    """Play when stopped or paused, stop when playing: one footswitch."""


@dataclass(frozen=True)
class Pause(Command):
    at: At = At.NOW


@dataclass(frozen=True)
class Resume(Command):
    pass


@dataclass(frozen=True)
class Restart(Command):
    """Back to bar 1 (and keep playing if playing)."""
    at: At = At.NOW


@dataclass(frozen=True)
class Seek(Command):
    RANGES = {"bar": (1, None)}
    bar: int = 1
    at: At = At.NOW


@dataclass(frozen=True)
class Jump(Command):
    """Jump to a section, by name (any case) or 1-based index."""
    section: str | int = 1
    at: At = At.BAR

    def __post_init__(self) -> None:
        if not isinstance(self.section, (str, int)) or isinstance(self.section, bool):
            raise TypeError(f"Jump.section must be a name or an index, not {self.section!r}")
        if isinstance(self.section, int) and self.section < 1:
            raise ValueError(f"Jump.section index must be 1 or more, not {self.section}")
        super().__post_init__()


@dataclass(frozen=True)
class NextSection(Command):
    at: At = At.BAR


@dataclass(frozen=True)
class Vamp(Command):
    """Loop the current section (bars=0) or the current `bars` bars until released."""
    RANGES = {"bars": (0, 64)}
    bars: int = 0


@dataclass(frozen=True)
class ReleaseVamp(Command):
    """Stop looping: play on through the end of the loop."""


@dataclass(frozen=True)
class Cancel(Command):
    """Forget a pending jump, stop or vamp."""


# -- songs ------------------------------------------------------------------
@dataclass(frozen=True)
class NextSong(Command):
    pass


@dataclass(frozen=True)
class PreviousSong(Command):
    pass


@dataclass(frozen=True)
class SelectSong(Command):
    """The setlist's song at this 1-based position."""
    RANGES = {"index": (1, None)}
    index: int = 1


# -- live mix -----------------------------------------------------------------
GAIN_RANGE = (-120.0, 12.0)


@dataclass(frozen=True)
class SetGain(Command):
    """A stem's (or the click's) level; with `output`, only in that output's mix."""
    RANGES = {"db": GAIN_RANGE}
    stem: str = ""
    db: float = 0.0
    output: str = ""


@dataclass(frozen=True)
class NudgeGain(Command):
    """Turn a level up or down by `db` (an encoder detent)."""
    stem: str = ""
    db: float = 1.0
    output: str = ""


@dataclass(frozen=True)
class Mute(Command):
    stem: str = ""
    on: bool = True


@dataclass(frozen=True)
class Solo(Command):
    stem: str = ""
    on: bool = True


@dataclass(frozen=True)
class SetOutputGain(Command):
    """An output's master level (foh, ears, click ...)."""
    RANGES = {"db": GAIN_RANGE}
    output: str = ""
    db: float = 0.0


@dataclass(frozen=True)
class NudgeOutputGain(Command):
    """Turn an output's master level up or down by `db` (an encoder detent)."""
    output: str = ""
    db: float = 1.0


# -- key and tempo: the song's, played from a variant prepared ahead, switched at a stop ------
KEY_RANGE = (-12, 12)          # semitones from the recorded stems
TEMPO_PERCENT = (50, 200)      # the tempo factor in percent: half to double speed
# The tempo bounds of a song (docs/song-format.md: every [[tempo]], MIDI map and chart is
# checked against them) and of a tempo set live; here so both the vocabulary and the
# timeline use the one pair.
MIN_BPM, MAX_BPM = 10, 999


@dataclass(frozen=True)
class SetKey(Command):
    """Play the selected song `semitones` from its recorded key (0: as recorded). It
    switches at the next stop, once the variant is prepared."""
    RANGES = {"semitones": KEY_RANGE}
    semitones: int = 0


@dataclass(frozen=True)
class NudgeKey(Command):
    """Turn the selected song's key up or down by `semitones` (an encoder detent), kept
    within KEY_RANGE."""
    RANGES = {"semitones": (-24, 24)}
    semitones: int = 1


@dataclass(frozen=True)
class SetTempo(Command):
    """Play the selected song at `percent` of its recorded tempo (100: as recorded)."""
    RANGES = {"percent": TEMPO_PERCENT}
    percent: int = 100


@dataclass(frozen=True)
class NudgeTempo(Command):
    """Turn the selected song's tempo by `percent` points of its factor, kept within
    TEMPO_PERCENT."""
    RANGES = {"percent": (-150, 150)}
    percent: int = 1


# -- playing a song without stems live: its tempo at the next beat, its parts' dynamics ----
@dataclass(frozen=True)
class TapTempo(Command):
    """One tap of the beat: from the fourth tap of a run the song plays at the tapped tempo
    (a song without stems at the next beat; a song with stems from the next stop)."""


@dataclass(frozen=True)
class SetBpm(Command):
    """Play the song at `bpm` (quarter notes a minute) where it is now; its written tempo
    changes keep their ratios."""
    RANGES = {"bpm": (MIN_BPM, MAX_BPM)}
    bpm: float = 120.0


@dataclass(frozen=True)
class NudgeBpm(Command):
    """Turn the tempo heard now up or down by `bpm` (an encoder detent: 1)."""
    RANGES = {"bpm": (-100, 100)}
    bpm: float = 1.0


INTENSITY_RANGE = (0.0, 1.0)     # the parts' dynamics: 0 soft .. 1 loud


@dataclass(frozen=True)
class SetIntensity(Command):
    """The chart parts' dynamics, 0 (soft: quieter, fewer notes) to 1 (loud: fills): their
    level at once, their notes from the next bar."""
    RANGES = {"level": INTENSITY_RANGE}
    level: float = 0.6


@dataclass(frozen=True)
class NudgeIntensity(Command):
    """Turn the parts' dynamics up or down by `step`, kept within 0..1."""
    RANGES = {"step": (-1.0, 1.0)}
    step: float = 0.1


# -- recording ------------------------------------------------------------------------
@dataclass(frozen=True)
class Arm(Command):
    """Arm (or disarm) an input by its configured name, or "all": armed inputs are recorded.
    Taken between takes; during one, refused."""
    input: str = "all"
    on: bool = True


@dataclass(frozen=True)
class RecordArm(Command):
    """Takes follow playback: the next Play starts a take with the count-in, Stop ends it.
    `on` None toggles."""
    on: bool | None = None


@dataclass(frozen=True)
class Record(Command):
    """A take now, without playback (a rehearsal); again (or `on` False) ends it.
    `on` None toggles; `frames` > 0 ends it by itself after that many, to the sample."""
    RANGES = {"frames": (0, None)}
    on: bool | None = None
    frames: int = 0


# -- the front panel (the menu and the box itself, not the engine) -----------------
@dataclass(frozen=True)
class OpenMenu(Command):
    pass


@dataclass(frozen=True)
class MenuMove(Command):
    """Move the menu's cursor `steps` items (negative: up)."""
    steps: int = 1


@dataclass(frozen=True)
class MenuSelect(Command):
    pass


@dataclass(frozen=True)
class MenuBack(Command):
    pass


@dataclass(frozen=True)
class OpenShow(Command):
    """Play another setlist (or song folder) from the library: only while stopped."""
    path: str = ""


@dataclass(frozen=True)
class Shutdown(Command):
    """Power the box off (the daemon stops cleanly first)."""


@dataclass(frozen=True)
class LearnMidi(Command):
    """The next note or CC from any MIDI input will send `command` (a command name);
    "" stops listening."""
    command: str = ""


@dataclass(frozen=True)
class SetBrightness(Command):
    """The display's brightness (an OLED's contrast; a character LCD's backlight on or off)."""
    RANGES = {"percent": (0, 100)}
    percent: int = 100


@dataclass(frozen=True)
class NewPairingCode(Command):
    """Make a fresh code for the web remote, for the menu to show (the box's own, as
    `backline remote pair` prints one)."""


@dataclass(frozen=True)
class RevokeRemote(Command):
    """Unpair the web remote's device with this token id."""
    token_id: str = ""


TRANSPORT = (Play, Stop, TogglePlay, Pause, Resume, Restart, Seek, Jump, NextSection, Vamp,
             ReleaseVamp, Cancel)
SONGS = (NextSong, PreviousSong, SelectSong)
MIX = (SetGain, NudgeGain, Mute, Solo, SetOutputGain, NudgeOutputGain)
KEY_AND_TEMPO = (SetKey, NudgeKey, SetTempo, NudgeTempo)
LIVE = (TapTempo, SetBpm, NudgeBpm, SetIntensity, NudgeIntensity)
RECORDING = (Arm, RecordArm, Record)
PANEL = (OpenMenu, MenuMove, MenuSelect, MenuBack, OpenShow, Shutdown, SetBrightness, LearnMidi,
         NewPairingCode, RevokeRemote)
BOX_COMMANDS = (OpenShow, Shutdown, SetBrightness, LearnMidi,    # for the box itself,
                NewPairingCode, RevokeRemote)                    # not the engine
