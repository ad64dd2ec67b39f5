"""A chart's parts made sound: `PartsSynth` renders drums, bass and keys with FluidSynth on the
thread that reads them (a disk-style thread, never the audio thread), and offers one reader
per part with the interface a `SongStream` reads stems through.

A few render *contexts* each continue one run of song frames: a part's read from the frame
it read up to in a context is served by it (from the frames it keeps, rendering on as
needed); any other read is a jump, and starts the least recently used context afresh at that
frame. The three parts of a run are rendered together, once, and each part's reader copies
its own rows. Memory does not grow with the chart's length beyond its notes (kept per part):
the audio is only each context's short window.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Mapping

import numpy as np

from ...timeline.chart import Chart
from ...timeline.parts.drums import DRUM_CHANNEL
from ...vocab.state import clock
from .context import STEP, Context, Voice
from .fluid import Fluid
from .levels import PartNotes
from .plan import PartsPlan
from .soundfont import check

CONTEXTS = 3          # the ring playing, one cued at a jump target, one the LRU can reset
TAIL_S = 2            # seconds the parts ring on after the chart's last bar
POLYPHONY = 64        # voices per context: twice the most the demo chart sounds at once (bench/synth.py)
GAIN = 0.5            # FluidSynth's master gain: the three parts peak near -8 dBFS (bench/synth.py)
log = logging.getLogger("backline")


def _programs(programs: Mapping[str, int], names: list[str]) -> dict[str, int]:
    """The programs asked for, checked: a part's name, a General MIDI program 0..127."""
    for name, program in programs.items():
        if name not in names:
            raise ValueError(f"programs: no part is called {name!r} (the parts: {', '.join(names)})")
        if not isinstance(program, int) or isinstance(program, bool):
            raise TypeError(f"programs.{name} must be a whole number, not {program!r}")
        if not 0 <= program <= 127:
            raise ValueError(f"programs.{name} must be a General MIDI program 0 to 127, not {program}")
    return dict(programs)


class PartReader:
    """One part, read as a stem is (`audio/disk/stems.py`'s `StemReader`): song frames into a
    caller's (n, 2) float32 buffer; silence before bar 1, after the end, and once failed."""

    channels = 2

    def __init__(self, synth: PartsSynth, index: int, name: str) -> None:
        self._synth, self.index, self.name = synth, index, name
        self.failed: str | None = None      # "bass: why"
        self.why = ""
        self.failed_at: int | None = None

    def read_into(self, start: int, out: np.ndarray) -> None:
        self._synth.read(self, start, out)

    def fail(self, frame: int, why: str) -> None:
        if self.failed is None:
            self.failed, self.why, self.failed_at = f"{self.name}: {why}", why, frame

    def close(self) -> None:
        self._synth.close()


class PartsSynth:
    """The parts of `chart` played by FluidSynth with `soundfont`, following `plan`.

    `programs` overrides a part's General MIDI program by name (the drums' is the kit).
    SynthError when FluidSynth or the SoundFont cannot be used at all; a part whose program
    the SoundFont lacks fails alone (its reader's `failed`), the others play."""

    def __init__(self, chart: Chart, plan: PartsPlan, rate: int, *, soundfont: Path,
                 seed: int = 0, programs: Mapping[str, int] | None = None) -> None:
        if not isinstance(rate, int) or isinstance(rate, bool):
            raise TypeError(f"rate must be a whole number of frames a second, not {rate!r}")
        if not 8000 <= rate <= 192000:
            raise ValueError(f"rate must be 8000 to 192000 frames a second, not {rate}")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"seed must be a whole number, not {seed!r}")
        self.plan, self.rate = plan, rate
        soundfont = check(Path(soundfont))
        self.notes = notes = PartNotes(chart, seed, plan.settings.intensity)
        parts = notes.parts
        programs = _programs(programs or {}, [p.name for p in parts])
        self.readers = [PartReader(self, i, p.name) for i, p in enumerate(parts)]
        voices = [Voice(i, p.channel != DRUM_CHANNEL) for i, p in enumerate(parts)]
        self._lock = threading.Lock()
        self._contexts: list[Context] = []
        try:
            for _ in range(CONTEXTS):
                fluid = Fluid(rate, soundfont, groups=len(parts), polyphony=POLYPHONY, gain=GAIN)
                self._contexts.append(Context(fluid, voices, plan, rate, notes.at, chart.end_qn,
                                              TAIL_S * rate))
                for reader, part, voice in zip(self.readers, parts, voices):
                    program = programs.get(part.name, part.program or 0)
                    why = fluid.select(voice.channel, program, drums=not voice.pitched)
                    if why is not None:
                        reader.fail(0, why)
        except BaseException:
            self._free()
            raise
        self._clock = 0
        self._open = len(self.readers)
        self.starts = 0          # runs started afresh: the first read, then each jump

    @property
    def blocking(self) -> bool:
        """An offline render's: a new intensity's notes are generated in place (exact), not
        by the helper while the nearest play."""
        return self.notes.blocking

    @blocking.setter
    def blocking(self, value: bool) -> None:
        self.notes.blocking = value

    @property
    def peak_voices(self) -> int:
        """The most voices any context has sounded at once (bench/synth.py)."""
        return max(c.peak_voices for c in self._contexts)

    def read(self, reader: PartReader, start: int, out: np.ndarray) -> None:
        """Song frames [start, start + n) of `reader`'s part into `out`."""
        n = out.shape[0]
        lo = max(start, 0)
        with self._lock:
            if reader.failed or not self._contexts:
                out.fill(0.0)
                return
            if start + n <= 0:                  # before bar 1: silence, no run started
                out.fill(0.0)
                return
            try:
                self._read(reader.index, lo, start + n, out[lo - start:])
            except Exception as exc:        # this part goes quiet, the others and the song go on
                out.fill(0.0)
                reader.fail(lo, f"cannot be synthesised ({exc})")
                log.warning("%s from %s on", reader.failed, clock(lo / self.rate))
                return
        out[:max(0, min(n, lo - start))].fill(0.0)

    def _read(self, part: int, lo: int, hi: int, out: np.ndarray) -> None:
        ctx = self._context_at(part, lo)
        if ctx is None:
            out.fill(0.0)
            return
        self._clock += 1
        ctx.used = self._clock
        ctx.expect[part] = hi
        last = min(hi, ctx.last)
        pos = lo
        while pos < last:
            if pos >= ctx.end:
                to = min(last, pos + STEP)
                self._publish(ctx, to)           # before: a change is put after what renders
                ctx.extend(to)
            k = min(last, ctx.end) - pos
            ctx.copy(part, pos, out[pos - lo: pos - lo + k])
            pos += k
        out[max(0, last - lo):].fill(0.0)
        self._publish()

    def _context_at(self, part: int, frame: int) -> Context | None:
        """The context that serves `part` reading from `frame`: the one this continues, else
        the least recently used started afresh there; None past the chart's end (silence,
        no work)."""
        holding = [c for c in self._contexts if c.holds(part, frame)]
        if holding:
            return max(holding, key=lambda c: c.used)
        ctx = min(self._contexts, key=lambda c: c.used)
        if frame >= self.plan.settings.tempo.frame_at(ctx.end_qn, self.rate) + ctx.tail:
            return None
        ctx.restart(frame, self.plan)
        self.starts += 1
        return ctx

    def _publish(self, extending: Context | None = None, to: int = 0) -> None:
        """`plan.head`: how far the run in progress is rendered, or about to be (`extending`
        renders up to `to`) — the context holding the frame the transport plays from
        (`plan.playing`), else the one read last."""
        started = [c for c in self._contexts if c.used >= 0]
        at = self.plan.playing
        holding = [c for c in started if at is not None and c.start <= at <= c.end]
        ctx = max(holding, key=lambda c: c.start) if holding else max(started, key=lambda c: c.used)
        self.plan.rendered(max(ctx.end, to) if ctx is extending else ctx.end)

    def close(self) -> None:
        """Free FluidSynth once every reader is closed (the stream closes each)."""
        with self._lock:
            self._open -= 1
            if self._open <= 0:
                self._free()

    def _free(self) -> None:
        self.notes.close()
        for ctx in self._contexts:
            ctx.fluid.close()
        self._contexts = []
