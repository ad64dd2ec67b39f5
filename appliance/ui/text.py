"""What a character LCD (HD44780, 20×4 or 16×2) shows: the same screens as the OLED's, in
lines of text. Trouble takes the last line, marked `!`, so it is seen from standing height."""
from __future__ import annotations

from ..audio.state import State
from .menu import MenuView
from .screens import SYMBOL, alert, record_badge


def text_screen(s: State, menu: MenuView | None, cols: int = 20, rows: int = 4) -> list[str]:
    """`rows` lines of exactly `cols` characters."""
    lines = _menu(menu, rows) if menu is not None else _perform(s, rows)
    lines = (lines + [""] * rows)[:rows]
    return [line[:cols].ljust(cols) for line in lines]


def _perform(s: State, rows: int) -> list[str]:
    where = f"{s.index}/{s.count} " if s.count > 1 else ""
    tempo = f"{s.bpm:g} {s.meter}" if s.bpm else ""
    position = f"{s.bar}.{s.beat}".ljust(7) + s.section
    state = f"{SYMBOL.get(s.transport, '[]')} {tempo}"
    trouble = alert(s)
    last = f"!{trouble}" if trouble else \
        s.pending or s.vamp or s.rejected or (f"next: {s.next_song}" if s.next_song else "")
    badge = record_badge(s)
    title = f"{badge} {where}{s.song or s.song_name}" if badge else \
        f"{where}{s.song or s.song_name}"
    if rows < 4:                                   # 16×2: position and what matters most
        return [f"{badge} {position}" if badge else position, last or state]
    return [title, position, state, last]


def _menu(m: MenuView, rows: int) -> list[str]:
    shown = rows - 1
    first = max(0, min(m.cursor - shown + 1, len(m.items) - shown))
    items = [(">" if i == m.cursor else " ") + m.items[i]
             for i in range(first, min(first + shown, len(m.items)))]
    return [m.title + (" (turn)" if m.editing else ""), *items]
