"""The display on a terminal: luma's own `dummy` device, painted with block characters
each time the display thread draws, with the key legend and the latest log lines below."""
from __future__ import annotations

import shutil
import threading
from collections import deque
from pathlib import Path
from typing import TextIO

import numpy as np
from luma.core.device import dummy
from PIL import Image

HALVES = np.array(list(" ▀▄█"))                    # top + 2*bottom
QUADRANTS = np.array(list(" ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"))     # tl + 2*tr + 4*bl + 8*br


def blocks(pixels: np.ndarray, *, wide: bool) -> list[str]:
    """Lines of block characters for a 1-bit picture (rows × columns of bool).

    `wide`: one column per pixel, two rows per line (square pixels, 128 columns);
    else two of each per character (fits an 80-column terminal).
    """
    p = pixels.astype(np.uint8)
    if wide:
        idx, table = p[0::2] + 2 * p[1::2], HALVES
    else:
        idx = p[0::2, 0::2] + 2 * p[0::2, 1::2] + 4 * p[1::2, 0::2] + 8 * p[1::2, 1::2]
        table = QUADRANTS
    return ["".join(row) for row in table[idx]]


class Terminal:
    """The sim's terminal: the display framed on top, the key legend and the latest log
    lines below, repainted whole (from the top left) whenever any of them changes."""

    def __init__(self, out: TextIO, *, legend: list[str], columns: int | None = None) -> None:
        """`columns`: the terminal's width (default: asked of the terminal at each paint)."""
        self._out = out
        self._columns = columns
        self._lock = threading.Lock()
        self.legend = legend
        self.notes: deque[str] = deque(maxlen=4)
        self.body: list[str] = []
        self.pngs = 0

    @property
    def columns(self) -> int:
        return self._columns or shutil.get_terminal_size((80, 24)).columns

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.paint(self.body)

    def paint(self, body: list[str]) -> None:
        with self._lock:
            self.body = body
            columns = self.columns
            bar = "─" * max((len(line) for line in body), default=0)
            text = [f"┌{bar}┐", *(f"│{line}│" for line in body), f"└{bar}┘",
                    *self.legend, *self.notes]
            self._out.write("\033[H" + "".join(line[:columns] + "\033[K\n" for line in text)
                            + "\033[J")
            self._out.flush()

    def save_png(self, picture: Image.Image | None, folder: Path) -> Path | None:
        """`picture` as `backline-screen-N.png` in `folder`."""
        if picture is None:
            return None
        with self._lock:
            self.pngs += 1
            path = folder / f"backline-screen-{self.pngs}.png"
        picture.save(path)
        return path


class TerminalScreen(dummy):
    """A 128×64 one-bit display (luma's `dummy`) that paints itself on a Terminal."""

    def __init__(self, terminal: Terminal, *, width: int = 128, height: int = 64) -> None:
        super().__init__(width=width, height=height, mode="1")
        self.terminal = terminal
        self.persist = True      # luma clears a device at exit unless asked to keep the picture

    def display(self, image) -> None:
        super().display(image)
        pixels = np.array(self.image.convert("1"), dtype=bool)
        self.terminal.paint(blocks(pixels, wide=self.terminal.columns >= self.width + 2))

    def picture(self) -> Image.Image | None:
        return None if self.image is None else self.image.convert("L")
