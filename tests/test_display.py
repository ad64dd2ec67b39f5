"""The display: drawn on luma's `dummy` device from state snapshots."""
from __future__ import annotations


import numpy as np
import pytest
from luma.core.device import dummy

from appliance.audio.state import PLAYING, STALLED, RecordState, State
from appliance.control.layout import DisplaySpec
from appliance.errors import BacklineError
from appliance.sim.lcd import TerminalLcd
from appliance.ui.display import Display, PixelScreen, TextScreen, open_display
from appliance.ui.menu import MenuView
from appliance.ui.text import text_screen

RATE = 48000
SONG = State(transport=PLAYING, song="Fly Away", index=2, count=9, section="Chorus", bar=17,
             beat=3, bpm=128.0, meter="4/4", next_song="Encore")


def pixels(device) -> np.ndarray:
    return np.array(device.image.convert("1"), dtype=bool)


def draw(state: State, menu: MenuView | None = None):
    device = dummy(width=128, height=64, mode="1")
    Display(PixelScreen(device), state=lambda: state, menu=lambda s: menu, rate=RATE).step()
    return device


def test_a_healthy_screen_has_no_banner_and_trouble_shows_an_inverted_one():
    ok, bad = pixels(draw(SONG)), pixels(draw(State(**{**SONG.__dict__, "health": STALLED,
                                                          "problem": "device gone"})))
    assert ok[52:, :].mean() < 0.1                     # bottom rows mostly dark
    assert bad[53:, :].mean() > 0.6                    # an inverted banner: mostly lit
    assert (ok[:40] == bad[:40]).all()                 # the rest of the screen is the same


def test_bar_beat_is_drawn_big_and_changes_with_the_beat():
    a, b = pixels(draw(SONG)), pixels(draw(State(**{**SONG.__dict__, "beat": 4})))
    changed = np.argwhere(a != b)
    assert len(changed) > 20
    rows, cols = changed[:, 0], changed[:, 1]
    assert rows.min() >= 10 and rows.max() < 29 and cols.max() < 70    # only the big digits


def test_redraws_only_when_what_it_shows_changes():
    device = dummy(width=128, height=64, mode="1")
    current = [SONG]
    display = Display(PixelScreen(device), state=lambda: current[0], menu=lambda s: None,
                      rate=RATE)
    assert display.step() is True
    current[0] = State(**{**SONG.__dict__, "frame": 12345, "seconds": 0.26})   # not shown
    assert display.step() is False and display.draws == 1
    current[0] = State(**{**SONG.__dict__, "section": "Bridge"})
    assert display.step() is True and display.draws == 2
    current[0] = State(**{**current[0].__dict__, "rejected": "Jump: no section 'Outro'"})
    assert display.step() is True and display.draws == 3       # a refusal is shown at once


def test_menu_highlights_the_cursor_row():
    device = draw(SONG, MenuView("Menu", ("Songs", "Setlists", "Mixer", "Shut down"), 2))
    px = pixels(device)
    assert px[0:11].mean() > 0.6                  # the title bar is inverted
    row = lambda i: px[13 + i * 13: 13 + i * 13 + 12]
    assert row(2).mean() > 0.6 and row(0).mean() < 0.3


def test_a_display_that_does_not_answer_names_itself(tmp_path):
    spec = DisplaySpec(kind="ssd1306", bus="i2c", address=0x3C, port=7)
    with pytest.raises(BacklineError, match=r"display: ssd1306 at I2C address 0x3c on bus 7 "
                                            r"is not answering"):
        open_display(spec, tmp_path / "config.toml")


def test_a_character_lcd_that_does_not_answer_names_itself(tmp_path):
    spec = DisplaySpec(kind="hd44780", address=0x27, port=7)
    with pytest.raises(BacklineError, match=r"display: hd44780 at I2C address 0x27 on bus 7 "
                                            r"is not answering"):
        open_display(spec, tmp_path / "config.toml")


# -- the character LCD ---------------------------------------------------------------
def test_the_text_screens_fill_twenty_by_four():
    assert text_screen(SONG, None, "") == ["2/9 Fly Away        ",
                                           "17.3   Chorus       ",
                                           "> 128 4/4           ",
                                           "next: Encore        "]
    menu = MenuView("Menu", ("Songs", "Setlists", "Mixer", "Shut down"), 3)
    assert text_screen(SONG, menu, "") == ["Menu                ", " Setlists           ",
                                           " Mixer              ", ">Shut down          "]
    assert text_screen(SONG, None, "", cols=16, rows=2) == ["17.3   Chorus   ",
                                                            "next: Encore    "]


def test_hd44780_shows_the_screen_and_is_sent_only_what_changed():
    lcd = TerminalLcd()                                  # RPLCD's protocol, no glass
    current = [SONG]
    display = Display(TextScreen(lcd), state=lambda: current[0], menu=lambda s: None,
                      rate=RATE)
    assert display.step()
    assert lcd.lines() == text_screen(SONG, None, "")
    first = lcd.sent
    current[0] = State(**{**SONG.__dict__, "beat": 4})
    assert display.step()
    assert lcd.lines()[1] == "17.4   Chorus       "
    assert lcd.sent - first == 1                           # one character: the beat


def test_a_display_that_stops_answering_is_retried_and_said_once():
    import logging
    said: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: said.append(record.getMessage())
    class Flaky:
        def __init__(self):
            self.broken, self.shown = True, []

        def show(self, s, menu, banner):
            if self.broken:
                raise OSError("[Errno 121] Remote I/O error")
            self.shown.append(s.beat)

    screen = Flaky()
    display = Display(screen, state=lambda: SONG, menu=lambda s: None, rate=RATE)
    logging.getLogger("backline").addHandler(handler)
    try:
        assert display.step() is False and display.step() is False
    finally:
        logging.getLogger("backline").removeHandler(handler)
    assert said == ["the display stopped answering: [Errno 121] Remote I/O error"]
    screen.broken = False                                  # the cable is back
    assert display.step() is True and screen.shown == [3]


def test_ssd1306_sends_the_picture_over_its_serial_interface():
    """The real luma driver on a serial double: init commands, then the frame as data."""
    from luma.oled.device import ssd1306

    class Wire:
        def __init__(self):
            self.commands, self.sent = [], []

        def command(self, *cmd):
            self.commands.extend(cmd)

        def data(self, data):
            self.sent.extend(data)

        def cleanup(self):
            pass

    wire = Wire()
    device = ssd1306(serial_interface=wire)
    wire.sent.clear()
    Display(PixelScreen(device), state=lambda: SONG, menu=lambda s: None, rate=RATE).step()
    assert 0xAF in wire.commands                   # display on
    assert len(wire.sent) == 128 * 64 // 8         # one full frame of pixels
    assert any(wire.sent)


def test_a_running_take_shows_on_both_screens_and_a_failed_one_is_an_alert():
    rec = State(**{**SONG.__dict__, "record": RecordState(running=True, seconds=83.0)})
    plain, badged = pixels(draw(SONG)), pixels(draw(rec))
    changed = np.argwhere(plain != badged)
    assert changed[:, 0].max() < 12 and changed[:, 1].min() > 60   # top right, over the title
    assert badged[:12, 100:].mean() > 0.5                          # an inverted badge
    assert text_screen(rec, None, "")[0] == "REC 1:23 2/9 Fly Awa"
    armed = State(**{**SONG.__dict__, "record": RecordState(follow=True, left_s=7800.0)})
    assert text_screen(armed, None, "")[0].startswith("ARM 2h10 ")
    full = State(**{**SONG.__dict__, "record": RecordState(
        problem="the disk is full: recording stopped")})
    assert text_screen(full, None, "")[2] == "!REC: the disk is fu"
    assert pixels(draw(full))[53:, :].mean() > 0.6                 # the banner


def test_brightness_is_set_on_the_display_thread():
    device = dummy(width=128, height=64, mode="1")
    contrast = []
    device.contrast = contrast.append
    display = Display(PixelScreen(device), state=lambda: SONG, menu=lambda s: None, rate=RATE)
    display.wanted_brightness = 50
    display.step()
    assert contrast == [128] and display.wanted_brightness is None
    lcd = TerminalLcd()
    text = Display(TextScreen(lcd), state=lambda: SONG, menu=lambda s: None, rate=RATE)
    text.wanted_brightness = 0
    text.step()
    assert lcd.backlight_enabled is False
