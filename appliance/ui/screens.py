"""What a 128×64 display shows, drawn from the state snapshot (and the menu's view).

The performance screen is read from standing height: bar.beat big, the section and
tempo beside it, the song and its key on top (as played: "Bb -2"; a changed tempo in
percent beside the BPM), then a line for a jump waiting or pending, a vamp, a key or
tempo being prepared ("preparing Bb -2 ... 40 %"), a sync's progress or the next song, a
line for the last refusal (while none is said: the song's loudness and the gain it plays
at, "-14.2 LUFS -1.8 dB", as `backline check` says), and at the bottom an inverted banner
for trouble (a fault held a few seconds, see trouble.py, or a trouble that lasts): each
has its own place, so none hides another (a refusal is said for a few seconds only).
`screen_key` is what the picture depends on, so the display thread redraws only when it
changes.
"""
from __future__ import annotations

from functools import cache

from PIL import ImageDraw, ImageFont

from ..vocab.state import State, TransportState
from .menu import MenuView
from .status import song_line
from .trouble import lasting

SHARPS = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLATS = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
SYMBOL = {TransportState.PLAYING: ">", TransportState.PAUSED: "||", TransportState.COUNT_IN: "..."}
MENU_ROWS = 4
BIG_SIZE = 22      # a pairing code: 8 digits read at arm's length, across the 128 columns


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


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


def shifted_key(key: str, semitones: float) -> str:
    """The song's key `semitones` away, with the shift: "C" -2 -> "Bb -2"; a key it cannot
    name (or a shift in cents) keeps its name."""
    if not semitones:
        return key
    shift = f"{semitones:+g}"
    names = SHARPS if "#" in key else FLATS
    for length in (2, 1):
        note = key[:length].capitalize()
        if semitones == int(semitones) and (note in SHARPS or note in FLATS):
            i = SHARPS.index(note) if note in SHARPS else FLATS.index(note)
            return f"{names[(i + int(semitones)) % 12]}{key[length:]} {shift}"
    return f"{key} {shift}".strip()


def key_line(s: State) -> str:
    """The key/tempo the next stop switches to, and how its preparation goes:
    "preparing Bb -2 ... 40 %", "Bb -2 90% at the next stop", or why it cannot."""
    k = s.key_tempo
    if not k.switching:
        return ""
    if k.problem:
        return k.problem
    parts = []
    if k.wanted_transpose:
        parts.append(shifted_key(s.key, k.wanted_transpose) if s.key
                     else f"{k.wanted_transpose:+g}")
    if k.wanted_tempo != 1:
        parts.append(f"{k.wanted_tempo * 100:.0f}%")
    what = " ".join(parts) or "as recorded"
    if k.preparing is not None and k.preparing < 1:
        return f"preparing {what} ... {k.preparing * 100:.0f} %"
    return f"{what} at the next stop"


def screen_key(s: State, menu: MenuView | None, banner: str) -> tuple:
    """`banner`: the fault banner the display holds (trouble.FaultBanner)."""
    if menu is not None:
        return ("menu", menu)
    return (s.transport, s.song or s.song_name, s.key, s.key_tempo, s.index, s.count, s.section, s.bar,
            s.beat, round(s.bpm, 1), s.meter, coming(s), song_line(s),
            banner or lasting(s), record_badge(s))


def coming(s: State) -> str:
    """What happens next: a jump waiting for its audio, a pending jump, a vamp, a key or tempo
    being prepared, a sync copying into the library, the next song."""
    return s.waiting or s.pending or s.vamp or key_line(s) or s.sync or \
        (f"next: {s.next_song}" if s.next_song else "")


def _tag(draw: ImageDraw.ImageDraw, right: int, text: str, inverted: bool) -> int:
    """`text` in a box ending at column `right`, over what is there (a gap before it, so a
    cut title does not run into it); returns its left edge."""
    left = right - int(draw.textlength(text, font=font(10))) - 6
    draw.rectangle((left, 0, right, 10), fill=int(inverted))
    draw.text((left + 4, -2), text, font=font(10), fill=int(not inverted))
    return left


def draw_perform(draw: ImageDraw.ImageDraw, size: tuple[int, int], s: State,
                 banner: str) -> None:
    w, h = size
    where = f"{s.index}/{s.count} " if s.count > 1 else ""
    draw.text((0, -3), f"{where}{s.song or s.song_name}", font=font(11), fill=1)
    right = w - 1
    badge = record_badge(s)
    if badge:                  # over the title's end: a take running must be seen
        right = _tag(draw, right, badge, inverted=True) - 1
    key = shifted_key(s.key, s.key_tempo.transpose) if s.key else ""
    if key:
        _tag(draw, right, key, inverted=False)
    draw.text((0, 2), f"{s.bar}.{s.beat}", font=font(26), fill=1)
    draw.text((70, 8), s.section[:10], font=font(11), fill=1)
    factor = f" {s.key_tempo.tempo * 100:.0f}%" if s.key_tempo.tempo != 1 else ""
    tempo = f"{s.bpm:g}{factor} {s.meter}" if s.bpm else ""
    draw.text((70, 19), f"{SYMBOL.get(s.transport, '[]')} {tempo}", font=font(10), fill=1)
    draw.text((0, 29), coming(s), font=font(10), fill=1)
    draw.text((0, 40), song_line(s), font=font(9), fill=1)
    trouble = banner or lasting(s)
    if trouble:
        draw.rectangle((0, h - 11, w - 1, h - 1), fill=1)
        draw.text((2, h - 12), trouble, font=font(9), fill=0)


def draw_menu(draw: ImageDraw.ImageDraw, size: tuple[int, int], m: MenuView) -> None:
    w, _ = size
    draw.rectangle((0, 0, w - 1, 11), fill=1)
    draw.text((2, 0), m.title + ("  (turn to set)" if m.editing else ""), font=font(10), fill=0)
    if m.big:
        draw_big(draw, size, m)
        return
    first = max(0, min(m.cursor - MENU_ROWS + 1, len(m.items) - MENU_ROWS))
    for row, i in enumerate(range(first, min(first + MENU_ROWS, len(m.items)))):
        y = 13 + row * 13
        on = i == m.cursor
        if on:
            draw.rectangle((0, y, w - 1, y + 12), fill=1)
        draw.text((4, y), m.items[i], font=font(11), fill=0 if on else 1)


def big_text(text: str) -> str:
    """A code in two groups of four, as people read digits out: "1234 5678"."""
    return f"{text[:4]} {text[4:]}" if text.isdigit() and len(text) == 8 else text


def draw_big(draw: ImageDraw.ImageDraw, size: tuple[int, int], m: MenuView) -> None:
    """The menu's big text centred under the title, its first item small below."""
    w, _ = size
    text = big_text(m.big)
    draw.text(((w - draw.textlength(text, font=font(BIG_SIZE))) / 2, 16), text,
              font=font(BIG_SIZE), fill=1)
    if m.items:
        draw.text((2, 50), m.items[0], font=font(10), fill=1)


def draw_screen(draw: ImageDraw.ImageDraw, size: tuple[int, int], s: State,
                menu: MenuView | None, banner: str) -> None:
    if menu is not None:
        draw_menu(draw, size, menu)
    else:
        draw_perform(draw, size, s, banner)
