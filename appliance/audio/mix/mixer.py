"""The mixer: sources × gains, routed to named outputs, summed onto device channels.

Each input (a stem or the click) has a routing matrix from its channels to the
device channels; gain, mute, solo, per-output sends and output levels are folded
into one matrix. Inputs are read interleaved (frames × channels), laid out planar
(one row per source channel), and one matrix product mixes the whole block into
preallocated buffers. A level change glides to its new matrix over `ramp_frames`
so nothing clicks. The same `mix_into` runs offline and in the audio thread.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ...errors import Problems

RAMP_S = 0.010     # level changes glide over 10 ms
CLICK_INPUT = "click"             # the inputs the click and the count-in play through
COUNT_IN_INPUT = "count-in"
CUE_INPUT = "cue"                 # the voice (to the cue output, else the click's)


class Source(Protocol):
    def read_into(self, start: int, out: np.ndarray) -> None:
        """Song frames [start, start + n) into `out`, planar: (channels, n)."""


@dataclass
class MixerInput:
    name: str
    channels: int
    route: dict[str, tuple[int, ...] | None]    # output -> 1-based source channels (None: all)
    gain_db: float = 0.0
    muted: bool = False
    solo: bool = False
    is_click: bool = False        # the click ignores solo, and comes after the stems
    explicit_route: bool = True
    sends: dict[str, float] = field(default_factory=dict)   # output -> dB, for per-output mixes
    source: Source | None = None  # clicks; the stems all come from the song's stream
    live: bool = True             # False: heard only through mix_source_into (the count-in)
    expression: bool = False      # a chart's part: follows the intensity (Mixer.expression_db)
    matrix: np.ndarray = field(init=False, repr=False)


def expression_db(intensity: float, span_db: float) -> float:
    """A chart's parts' level at `intensity`: 0 dB when loud (1), `span_db` below when soft
    (0), even in dB between (a pedal's travel sounds even)."""
    return -(1.0 - intensity) * span_db


def db_to_gain(db: float) -> float:
    return 0.0 if db <= -120 else 10.0 ** (db / 20.0)


def route_matrix(in_channels: int, selected: tuple[int, ...] | None,
                 device_channels: tuple[int, ...], width: int) -> np.ndarray:
    """Weights from source channels to device channels for one output.

    Same count: one to one. Mono source: to every output channel. Mono output:
    the average of the source channels. Fewer source channels than output
    channels: repeated in turn (stereo onto 4 channels: L R L R).
    ValueError when a many-channel source would have to fold onto a smaller output.
    """
    src = [c - 1 for c in (selected or range(1, in_channels + 1))]
    dst = [c - 1 for c in device_channels]
    m = np.zeros((in_channels, width), dtype=np.float32)
    if len(dst) == 1:
        for s in src:
            m[s, dst[0]] += 1.0 / len(src)
    elif len(src) <= len(dst):
        for i, d in enumerate(dst):
            m[src[i % len(src)], d] += 1.0
    else:
        raise ValueError(f"{len(src)} channels cannot go onto {len(dst)}; "
                         f"choose {len(dst)} of them in the route")
    return m


def input_routes(inp: MixerInput, outputs: dict[str, tuple[int, ...]], channels: int,
                 problems: Problems | None = None, where: str = "") -> dict[str, np.ndarray]:
    """One input's routing matrix per output of this box; what cannot be routed is warned
    about and left out. `backline check` calls this too, so it says what a render says."""
    routes = {}
    for output, selected in inp.route.items():
        if output not in outputs:
            if inp.explicit_route and problems is not None:
                problems.warn(where, inp.name, f"output {output!r} is not on this box; "
                              f"known outputs: {', '.join(outputs)}")
            continue
        try:
            routes[output] = route_matrix(inp.channels, selected, outputs[output], channels)
        except ValueError as exc:
            if problems is not None:
                problems.warn(where, f"{inp.name}.route.{output}", str(exc))
    return routes


class Mixer:
    def __init__(self, inputs: list[MixerInput], stream: Source | None,
                 outputs: dict[str, tuple[int, ...]], channels: int, block: int,
                 rate: int = 48000, problems: Problems | None = None, where: str = "") -> None:
        clicks = [i.is_click for i in inputs]
        if clicks != sorted(clicks):
            raise ValueError("click inputs come after the stems")
        self.inputs = inputs
        self.stream = stream
        self.outputs = outputs
        self.channels = channels
        self.block = block
        self.ramp_frames = max(1, int(rate * RAMP_S))
        self.output_gain_db: dict[str, float] = {name: 0.0 for name in outputs}
        self.trim_db: dict[str, float] = {}    # the song's own per-output gain (its loudness)
        self.expression_db = 0.0  # on the chart's parts: the intensity's level (0 dB: loud)
        self.version = 0          # bumped by every level change, for state readers
        self._routes = [input_routes(inp, outputs, channels, problems, where) for inp in inputs]
        rows = np.cumsum([0] + [inp.channels for inp in inputs])
        self._rows = list(zip(rows[:-1].tolist(), rows[1:].tolist()))
        self._stem_rows = sum(inp.channels for inp in inputs if not inp.is_click)
        self._sources = [(inp, a, b) for inp, (a, b) in zip(inputs, self._rows)
                         if inp.is_click and inp.live]
        self._scratch = np.zeros((max([1] + [i.channels for i in inputs]), block), dtype=np.float32)
        self._planar = np.zeros((int(rows[-1]), block), dtype=np.float32)
        self._mixed = np.zeros((block, channels), dtype=np.float32)
        self._target_mixed = np.zeros((block, channels), dtype=np.float32)
        self._ramp = np.zeros(block, dtype=np.float32)
        self._ramp_column = self._ramp[:, None]   # made once: a view a period is an allocation
        self._steps = np.arange(block, dtype=np.float32)
        self._ramp_done = 0       # frames of the current level glide already played
        self._matrix = self._target = np.zeros((int(rows[-1]), channels), dtype=np.float32)
        self.update(glide=False)

    def input(self, name: str) -> MixerInput:
        for inp in self.inputs:
            if inp.name == name:
                return inp
        raise KeyError(name)

    @property
    def stems(self) -> list[MixerInput]:
        return [i for i in self.inputs if not i.is_click]

    def update(self, glide: bool = True) -> None:
        """Recompute the matrix after a level change; `glide` ramps to it over RAMP_S."""
        soloing = any(i.solo for i in self.inputs if not i.is_click)
        for inp, routes in zip(self.inputs, self._routes):
            audible = not inp.muted and (inp.is_click or not soloing or inp.solo)
            db = inp.gain_db + (self.expression_db if inp.expression else 0.0)
            gain = db_to_gain(db) if audible else 0.0
            m = np.zeros((inp.channels, self.channels), dtype=np.float32)
            for output, r in routes.items():
                level = (self.output_gain_db[output] + self.trim_db.get(output, 0.0)
                         + inp.sends.get(output, 0.0))
                m += r * np.float32(gain * db_to_gain(level))
            inp.matrix = m
        target = np.concatenate([i.matrix for i in self.inputs])     # (source rows, channels)
        if glide:
            self._matrix = self._current_matrix()   # a new glide starts where the last one is
            self._ramp_done = 0
        else:
            self._matrix = target
            self._ramp_done = self.ramp_frames
        self._target = target
        self.version += 1

    def _current_matrix(self) -> np.ndarray:
        t = min(1.0, self._ramp_done / self.ramp_frames)
        return (self._matrix + (self._target - self._matrix) * np.float32(t)).astype(np.float32)

    def mix_into(self, out: np.ndarray, frame: int, *, stem_ramp: np.ndarray | None = None,
                 click: bool = True) -> None:
        """Add song frames [frame, frame+len(out)) of every input into `out`.

        `stem_ramp` (one gain per frame) fades the stems but not the click;
        `click=False` leaves the click out: the old side of a jump's crossfade, which
        also leaves a level glide where it is (the new side moves it on).
        """
        n = out.shape[0]
        planar = self._planar[:, :n]
        stems = planar[: self._stem_rows]
        if self.stream is not None:
            self.stream.read_into(frame, stems)
        for inp, a, b in self._sources:
            if click:
                inp.source.read_into(frame, planar[a:b])
            else:
                planar[a:b].fill(0.0)
        if stem_ramp is not None:
            np.multiply(stems, stem_ramp, out=stems)
        self._product(out, planar, n, advance=click)

    def mix_source_into(self, out: np.ndarray, frame: int, inp: MixerInput,
                        source: Source, advance: bool = True) -> None:
        """Add `source` through `inp`'s routing and gain: the count-in plays its
        own click schedule as if it were the click. Its frames count towards a level
        glide (`advance`: once per block), so a change made during the count-in is done
        when the song starts."""
        n = out.shape[0]
        rows = self._scratch[: inp.channels, :n]
        source.read_into(frame, rows)
        mixed = self._mixed[:n]
        np.dot(rows.T, inp.matrix, out=mixed)
        np.add(out, mixed, out=out)
        if advance:
            self._advance(n)

    def _advance(self, n: int) -> None:
        """`n` frames of a level glide played."""
        if self._ramp_done < self.ramp_frames:
            self._ramp_done += n
            if self._ramp_done >= self.ramp_frames:
                self._matrix = self._target

    def _product(self, out: np.ndarray, planar: np.ndarray, n: int, advance: bool) -> None:
        mixed = self._mixed[:n]
        np.dot(planar.T, self._matrix, out=mixed)
        if self._ramp_done < self.ramp_frames:
            # glide: mixed += (x·target − x·current) × ramp
            other = self._target_mixed[:n]
            np.dot(planar.T, self._target, out=other)
            np.subtract(other, mixed, out=other)
            ramp = self._ramp[:n]
            np.add(self._steps[:n], self._ramp_done + 1, out=ramp)
            np.multiply(ramp, 1.0 / self.ramp_frames, out=ramp)
            np.minimum(ramp, 1.0, out=ramp)
            np.multiply(other, self._ramp_column[:n], out=other)
            np.add(mixed, other, out=mixed)
            if advance:
                self._advance(n)
        np.add(out, mixed, out=out)
