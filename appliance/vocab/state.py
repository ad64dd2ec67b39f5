"""The state snapshot: what the display, MIDI out and any remote read.

The audio thread publishes a new immutable `State` every period by swapping one
reference; readers take `engine.state` and never see half an update.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class TransportState(StrEnum):
    """What the transport is doing. A `StrEnum`: each member is its text, so it
    compares equal to `"playing"` and prints as it always did in STATUS and the journal."""
    STOPPED = "stopped"
    COUNT_IN = "count-in"
    PLAYING = "playing"
    PAUSED = "paused"
    LOADING = "loading"


class Health(StrEnum):
    """How the audio thread is doing (text as in TransportState)."""
    HEALTHY = "healthy"
    RECOVERING = "recovering"
    STALLED = "stalled"
    FAULTED = "faulted"     # the audio thread caught an exception in its own work; it plays
    # silence and the service stops the watchdog pings so systemd restarts the unit
    # (see docs/engine.md)


def clock(seconds: float) -> str:
    """A time as a musician reads it: `1:23.4`."""
    minutes, secs = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{secs:04.1f}"


@dataclass(frozen=True)
class StemLevel:
    name: str
    gain_db: float
    muted: bool
    solo: bool
    sends: tuple[tuple[str, float], ...] = ()    # output -> dB in that output's own mix


@dataclass(frozen=True)
class RecordState:
    inputs: tuple[str, ...] = ()   # configured inputs (none: nothing to record)
    armed: tuple[str, ...] = ()
    follow: bool = False           # record-arm: takes follow playback
    running: bool = False
    seconds: float = 0.0           # of the running take
    left_s: float | None = None    # recording time the disk has left for the armed inputs
    take: str = ""                 # the running (or last) take's folder name
    problem: str = ""              # why the last take stopped early
    dropped: int = 0               # input periods lost to overruns during takes


@dataclass(frozen=True)
class KeyTempo:
    """The song's key and tempo: what plays, what the musician wants (the next stop
    switches to it once its variant is prepared), and how far that preparation is."""
    transpose: float = 0.0         # semitones from the recorded stems, playing
    tempo: float = 1.0             # the tempo factor playing
    wanted_transpose: float = 0.0
    wanted_tempo: float = 1.0
    bpm: float = 0.0               # bar 1's written BPM (times a factor: its BPM then)
    preparing: float | None = None  # 0 to 1 while the wanted variant is prepared
    problem: str = ""              # why the wanted key/tempo cannot play (it stays as it is)
    intensity: float | None = None  # a chart's parts' dynamics, 0 soft .. 1 loud (None: no parts)

    @property
    def changed(self) -> bool:
        """Plays at another key or tempo than recorded."""
        return self.transpose != 0 or self.tempo != 1

    @property
    def switching(self) -> bool:
        """What is wanted is not what plays yet."""
        return (self.wanted_transpose, self.wanted_tempo) != (self.transpose, self.tempo)


@dataclass(frozen=True)
class Loudness:
    """The song's measured front-of-house loudness and the gain the box plays it at (as
    `backline check` says it): what a soundcheck wants to see on the song page."""
    lufs: float | None = None      # integrated, as measured (-inf: silent); None: no gain applies
    gain_db: float = 0.0           # on the front-of-house outputs
    note: str = ""                 # why no gain applies ("loudness not measured ..."), or ""


@dataclass(frozen=True)
class State:
    transport: TransportState = TransportState.STOPPED
    song: str = ""                 # title
    song_name: str = ""            # folder name
    key: str = ""                  # the song's key, as song.toml says it
    index: int = 0                 # 1-based setlist position (0: nothing loaded)
    count: int = 0                 # songs in the setlist
    next_song: str = ""
    setlist: str = ""
    section: str = ""
    sections: tuple[str, ...] = ()  # the song's section names, in order (what `jump` takes)
    bar: int = 1
    beat: int = 1
    beat_phase: float = 0.0        # 0 on the beat, rising to 1 at the next
    bpm: float = 0.0
    meter: str = ""
    frame: int = 0                 # song frame (bar 1 beat 1 = 0)
    seconds: float = 0.0
    song_frames: int = 0
    output_frame: int = 0          # frames handed to the device since start: the one clock
    count_in_left: int = 0         # frames of count-in still to play
    songs_ended: int = 0           # songs played to their end since start
    pending: str = ""              # e.g. "jump to Chorus at bar 17"
    waiting: str = ""              # a jump whose audio is not in memory yet: it waits, silent
    vamp: str = ""                 # e.g. "vamp Verse (bars 5-12)"
    mix: tuple[StemLevel, ...] = field(default=())
    output_gain_db: tuple[tuple[str, float], ...] = field(default=())
    health: Health = Health.HEALTHY
    xruns: int = 0
    disk_underruns: int = 0
    limited: tuple[tuple[str, int], ...] = field(default=())   # output -> samples the safety
                                                               # limiter turned down
    failed_stems: tuple[str, ...] = field(default=())
    stem_problems: tuple[str, ...] = field(default=())   # "bass.flac silent from 1:23.0"
    rejected: str = ""             # the last command refused, and why
    refusals: int = 0              # commands refused since start: a repeat is news again
    problem: str = ""              # the device or song trouble, in words
    record: RecordState = RecordState()
    key_tempo: KeyTempo = KeyTempo()
    loudness: Loudness = Loudness()
    sync: str = ""                 # `backline sync`'s progress line while it copies into the
                                   # library: set by the service for the display, not the engine
