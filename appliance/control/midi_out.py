"""MIDI out in time with the audio: beat clock at 24 ticks a quarter note, Start, Stop,
Continue and Song Position Pointer, each section's messages and the song's MIDI file
(lights, lyrics: its events placed on the song's tempo map by beat) from song.toml, planned
from what the audio thread logged it played (`SegmentLog`) and released when their frame
is about to be heard. A song's own messages go out when it is selected.

Planning is exact and pure (`ClockPlanner`): a tick's frame is the tempo map's frame for
its quarter-note fraction, so ticks follow tempo changes and ramps with no drift, and a
jump or a vamp's loop is a Stop, a Song Position Pointer and a Continue at the frame it
happened. The count-in ticks at the start position's tempo, so a receiver locks on before
bar 1, where Start is sent. Releasing (`ClockSender`) maps output frames to the
moment they leave the speakers: the time each period was handed to the device, plus the
device's buffer.
"""
from __future__ import annotations

import bisect
import math
import threading
import time
from collections import deque
from fractions import Fraction
from typing import Callable

import mido

from ..audio.threads.priority import HELPER, realtime
from ..lifetime import Lifetime
from ..timeline.song import Song
from ..vocab.segments import INDEX, KIND, KIND_COUNT_IN, LENGTH, OUT, START, TIMELINE, SegmentLog

TICKS = 24                     # MIDI clock ticks a quarter note
MTC_HOUR = 1                   # bar 1 beat 1 is 01:00:00:00, so a count-in has a time too
MTC_RATE_BITS = {24: 0, 25: 1, 30: 3}
LOOK_S = 0.005                 # how often the sender looks for new segments when idle
CLOCK_TRANSPORT = ("clock", "start", "stop", "continue", "songpos")


class ClockPlanner:
    """Segments in, (output frame, message) out, in order."""

    def __init__(self, song: Callable[[int], Song | None], rate: int, *, clock: bool = True,
                 mtc: int = 0, live: Callable[[int, int], Song | None] | None = None) -> None:
        """`clock`: beat clock and transport; `mtc`: time code frames a second (0: none);
        `live(index, output frame)`: the timeline a song played with then, when its tempo
        changed as it played (the transport's `live_song`), else None."""
        self.song = song               # a setlist index -> its timeline (tempo map)
        self.live = live
        self.rate = rate
        self.clock = clock
        self.mtc = mtc
        self.running = False           # a Start or Continue was sent, no Stop since
        self._end: tuple[int, int, int] | None = None   # (output frame, timeline, index) next
        self._last: Song | None = None       # the timeline the last segment played with
        self._cues: dict[int, tuple] = {}    # index -> (timeline, [(frame, messages)])
        self._files: dict[int, tuple] = {}   # index -> (timeline, frames, its MIDI file's)
        self._next_tick: tuple | None = None     # (song, timeline frame, tick, its frame)

    def plan(self, row) -> list[tuple[int, mido.Message]]:
        out, t0, n, kind, index, start = (int(row[i]) for i in (OUT, TIMELINE, LENGTH, KIND,
                                                                 INDEX, START))
        song = (self.live(index, out) if self.live is not None else None) or self.song(index)
        msgs: list[tuple[int, mido.Message]] = []
        moved = self._end != (out, t0, index)
        jumped = moved and not self._retimed(song, out, t0, index)
        if jumped and self.running:                          # a jump, a loop, a new song
            msgs.append((out, mido.Message("stop")))
            self.running = False
        self._end, self._last = (out + n, t0 + n, index), song
        if self.mtc:
            msgs += self._time_code(out, t0, n, moved)
        if song is None:
            return msgs
        if kind == KIND_COUNT_IN:
            ticks = self._count_in_ticks(song, start, t0, n)
        else:
            if not self.running:
                msgs += self._go(song, out, t0)
            msgs += [(out + f - t0, m) for f, cue in self._sections(index, song)
                     if t0 <= f < t0 + n for m in cue]
            frames, events = self._file(index, song)
            lo, hi = bisect.bisect_left(frames, t0), bisect.bisect_left(frames, t0 + n)
            msgs += [(out + frames[i] - t0, events[i]) for i in range(lo, hi)]
            ticks = self._song_ticks(song, t0, n)
        if self.clock:
            msgs += [(out + f - t0, mido.Message("clock")) for f in ticks]
        else:
            msgs = [m for m in msgs if m[1].type not in CLOCK_TRANSPORT]
        return msgs

    def _retimed(self, song: Song | None, out: int, t0: int, index: int) -> bool:
        """This segment goes on from the last at the same beat of a new tempo map (a tempo
        changed as the song played): the clock goes on at the new tempo, no Stop, no SPP."""
        last, end = self._last, self._end
        if song is None or last is None or last is song or end is None or \
                (end[0], end[2]) != (out, index):
            return False
        was = last.tempo.qn_at_seconds(Fraction(end[1], self.rate))
        now = song.tempo.qn_at_seconds(Fraction(t0, self.rate))
        return abs(was - now) < Fraction(1, 4 * TICKS)

    def _time_code(self, out: int, t0: int, n: int, jumped: bool) -> list:
        """Quarter frames on their grid from 01:00:00:00 at bar 1; a full frame at a jump."""
        fps, rate = self.mtc, self.rate
        per_qf = Fraction(rate, 4 * fps)
        base = MTC_HOUR * 3600 * 4 * fps                     # quarter frames before bar 1
        first = math.ceil(t0 / per_qf)
        msgs = []
        if jumped:
            msgs.append((out, mido.Message("sysex", data=[0x7F, 0x7F, 0x01, 0x01,
                                                          *self._hmsf(base + first)])))
        j = first
        while (f := math.floor(j * per_qf + Fraction(1, 2))) < t0 + n:
            if f >= t0:
                piece = (j + base) % 8
                h, m, sec, fr = self._hmsf(base + j - piece)
                nibble = [fr & 15, fr >> 4, sec & 15, sec >> 4, m & 15, m >> 4,
                          h & 15, (h >> 4) & 1 | MTC_RATE_BITS[fps] << 1][piece]
                msgs.append((out + f - t0, mido.Message("quarter_frame", frame_type=piece,
                                                        frame_value=nibble)))
            j += 1
        return msgs

    def _hmsf(self, quarter_frames: int) -> list[int]:
        """Hours (with the rate bits in a full frame's first byte), minutes, seconds, frames."""
        frames = quarter_frames // 4
        fps = self.mtc
        h, rest = divmod(frames, 3600 * fps)
        m, rest = divmod(rest, 60 * fps)
        sec, fr = divmod(rest, fps)
        return [h % 24 | MTC_RATE_BITS[fps] << 5, m, sec, fr]

    def stopped(self) -> list[tuple[int, mido.Message]]:
        """The transport stopped (no segment follows the last): Stop where sound ended."""
        if not self.running or self._end is None:
            return []
        self.running = False
        return [(self._end[0], mido.Message("stop"))] if self.clock else []

    @property
    def end(self) -> int | None:
        return None if self._end is None else self._end[0]

    def _go(self, song: Song, out: int, t0: int) -> list[tuple[int, mido.Message]]:
        self.running = True
        if t0 == 0:
            return [(out, mido.Message("start"))]
        qn = song.tempo.qn_at_seconds(Fraction(t0, self.rate))
        sixteenths = min(16383, max(0, math.floor(qn * 4)))
        return [(out, mido.Message("songpos", pos=sixteenths)), (out, mido.Message("continue"))]

    def _sections(self, index: int, song: Song) -> list[tuple[int, tuple]]:
        if self._cues.get(index, (None,))[0] is not song:     # a new song, or a new tempo
            self._cues[index] = (song, [(song.tempo.frame_at(s.qn, self.rate), s.midi)
                                        for s in song.sections if s.midi])
        return self._cues[index][1]

    def _file(self, index: int, song: Song) -> tuple[list[int], list]:
        """The song's MIDI file events, by frame on its own tempo map."""
        if self._files.get(index, (None,))[0] is not song:
            self._files[index] = (song, [song.tempo.frame_at(qn, self.rate)
                                         for qn, _ in song.midi_events],
                                  [m for _, m in song.midi_events])
        return self._files[index][1:]

    def _song_ticks(self, song: Song, t0: int, n: int) -> list[int]:
        """Tick frames in [t0, t0 + n); a segment that goes on from the last one starts
        from the tick found then (most do: no tempo search a period)."""
        tempo, rate = song.tempo, self.rate
        if self._next_tick is not None and self._next_tick[0] is song and \
                self._next_tick[1] == t0:
            k, f = self._next_tick[2], self._next_tick[3]
        else:
            k = math.ceil(tempo.qn_at_seconds(Fraction(t0, rate)) * TICKS) - 1
            while (f := tempo.frame_at(Fraction(k, TICKS), rate)) < t0:   # ticks round
                k += 1
        frames = []
        while f < t0 + n:
            frames.append(f)
            k += 1
            f = tempo.frame_at(Fraction(k, TICKS), rate)
        self._next_tick = (song, t0 + n, k, f)
        return frames

    def _count_in_ticks(self, song: Song, start: int, t0: int, n: int) -> list[int]:
        """Ticks before `start` at the tempo found there (the one on `start` is the song's)."""
        bpm = song.tempo.bpm_at(song.tempo.qn_at_seconds(Fraction(start, self.rate)))
        per_tick = Fraction(60 * self.rate) / (bpm * TICKS)
        nearest = math.floor((start - t0) / per_tick) + 1          # ticks back from start
        farthest = max(1, math.floor((start - t0 - n) / per_tick) - 1)
        frames = [start - math.floor(j * per_tick + Fraction(1, 2))
                  for j in range(nearest, farthest - 1, -1)]
        return [f for f in frames if t0 <= f < t0 + n]


class ClockSender(threading.Thread, Lifetime, ends="close"):
    """Follows the segment log, plans, and sends each message when its frame is heard.
    `with ClockSender(...) as s:` does not start it; leaving the block ends its thread."""

    def __init__(self, log: SegmentLog, planner: ClockPlanner, *, send: Callable[[mido.Message], None],
                 buffer_frames: Callable[[], int], period: int,
                 selected: Callable[[], int] = lambda: -1,
                 now: Callable[[], int] = time.perf_counter_ns) -> None:
        """`selected`: the setlist index chosen now (its song's messages go out on a change)."""
        super().__init__(name="backline-midi-clock", daemon=True)
        self.log = log
        self.planner = planner
        self._send = send
        self._buffer = buffer_frames
        self._period = period
        self._now = now
        self._selected = selected
        self._index = -1
        self._row = log.written
        self._queue: list[tuple[int, mido.Message]] = []
        self._offset_ns: float | None = None       # heard(frame) = offset + frame / rate
        self._offset_at = 0
        self._halt = threading.Event()
        self.late_ns: deque[int] = deque(maxlen=1 << 16)   # how late each message left

    def run(self) -> None:
        realtime(HELPER)          # it keeps time with the audio thread
        rate = self.planner.rate
        while not self._halt.is_set():
            self._follow(rate)
            if not self._queue or self._offset_ns is None:
                self._halt.wait(LOOK_S)
                continue
            frame, msg = self._queue[0]
            due = self._offset_ns + frame * 1e9 / rate
            wait = (due - self._now()) / 1e9
            if wait > 0:
                self._halt.wait(min(wait, LOOK_S))
                continue
            self._queue.pop(0)
            self._send(msg)
            self.late_ns.append(int(self._now() - due))

    def _follow(self, rate: int) -> None:
        index = self._selected()
        if index != self._index:
            self._index = index
            song = self.planner.song(index)
            for msg in song.midi if song is not None else ():
                self._send(msg)
        handed, t_ns = self.log.handed
        if handed:
            # when the period ending at `handed` was accepted, `buffer` frames were queued
            # ahead of the speaker: frame f is heard at t + (f - handed + buffer) / rate;
            # the earliest such estimate lately is the least delayed by thread wake-ups
            offset = t_ns + (self._buffer() - handed) * 1e9 / rate
            if self._offset_ns is None or offset < self._offset_ns or \
                    handed - self._offset_at > 2 * rate:
                self._offset_ns, self._offset_at = offset, handed
        first, rows = self.log.rows(self._row)
        for row in rows:
            self._queue += self.planner.plan(row)
        self._row = first + len(rows)
        end = self.planner.end
        if len(rows) == 0 and end is not None and handed > end + self._period:
            self._queue += self.planner.stopped()
        self._queue.sort(key=lambda m: m[0])

    def close(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(2)
