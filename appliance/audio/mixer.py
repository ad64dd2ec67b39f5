"""The mixer: sources × gains, routed to named outputs, summed onto device channels.

Each input (a stem or the click) has a routing matrix from its channels to
the device channels; gain, mute, solo and output levels are folded into that
matrix, so mixing a block is one small matrix product per input into
preallocated buffers. The same `mix_into` runs offline and in the audio thread.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..errors import Problems


class Source(Protocol):
    channels: int

    def read_into(self, start: int, out: np.ndarray) -> None: ...


@dataclass
class MixerInput:
    name: str
    source: Source
    route: dict[str, tuple[int, ...] | None]    # output -> 1-based source channels (None: all)
    gain_db: float = 0.0
    muted: bool = False
    solo: bool = False
    is_click: bool = False        # the click ignores solo: soloing a stem keeps the click
    explicit_route: bool = True
    matrix: np.ndarray = field(init=False, repr=False)


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


class Mixer:
    def __init__(self, inputs: list[MixerInput], outputs: dict[str, tuple[int, ...]],
                 channels: int, block: int, problems: Problems | None = None,
                 where: str = "") -> None:
        self.inputs = inputs
        self.outputs = outputs
        self.channels = channels
        self.block = block
        self.output_gain_db: dict[str, float] = {name: 0.0 for name in outputs}
        self._routes: list[dict[str, np.ndarray]] = []
        for inp in inputs:
            routes = {}
            for output, selected in inp.route.items():
                if output not in outputs:
                    if inp.explicit_route and problems is not None:
                        problems.warn(where, inp.name, f"output {output!r} is not on this box; "
                                      f"known outputs: {', '.join(outputs)}")
                    continue
                try:
                    routes[output] = route_matrix(inp.source.channels, selected,
                                                  outputs[output], channels)
                except ValueError as exc:
                    if problems is not None:
                        problems.warn(where, f"{inp.name}.route.{output}", str(exc))
            self._routes.append(routes)
        self._buffers = [np.zeros((block, inp.source.channels), dtype=np.float32)
                         for inp in inputs]
        # Inputs are read interleaved (frames x channels), then laid out planar (one row per
        # source channel), so one matrix product mixes every input of the block at once.
        rows = np.cumsum([0] + [b.shape[1] for b in self._buffers])
        self._rows = list(zip(rows[:-1], rows[1:]))
        self._planar = np.zeros((int(rows[-1]), block), dtype=np.float32)
        self._mixed = np.zeros((channels, block), dtype=np.float32)
        self.update()

    def input(self, name: str) -> MixerInput:
        for inp in self.inputs:
            if inp.name == name:
                return inp
        raise KeyError(f"no mixer input named {name!r}")

    def update(self) -> None:
        """Recompute the matrix after a gain, mute, solo or output level change."""
        soloing = any(i.solo for i in self.inputs if not i.is_click)
        for inp, routes in zip(self.inputs, self._routes):
            audible = not inp.muted and (inp.is_click or not soloing or inp.solo)
            gain = db_to_gain(inp.gain_db) if audible else 0.0
            m = np.zeros((inp.source.channels, self.channels), dtype=np.float32)
            for output, r in routes.items():
                m += r * np.float32(gain * db_to_gain(self.output_gain_db[output]))
            inp.matrix = m
        # (device channels x source channels), contiguous for the product in mix_into
        self._matrix_t = np.ascontiguousarray(
            np.concatenate([inp.matrix for inp in self.inputs]).T if self.inputs
            else np.zeros((self.channels, 0), dtype=np.float32))
        self._input_matrix_t = [np.ascontiguousarray(self._matrix_t[:, a:b]) for a, b in self._rows]

    def mix_into(self, out: np.ndarray, frame: int) -> None:
        """Add song frames [frame, frame+len(out)) of every input into `out`."""
        n = out.shape[0]
        planar = self._planar[:, :n]
        for inp, buf, (a, b) in zip(self.inputs, self._buffers, self._rows):
            inp.source.read_into(frame, buf[:n])
            np.copyto(planar[a:b], buf[:n].T)
        mixed = self._mixed[:, :n]
        np.matmul(self._matrix_t, planar, out=mixed)
        np.add(out, mixed.T, out=out)

    def mix_source_into(self, out: np.ndarray, frame: int, inp: MixerInput,
                        source: Source) -> None:
        """Add `source` through `inp`'s routing and gain: the count-in plays its
        own click schedule as if it were the click."""
        n = out.shape[0]
        i = self.inputs.index(inp)
        buf = self._buffers[i][:n]
        a, b = self._rows[i]
        planar = self._planar[a:b, :n]
        source.read_into(frame, buf)
        np.copyto(planar, buf.T)
        mixed = self._mixed[:, :n]
        np.matmul(self._input_matrix_t[i], planar, out=mixed)
        np.add(out, mixed.T, out=out)
