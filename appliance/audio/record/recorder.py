"""Recording, the audio thread's side: every captured period goes into a bounded ring,
and the recorder marks where takes start and end. A writer thread (`takes.TakeWriter`)
drains the ring to disk; nothing here touches the disk, logs or waits.

Capture runs in lockstep with playback (one period read per period written), so a
ring frame is an output frame: a take started by Play at output frame F holds the
inputs from capture frame F + latency, the round trip `backline calibrate` measured,
and lines up with the song to the frame.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ...vocab import commands as c
from ...vocab.state import RecordState, TransportState

RING_S = 4.0          # seconds of input the writer may fall behind before a take stops


class CaptureRing:
    """Captured frames by absolute frame number; one writer (the audio thread), one reader."""

    def __init__(self, channels: int, capacity: int) -> None:
        self.data = np.zeros((capacity, channels), dtype=np.float32)
        self.capacity = capacity
        self.written = 0          # frames up to here are in the ring (audio thread)
        self.consumed = 0         # frames before here the reader is done with (writer thread)

    def room(self, frame: int, n: int) -> bool:
        """Whether frames [frame, frame + n) fit without overwriting unread ones."""
        return frame + n - self.consumed <= self.capacity

    def push(self, frame: int, block: np.ndarray) -> None:
        n = len(block)
        i = frame % self.capacity
        k = min(n, self.capacity - i)
        self.data[i:i + k] = block[:k]
        if k < n:
            self.data[: n - k] = block[k:]
        self.written = frame + n

    def read(self, frame: int, n: int, out: np.ndarray) -> None:
        """Frames [frame, frame + n) into `out` (n × channels), for the reader."""
        i = frame % self.capacity
        k = min(n, self.capacity - i)
        out[:k] = self.data[i:i + k]
        if k < n:
            out[k:n] = self.data[: n - k]


@dataclass(frozen=True)
class TakeStart:
    """What the writer needs to open a take (made once per take, not per period)."""
    frame: int                       # first ring frame of the take (latency applied)
    song: object | None              # the LoadedSong playing, or None (a free take)
    index: int                       # setlist position
    song_frame: int                  # song-timeline frame of the take's first sample
    inputs: tuple[tuple[str, int], ...]   # armed (name, 0-based channel)
    latency: int


@dataclass(frozen=True)
class TakeStop:
    frame: int                       # ring frame the take ends before
    reason: str = ""


@dataclass
class Recorder:
    inputs: dict[str, int]           # configured name -> 0-based capture channel
    latency: int = 0
    armed: tuple[str, ...] = ()
    follow: bool = False             # record-arm: takes follow playback
    events: deque = field(default_factory=deque)   # TakeStart / TakeStop, to the writer
    ring: CaptureRing | None = None
    peaks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    running: str = ""                # "follow" or "free" while a take runs
    start_frame: int = 0
    problem: str = ""
    fault: str = ""                  # set by the writer (disk full ...): ends the take
    dropped: int = 0                 # periods of input lost to overruns during takes
    _index: int = -1                 # the setlist position a follow take is recording
    until: int = 0                   # a free take of a set length ends at this output frame
    needed_until: int = 0            # the last take's end: input after it is nobody's yet
    take_name: str = ""              # the writer's: the running (or last) take's folder
    left_s: float | None = None      # the writer's: recording time left on the disk

    def __post_init__(self) -> None:
        if not self.armed:
            self.armed = tuple(self.inputs)

    def attach(self, channels: int, rate: int, period: int) -> None:
        """The capture device is open with `channels` inputs (before the audio starts)."""
        if self.ring is None or self.ring.data.shape[1] != channels:
            self.ring = CaptureRing(channels, int(RING_S * rate))
        self.peaks = np.zeros(channels, dtype=np.float32)
        self._peak = np.zeros(channels, dtype=np.float32)
        self._abs = np.zeros((period, channels), dtype=np.float32)

    def take_peaks(self) -> np.ndarray:
        """Each input's peak since the last call (a meter's reading; any thread)."""
        peaks = self.peaks.copy()
        self.peaks.fill(0.0)
        return peaks

    # -- commands (audio thread, between periods) ----------------------------------
    def apply(self, cmd: c.Command, frame: int, transport) -> str:
        """Apply a recording command at output frame `frame`; the reason if refused."""
        if isinstance(cmd, c.Arm):
            if self.running:
                return "not while a take runs"
            names = tuple(self.inputs) if cmd.input == "all" else (cmd.input,)
            if any(n not in self.inputs for n in names):
                return f"no input {cmd.input!r} (inputs: {', '.join(self.inputs) or 'none'})"
            self.armed = tuple(n for n in self.inputs
                               if (n in names and cmd.on) or (n in self.armed and n not in names))
            return ""
        if isinstance(cmd, c.RecordArm):
            self.follow = (not self.follow) if cmd.on is None else cmd.on
            if not self.follow and self.running == "follow":
                self._stop(frame)
            return ""
        on = (not self.running) if cmd.on is None else cmd.on
        if not on:
            if self.running:
                self._stop(frame)
            return ""
        if self.running:
            return "a take is already running"
        self.until = frame + cmd.frames if cmd.frames else 0
        return self._start(frame, "free", transport)

    # -- every period (audio thread) ------------------------------------------------
    def follow_transport(self, frame: int, was: str, transport) -> None:
        """At the start of the period at output frame `frame`, commands applied, before it
        is rendered (`was`: the transport's state before the commands)."""
        playing = transport.state in (TransportState.COUNT_IN, TransportState.PLAYING)
        if self.fault and self.running:
            self._stop(frame, self.fault)
        if self.running == "free" and self.until and frame >= self.until:
            self._stop(self.until)                       # a set length, to the sample
        if self.running == "follow" and (not playing or transport.index != self._index):
            self._stop(frame)                            # the song stopped or changed
        if self.follow and not self.running and playing and \
                (was not in (TransportState.COUNT_IN, TransportState.PLAYING) or transport.index != self._index):
            self._start(frame, "follow", transport)

    def keep(self, frame: int, block: np.ndarray) -> None:
        """The period's input (captured while output frame `frame` was written)."""
        np.abs(block, out=self._abs)
        self._abs.max(axis=0, out=self._peak)
        np.maximum(self.peaks, self._peak, out=self.peaks)
        ring = self.ring
        n = len(block)
        # between takes, what lies past the last take's end is nobody's: a writer that
        # stalled while idle must not keep the ring shut for good
        if ring.room(frame, n) or (not self.running and    # the frames it would overwrite
                                   frame - ring.capacity >= self.needed_until):
            ring.push(frame, block)
        elif self.running:                                # the writer fell behind
            self._stop(frame, "the disk fell behind: recording stopped")

    def lost(self) -> None:
        """A capture overrun: the period's input is gone (it is recorded as silence)."""
        if self.running:
            self.dropped += 1

    def _start(self, frame: int, mode: str, transport) -> str:
        if self.ring is None:
            return "no inputs to record (the device has none open)"
        if not self.armed:
            return "no input is armed"
        self.fault = ""
        self.problem = ""
        song = transport.song
        self._index = transport.index
        song_frame = transport.timeline_frame if song is not None else 0
        self.events.append(TakeStart(frame + self.latency, song if mode == "follow" else None,
                                     transport.index + 1, song_frame,
                                     tuple((n, self.inputs[n]) for n in self.armed),
                                     self.latency))
        self.running = mode
        self.start_frame = frame
        return ""

    def _stop(self, frame: int, reason: str = "") -> None:
        self.events.append(TakeStop(frame + self.latency, reason))
        self.needed_until = frame + self.latency
        self.running = ""
        if reason:
            self.problem = reason
            self.follow = False

    def moment(self, frame: int, rate: int) -> RecordState:
        """What the snapshot shows (built on request, not in the audio thread)."""
        seconds = (frame - self.start_frame) / rate if self.running else 0.0
        return RecordState(armed=self.armed, follow=self.follow, running=bool(self.running),
                           seconds=seconds, left_s=self.left_s, take=self.take_name,
                           problem=self.problem, dropped=self.dropped, inputs=tuple(self.inputs))
