"""What a character LCD (HD44780, 20×4 or 16×2) shows: the same screens as the OLED's, in
lines of text. Trouble is marked `!` so it is seen from standing height, and takes a line
that matters less than the last one (a refusal, a jump waiting or pending, a vamp, the
next song), which is never hidden:

- a fault banner (held a few seconds, see trouble.py) takes the position line: while the
  device is stalled or the audio faulted nothing plays, so bar.beat stands still and says
  nothing true; while it recovers the music goes on and the click says where the band is.
  The title line keeps the record badge (a take running must be seen).
- a trouble that lasts (a failed stem, a take's problem) takes the tempo line on a 20×4
  (the click says the tempo); on a 16×2 it takes the last line only when no refusal,
  jump or vamp is there, in place of the next song.
"""
from __future__ import annotations

from ..vocab.state import State
from .menu import MenuView
from .screens import SYMBOL, coming, record_badge
from .status import dynamics
from .trouble import lasting


def text_screen(s: State, menu: MenuView | None, banner: str, cols: int = 20,
                rows: int = 4) -> list[str]:
    """`rows` lines of exactly `cols` characters. `banner`: the fault banner the display
    holds (trouble.FaultBanner)."""
    lines = _menu(menu, rows) if menu is not None else _perform(s, banner, rows)
    lines = (lines + [""] * rows)[:rows]
    return [line[:cols].ljust(cols) for line in lines]


def _perform(s: State, banner: str, rows: int) -> list[str]:
    where = f"{s.index}/{s.count} " if s.count > 1 else ""
    tempo = f"{s.bpm:g} {s.meter}" if s.bpm else ""
    state = " ".join(part for part in (SYMBOL.get(s.transport, "[]"), tempo, s.key,
                                       dynamics(s)) if part)
    badge = record_badge(s)
    position = f"!{banner}" if banner else \
        (f"{badge} " if badge and rows < 4 else "") + f"{s.bar}.{s.beat}".ljust(7) + s.section
    trouble = lasting(s)
    news = s.waiting or s.pending or s.vamp or s.rejected
    if rows < 4:                                   # 16×2: position and what matters most
        return [position, news or (f"!{trouble}" if trouble else coming(s)) or state]
    title = f"{badge} {where}{s.song or s.song_name}" if badge else \
        f"{where}{s.song or s.song_name}"
    return [title, position, f"!{trouble}" if trouble else state, news or coming(s)]


def _menu(m: MenuView, rows: int) -> list[str]:
    shown = rows - 1
    first = max(0, min(m.cursor - shown + 1, len(m.items) - shown))
    items = [(">" if i == m.cursor else " ") + m.items[i]
             for i in range(first, min(first + shown, len(m.items)))]
    title = f"Code {m.big}" if m.big else m.title + (" (turn)" if m.editing else "")
    return [title, *items]
