"""The audio thread: commands in, one period rendered, one period written.

The frames written to the device are the appliance's one clock
(`output_frame`). Commands from every control arrive in the inbox (lock-free for
this thread; level changes coalesced by the senders) and at most COMMANDS_PER_PERIOD
of them are applied at the start of the next period; the rest wait a period. The
state snapshot is republished after every period.

Faults: an underrun (write returns XRUN) is counted and the same period is
written again, so the song loses no frame and the click keeps its place; a
device that goes away leaves the engine running, *stalled*, reopening it with
backoff, and playing on from the same frame when it returns. An exception in the
period's own work (commands, render) is caught at the period boundary: the engine
keeps it (`fault`), fades what it last wrote to silence, plays silence from then on,
ignores commands and says `faulted`; the service stops the watchdog pings, so systemd
restarts the unit (see docs/engine.md).

Inputs: when the device has inputs, the same thread reads one captured period
after each period written (full duplex, in lockstep) and hands it to the
recorder's ring; inputs that cannot be opened are reported and playback goes on.
"""
from __future__ import annotations

import gc
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np

from ..lifetime import Lifetime
from ..vocab.commands import RECORDING, Command
from ..vocab.segments import SegmentLog
from ..vocab.state import Health, State
from .backends.device import XRUN, Capture, DeviceError, Playback
from .inbox import Inbox
from .mix.limiter import Limiter
from .play.transport import Transport
from .record.recorder import Recorder
from .threads.priority import AUDIO, realtime

RETRY_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)    # reopening a missing device
CALM_S = 2.0                                  # clean audio after a fault before "healthy"
WORK_HISTORY = 1 << 16                        # per-period work times kept for benches
SWITCH_S = 0.00002    # how long another Python thread may keep the audio thread waiting
FAULT_FADE_S = 0.005  # after a fault, the last frame written fades to zero over this long
# Commands applied per period, at most. A level change costs ~10 µs (a mixer update), a song
# change more; 64 stay well inside a 256-frame period (5.3 ms) on a Pi, and no foot or
# hand sends 64 distinct commands in 5 ms: only a burst waits, a period at a time.
COMMANDS_PER_PERIOD = 64


@dataclass(frozen=True)
class Fault:
    """An exception the audio thread caught in its own work, and where the show was."""
    reason: str           # the exception, in words
    song: str             # the song's folder name ("" when none was loaded)
    frame: int            # the song frame the transport was at
    output_frame: int     # the output frame of the period that raised


class Engine(Lifetime):
    """The audio thread over a backend's devices: it knows only the `Playback` and
    `Capture` protocols (backends/device.py), never which backend it runs on.
    `with Engine(...) as e:` does not start it (a player starts its loader and writer
    first, then `e.start()`); leaving the block stops it and closes its devices."""

    def __init__(self, transport: Transport, device: Playback, *,
                 capture: Capture | None = None, recorder: Recorder | None = None,
                 limiter: Limiter | None = None) -> None:
        self.transport = transport
        self.device = device
        self.limiter = limiter
        self.delay = limiter.delay if limiter else 0   # song audio is heard this much later
        self.capture = capture
        self.recorder = recorder or Recorder({})
        self.capture_problem = ""
        self.overruns = 0
        self.segments = SegmentLog()
        self.inbox = Inbox()
        self.output_frame = 0
        self.periods = 0                 # periods written
        self.heartbeat = 0               # every turn of the loop, playing or retrying a device:
                                         # the watchdog's proof that the audio thread is alive
        self.xruns = 0
        self.realtime = ""
        self.health = Health.STALLED
        self.problem = ""
        self.fault: Fault | None = None  # set once, by the audio thread; never cleared
        self._fault_problem = ""
        self.work_ns = np.zeros(WORK_HISTORY, dtype=np.int64)   # wall time of each period's work
        self.cpu_ns = np.zeros(WORK_HISTORY, dtype=np.int64)    # the part of it the thread ran;
                                                                # the rest it waited (GIL, CPU)
        self.applied = np.zeros(WORK_HISTORY, dtype=np.int32)   # commands applied each period
        self._publish()
        self._calm_from = 0
        self._held: np.ndarray | None = None     # a period the device took away with it
        self._last = np.zeros(1, dtype=np.float32)  # the last frame written: a fault fades it out
        self._fade = np.linspace(1.0, 0.0, max(1, int(FAULT_FADE_S * device.rate)) + 1,
                                 dtype=np.float32)[1:]
        self._fade_from = self._last           # where a fault's fade starts
        self._fade_left = 0
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, cmd: Command) -> None:
        """Queue a command for the next period (any thread)."""
        if not isinstance(cmd, Command):
            raise TypeError(f"send() takes a Command, not {cmd!r}")
        self.inbox.put(cmd)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="backline-audio", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Idempotent: stopping a stopped engine does nothing more."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join()
        self.device.close()
        if self.capture is not None:
            self.capture.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _publish(self) -> None:
        faulted = self.fault is not None    # until the restart, whatever the device does
        self._moment = (self.output_frame, Health.FAULTED if faulted else self.health, self.xruns,
                        self._fault_problem if faulted else self.problem, self.transport.moment)

    @property
    def state(self) -> State:
        """The latest state snapshot (built from what the audio thread last published)."""
        output_frame, health, xruns, problem, moment = self._moment
        fields = dict(output_frame=output_frame, health=health, xruns=xruns,
                      record=self.recorder.moment(output_frame, self.device.rate))
        if self.limiter is not None:
            fields["limited"] = tuple((name, n) for name, n, _ in self.limiter.caught_by_output())
        if problem or self.capture_problem:
            fields["problem"] = problem or self.capture_problem
        return self.transport.snapshot(moment, **fields)

    def _open(self) -> bool:
        try:
            self.device.open()
        except DeviceError as exc:
            self.problem = str(exc)
            return False
        self.problem = ""
        return True

    def _realtime(self) -> None:
        """Ask for real-time scheduling for this (the audio) thread; say so when refused."""
        self.realtime = realtime(AUDIO)
        if not self.realtime.startswith("SCHED"):
            self.realtime += ": audio may drop out under load"
        gc.freeze()          # what is loaded now is never scanned by the collector again

    def _run(self) -> None:
        self._realtime()
        attempt = 0
        while not self._halt.is_set():
            if not self.device.is_open:
                if not self._open():
                    self.heartbeat += 1
                    self.health = Health.STALLED
                    try:
                        self._apply_commands()
                    except Exception as exc:      # a command's own fault, as in a period
                        self._faulted(exc)
                    self._publish()
                    self._halt.wait(RETRY_S[min(attempt, len(RETRY_S) - 1)])
                    attempt += 1
                    continue
                attempt = 0
                self.health = Health.RECOVERING if self.periods else Health.HEALTHY
                self._calm_from = self.output_frame
                self._play_while_open()
            else:
                self._play_while_open()

    def _apply_commands(self) -> int:
        """Up to COMMANDS_PER_PERIOD queued commands applied (faulted: dropped until the
        restart); how many."""
        inbox = self.inbox
        transport = self.transport
        transport.clock = self.output_frame       # what a tap is timed by
        n = 0
        while n < COMMANDS_PER_PERIOD:
            cmd = inbox.pop()
            if cmd is None:
                break
            n += 1
            if self.fault is not None:
                continue
            if isinstance(cmd, RECORDING):
                transport.reject(cmd, self.recorder.apply(cmd, self.output_frame, transport))
            else:
                transport.apply(cmd)
        return n

    def _open_capture(self) -> Capture | None:
        """The inputs, opened beside the outputs; None (and why, in the state) when not."""
        cap = self.capture
        if cap is None:
            return None
        if not cap.is_open:
            try:
                cap.open()
            except DeviceError as exc:
                self.capture_problem = f"inputs: {exc}"
                return None
            if cap.period != self.device.period:
                cap.close()
                self.capture_problem = (f"inputs: the device gives {cap.period}-frame periods "
                                        f"for input, {self.device.period} for output")
                return None
        self.capture_problem = ""
        self.recorder.attach(cap.channels, cap.rate, cap.period)
        silence = np.zeros((self.device.period, self.device.channels), dtype=np.float32)
        for _ in range(self.device.periods - 1):   # outputs run ahead while an input is read
            self.device.write(silence)
        return cap

    def _read_input(self, cap: Capture, block: np.ndarray) -> Capture | None:
        """The period's input into the recorder (silence, counted, if it was lost)."""
        try:
            got = cap.read(block)
        except DeviceError as exc:
            self.capture_problem = f"inputs: {exc}"
            return None
        if got != len(block):
            block.fill(0.0)
            self.overruns += 1
            self.recorder.lost()
        self.recorder.keep(self.output_frame, block)
        return cap

    def _faulted(self, exc: Exception) -> None:
        """The period's work raised: keep why and where (the service logs it; this thread
        must not), and start the fade from the last frame written."""
        song = self.transport.song
        reason = f"{type(exc).__name__}: {exc}"
        self._fault_problem = f"audio fault: {reason}"
        self._fade_from = self._last.copy()
        self._fade_left = len(self._fade) if self.device.is_open else 0   # stalled: none
        self.fault = Fault(reason, song.song.name if song else "", self.transport.pos,
                           self.output_frame)

    def _silence(self, buf: np.ndarray) -> None:
        """A faulted period: the fade from the last frame written (no step), then zeros."""
        buf.fill(0.0)
        left = self._fade_left
        if left and self._fade_from.shape[0] == buf.shape[1]:
            k = min(left, buf.shape[0])
            done = len(self._fade) - left
            np.multiply(self._fade[done: done + k, None], self._fade_from, out=buf[:k])
            self._fade_left -= k
        else:
            self._fade_left = 0

    def _play_while_open(self) -> None:
        sys.setswitchinterval(SWITCH_S)
        device = self.device
        period = device.period
        buf = np.zeros((period, device.channels), dtype=np.float32)
        try:
            cap = self._open_capture()
        except DeviceError as exc:
            self.problem = str(exc)
            self.health = Health.STALLED
            self._publish()
            return
        cap_buf = np.zeros((period, cap.channels if cap else 1), dtype=np.float32)
        self._last = np.zeros(device.channels, dtype=np.float32)   # nothing written here yet
        recorder = self.recorder
        transport = self.transport
        calm = int(CALM_S * device.rate)
        work, cpu, applied = self.work_ns, self.cpu_ns, self.applied
        clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
        while not self._halt.is_set():
            if self._held is not None and self._held.shape == buf.shape:
                buf[:] = self._held               # first, what the lost device never played
                self._held = None
            elif self.fault is not None:
                self._apply_commands()            # dropped
                self._silence(buf)
            else:
                t0, c0 = clock(), cpu_clock()
                try:
                    was = transport.state
                    applied[self.periods % WORK_HISTORY] = self._apply_commands()
                    recorder.follow_transport(self.output_frame, was, transport)
                    buf.fill(0.0)
                    transport.render(buf, self.segments, self.output_frame + self.delay)
                    if self.limiter is not None:
                        self.limiter.process(buf)
                except Exception as exc:  # the period boundary: faded silence, not a dead thread
                    self._faulted(exc)
                    self._silence(buf)    # the half-made period is never written
                i = self.periods % WORK_HISTORY
                work[i] = clock() - t0
                cpu[i] = cpu_clock() - c0
            transport.wake_disks()
            try:
                written = device.write(buf)
                while written == XRUN:           # underrun: the device recovers on the next write
                    self.xruns += 1
                    self.health = Health.RECOVERING
                    self._calm_from = self.output_frame
                    written = device.write(buf)
            except DeviceError as exc:
                self._held = buf
                self.problem = str(exc)
                self.health = Health.STALLED
                if cap is not None:
                    cap.close()                  # both directions start again together
                self._publish()
                return
            self._last[:] = buf[-1]
            self.segments.handed = (self.output_frame + period, clock())
            if cap is not None:
                cap = self._read_input(cap, cap_buf)
            self.output_frame += period
            self.periods += 1
            self.heartbeat += 1
            if self.health == Health.RECOVERING and self.output_frame - self._calm_from >= calm:
                self.health = Health.HEALTHY
            self._publish()
