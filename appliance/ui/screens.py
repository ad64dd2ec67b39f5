"""What a 128×64 display shows, drawn from the state snapshot (and the menu's view).

The performance screen is read from standing height: bar.beat big, the section
and song beside it, tempo and meter, setlist position and the next song, a pending
jump or vamp. Trouble (a stalled device, xruns, a failed stem) is an inverted
banner over the bottom: it cannot be missed. `screen_key` is what the picture
depends on, so the display thread redraws only when it changes.
"""
from __future__ import annotations

from functools import cache

from PIL import ImageDraw, ImageFont

from ..audio.state import HEALTHY, PAUSED, PLAYING, COUNT_IN, State
from .menu import MenuView

SYMBOL = {PLAYING: ">", PAUSED: "||", COUNT_IN: "..."}
MENU_ROWS = 4


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def alert(s: State) -> str:
    """The one line of trouble, or ""."""
    if s.health != HEALTHY:
        return f"{s.health.upper()} {s.problem}".strip()
    if s.record.problem:
        return f"REC: {s.record.problem}"
    if s.failed_stems:
        return "STEM FAILED: " + ", ".join(s.failed_stems)
    if s.xruns:
        return f"{s.xruns} XRUNS"
    return ""


def record_badge(s: State) -> str:
    """`REC 1:23` while a take runs; `ARM 2h10` (the disk's time left) while armed; or ""."""
    r = s.record
    if r.running:
        minutes, secs = divmod(int(r.seconds), 60)
        return f"REC {minutes}:{secs:02d}"
    if r.follow:
        left = "" if r.left_s is None else \
            f" {int(r.left_s // 3600)}h{int(r.left_s % 3600 // 60):02d}"
        return f"ARM{left}"
    return ""


def screen_key(s: State, menu: MenuView | None) -> tuple:
    if menu is not None:
        return ("menu", menu)
    return (s.transport, s.song or s.song_name, s.index, s.count, s.section, s.bar, s.beat,
            round(s.bpm, 1), s.meter, s.next_song, s.pending, s.vamp, alert(s), s.rejected,
            record_badge(s))


def draw_perform(draw: ImageDraw.ImageDraw, size: tuple[int, int], s: State) -> None:
    w, h = size
    where = f"{s.index}/{s.count} " if s.count > 1 else ""
    draw.text((0, 0), f"{where}{s.song or s.song_name}", font=font(11), fill=1)
    badge = record_badge(s)
    if badge:                  # over the title's end: a take running must be seen
        left = w - 1 - int(draw.textlength(badge, font=font(10))) - 4
        draw.rectangle((left, 0, w - 1, 11), fill=1)
        draw.text((left + 2, 0), badge, font=font(10), fill=0)
    draw.text((0, 13), f"{s.bar}.{s.beat}", font=font(26), fill=1)
    draw.text((70, 14), s.section[:10], font=font(11), fill=1)
    tempo = f"{s.bpm:g} {s.meter}" if s.bpm else ""
    draw.text((70, 27), f"{SYMBOL.get(s.transport, '[]')} {tempo}", font=font(11), fill=1)
    bottom = s.pending or s.vamp or (f"next: {s.next_song}" if s.next_song else "")
    draw.text((0, 40), bottom, font=font(10), fill=1)
    trouble = alert(s)
    if trouble:
        draw.rectangle((0, h - 12, w - 1, h - 1), fill=1)
        draw.text((2, h - 12), trouble, font=font(10), fill=0)
    else:
        draw.text((0, 53), s.rejected[:30], font=font(9), fill=1)


def draw_menu(draw: ImageDraw.ImageDraw, size: tuple[int, int], m: MenuView) -> None:
    w, _ = size
    draw.rectangle((0, 0, w - 1, 11), fill=1)
    draw.text((2, 0), m.title + ("  (turn to set)" if m.editing else ""), font=font(10), fill=0)
    first = max(0, min(m.cursor - MENU_ROWS + 1, len(m.items) - MENU_ROWS))
    for row, i in enumerate(range(first, min(first + MENU_ROWS, len(m.items)))):
        y = 13 + row * 13
        on = i == m.cursor
        if on:
            draw.rectangle((0, y, w - 1, y + 12), fill=1)
        draw.text((4, y), m.items[i], font=font(11), fill=0 if on else 1)


def draw_screen(draw: ImageDraw.ImageDraw, size: tuple[int, int], s: State,
                menu: MenuView | None) -> None:
    if menu is not None:
        draw_menu(draw, size, menu)
    else:
        draw_perform(draw, size, s)
