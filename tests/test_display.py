"""The display: drawn on luma's `dummy` device from state snapshots."""
from __future__ import annotations

import math

import numpy as np
import pytest
from luma.core.device import dummy

from appliance.config.layout import DisplaySpec
from appliance.errors import BacklineError
from appliance.sim.lcd import TerminalLcd
from appliance.ui.display import Display, PixelScreen, TextScreen, open_display
from appliance.ui.menu import STATUS, Menu, MenuView
from appliance.ui.status import level_text, status_line
from appliance.ui.text import text_screen
from appliance.ui.trouble import fault
from appliance.vocab import commands as c
from appliance.vocab.state import Health, Loudness, RecordState, State, TransportState

RATE = 48000
SONG = State(transport=TransportState.PLAYING, song="Fly Away", index=2, count=9, section="Chorus", bar=17,
             beat=3, bpm=128.0, meter="4/4", next_song="Encore")


def pixels(device) -> np.ndarray:
    return np.array(device.image.convert("1"), dtype=bool)


def draw(state: State, menu: MenuView | None = None):
    device = dummy(width=128, height=64, mode="1")
    Display(PixelScreen(device), state=lambda: state, menu=lambda s: menu, rate=RATE).step()
    return device


def test_a_healthy_screen_has_no_banner_and_trouble_shows_an_inverted_one():
    ok, bad = pixels(draw(SONG)), pixels(draw(State(**{**SONG.__dict__, "health": Health.STALLED,
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
    current[0] = State(**{**current[0].__dict__, "rejected": "Jump: no section 'Outro'",
                                      "refusals": 1})
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


# -- what matters is never hidden ------------------------------------------------------
def with_(state: State, **fields) -> State:
    return State(**{**state.__dict__, **fields})


def stepper(screen, first: State):
    """A display on `screen` whose snapshot the test sets: returns (display, set-and-step)."""
    current = [first]
    display = Display(screen, state=lambda: current[0], menu=lambda s: None, rate=RATE)

    def show(state: State) -> None:
        current[0] = state
        display.step()
    return display, show


def banner_lit(device) -> float:
    return pixels(device)[54:, :].mean()


def test_counts_alone_are_no_banner_from_start_up_while_stopped():
    stopped = State(xruns=3, disk_underruns=2, limited=(("main", 40),), output_frame=RATE)
    assert banner_lit(draw(stopped)) == 0.0
    assert not any("!" in line or "XRUN" in line.upper()
                   for line in text_screen(stopped, None, ""))
    lcd = TerminalLcd()
    _, show = stepper(TextScreen(lcd), stopped)
    show(stopped)
    assert lcd.lines()[3] == " " * 20 and "!" not in "".join(lcd.lines())


def test_an_xrun_banner_holds_while_recovering_and_three_seconds_of_frames_after():
    device = dummy(width=128, height=64, mode="1")
    lcd = TerminalLcd()
    healthy = with_(SONG, xruns=1, output_frame=10 * RATE)
    _, show = stepper(PixelScreen(device), healthy)
    _, show_lcd = stepper(TextScreen(lcd), healthy)

    def both(state: State) -> None:
        show(state)
        show_lcd(state)

    both(healthy)
    assert banner_lit(device) == 0.0
    recovering = with_(healthy, xruns=2, health="recovering")
    for frame in (11 * RATE, 13 * RATE):                          # CALM_S of clean audio
        both(with_(recovering, output_frame=frame))
        assert banner_lit(device) > 0.5
        assert lcd.lines()[1] == "!RECOVERING         "           # the position line
        assert lcd.lines()[3] == "next: Encore        "
    back = with_(healthy, xruns=2)
    for frame in (13 * RATE + 1, 16 * RATE - 1):                   # held 3 s after
        both(with_(back, output_frame=frame))
        assert banner_lit(device) > 0.5 and lcd.lines()[1].startswith("!RECOVERING")
    both(with_(back, output_frame=16 * RATE))                       # then gone
    assert banner_lit(device) == 0.0
    assert lcd.lines()[1] == "17.3   Chorus       "


def test_a_stalled_device_holds_the_banner_while_its_clock_stands_still():
    lcd = TerminalLcd()
    stalled = with_(SONG, health=Health.STALLED, problem="no device", output_frame=5 * RATE)
    _, show = stepper(TextScreen(lcd), stalled)
    for _ in range(3):
        show(stalled)
    assert lcd.lines()[1] == "!STALLED no device  "
    show(with_(SONG, output_frame=5 * RATE + 2 * RATE))           # back, the words held
    assert lcd.lines()[1] == "!STALLED no device  "
    show(with_(SONG, output_frame=5 * RATE + 3 * RATE))
    assert lcd.lines()[1] == "17.3   Chorus       "


def test_a_faulted_audio_thread_is_a_banner():
    faulted = with_(SONG, health=Health.FAULTED, problem="ValueError in the mix")
    assert banner_lit(draw(faulted)) > 0.5
    assert text_screen(faulted, None, fault(faulted))[1] == "!FAULTED ValueError "


def region(device, top: int, bottom: int) -> np.ndarray:
    return pixels(device)[top:bottom]


def test_the_oled_shows_a_refusal_and_what_comes_next_under_a_banner():
    stalled = with_(SONG, health=Health.STALLED, problem="no device")
    refused = with_(stalled, rejected="next-song: stop the vamp first", refusals=1)
    plain, shown = draw(stalled), draw(refused)
    changed = np.argwhere(pixels(plain) != pixels(shown))
    assert len(changed) > 50                                    # the refusal's text is drawn
    assert changed[:, 0].min() >= 40 and changed[:, 0].max() < 53    # on its own line
    assert banner_lit(shown) > 0.5                              # and the banner too
    for field, text in (("vamp", "vamp Chorus (bars 17-24)"),
                        ("pending", "jump to Bridge at bar 25"),
                        ("waiting", "waiting for Bridge")):
        other = draw(with_(refused, **{field: text}))
        changed = np.argwhere(pixels(shown) != pixels(other))
        assert len(changed) > 50                                # replaces "next: Encore"
        assert changed[:, 0].min() >= 29 and changed[:, 0].max() < 41
        assert banner_lit(other) > 0.5


def test_a_jump_waiting_for_its_audio_shows_before_a_pending_one():
    both = with_(SONG, pending="jump to Bridge at bar 25", waiting="waiting for Bridge")
    assert text_screen(both, None, "")[3] == "waiting for Bridge  "
    assert text_screen(both, None, "", cols=16, rows=2)[1] == "waiting for Brid"
    waits, pends = draw(both), draw(with_(both, waiting=""))
    assert (pixels(waits)[29:41] != pixels(pends)[29:41]).any()


def test_the_lcd_keeps_the_last_line_under_a_banner_and_a_lasting_trouble():
    trouble = with_(SONG, health=Health.STALLED, problem="no device", failed_stems=("bass",),
                    vamp="vamp Chorus (bars 17-24)")
    banner = fault(trouble)
    assert text_screen(trouble, None, banner) == ["2/9 Fly Away        ",
                                                  "!STALLED no device  ",
                                                  "!STEM FAILED: bass  ",
                                                  "vamp Chorus (bars 17"]
    refused = with_(trouble, vamp="", rejected="stop: nothing plays")
    assert text_screen(refused, None, banner)[3] == "stop: nothing plays "
    assert text_screen(refused, None, banner, cols=16, rows=2) == ["!STALLED no devi",
                                                                   "stop: nothing pl"]
    lasting_only = with_(SONG, failed_stems=("bass",))
    assert text_screen(lasting_only, None, "", cols=16, rows=2) == ["17.3   Chorus   ",
                                                                    "!STEM FAILED: ba"]
    assert text_screen(with_(lasting_only, pending="jump to Bridge at bar 25"), None, "",
                       cols=16, rows=2)[1] == "jump to Bridge a"


def test_a_lasting_trouble_is_the_oled_banner_and_keeps_the_refusal_line():
    failed = with_(SONG, failed_stems=("bass",), rejected="stop: nothing plays", refusals=1)
    assert banner_lit(draw(failed)) > 0.5
    assert (pixels(draw(failed))[40:53] != pixels(draw(with_(failed, rejected="")))[40:53]).any()


def test_the_song_key_is_shown_on_every_screen():
    keyed = with_(SONG, key="F# minor")
    plain, shown = draw(SONG), draw(keyed)
    changed = np.argwhere(pixels(plain) != pixels(shown))
    assert len(changed) > 20
    assert changed[:, 0].max() < 11 and changed[:, 1].min() > 64      # top right
    rec = with_(keyed, record=RecordState(running=True, seconds=83.0))
    beside = np.argwhere(pixels(draw(rec)) != pixels(draw(with_(rec, key=""))))
    assert beside[:, 1].max() < 80                   # left of the record badge, not under it
    assert text_screen(keyed, None, "")[2] == "> 128 4/4 F# minor  "
    assert "key F# minor" in status_line(keyed, RATE)


def test_the_status_line_says_health_now_and_counts_apart():
    line = status_line(with_(SONG, xruns=3, waiting="waiting for Bridge",
                             limited=(("main", 12), ("monitor", 0))), RATE)
    assert "HEALTHY" not in line and "xruns 3" in line
    assert "waiting for Bridge" in line and "limited main 12" in line
    assert "monitor" not in line


def test_the_menu_status_page_shows_the_counts():
    menu = Menu(lambda cmd: None, songs=lambda: [], setlists=lambda: [],
                outputs=("main", "monitor"))
    menu.see(with_(SONG, xruns=3, disk_underruns=1, limited=(("main", 120),),
                   failed_stems=("bass", "keys"),
                   record=RecordState(inputs=("vox",), problem="the disk is full",
                                      dropped=2)))
    menu.apply(c.OpenMenu())
    menu.apply(c.MenuMove(menu.view().items.index(STATUS)))
    menu.apply(c.MenuSelect())
    view = menu.view()
    assert view.title == "Status"
    assert view.items == ("Audio healthy", "Xruns 3", "Disk late 1", "Limited MAIN 120",
                          "Limited MONITOR 0", "Failed: bass, keys", "Level -",
                          "Rec: the disk is full", "Rec dropped 2")
    menu.see(with_(SONG, xruns=4))                      # live: from the latest snapshot
    assert menu.view().items[1] == "Xruns 4"
    assert menu.view().items[5] == "Stems all playing"


def test_a_refusal_is_said_for_four_seconds_of_frames_and_again_when_repeated():
    lcd = TerminalLcd()
    current = [with_(SONG, output_frame=10 * RATE)]
    display = Display(TextScreen(lcd), state=lambda: current[0], menu=lambda s: None, rate=RATE)

    def last_line(frame: int, refusals: int) -> str:
        current[0] = with_(SONG, output_frame=frame, refusals=refusals,
                           rejected="next-song: this is the last song" if refusals else "")
        display.step()
        return lcd.lines()[3]
    assert last_line(10 * RATE, 0) == "next: Encore        "
    assert last_line(11 * RATE, 1) == "next-song: this is t"      # refused: said at once
    assert last_line(15 * RATE - 1, 1) == "next-song: this is t"  # for 4 s of frames
    assert last_line(15 * RATE, 1) == "next: Encore        "      # then the line is free
    assert last_line(16 * RATE, 2) == "next-song: this is t"      # the same again is news


def test_the_songs_loudness_and_gain_show_on_the_song_page_and_the_status_page():
    measured = with_(SONG, loudness=Loudness(-14.23, -1.79))
    assert level_text(measured.loudness) == "-14.2 LUFS -1.8 dB"
    assert level_text(Loudness(-math.inf, 0.0)) == "silent +0.0 dB"
    assert level_text(Loudness(note="loudness = false: played as mixed")) == ""
    changed = np.argwhere(pixels(draw(SONG)) != pixels(draw(measured)))
    assert len(changed) > 50                                     # drawn ...
    assert changed[:, 0].min() >= 40 and changed[:, 0].max() < 53     # ... on the refusal's line
    refused = with_(measured, rejected="stop: nothing plays", refusals=1)
    assert (pixels(draw(refused)) == pixels(draw(with_(SONG, rejected="stop: nothing plays",
                                                       refusals=1)))).all()   # a refusal first
    menu = Menu(lambda cmd: None, songs=lambda: [], setlists=lambda: [], outputs=("main",))
    menu.see(measured)
    menu.apply(c.OpenMenu())
    menu.apply(c.MenuMove(menu.view().items.index(STATUS)))
    menu.apply(c.MenuSelect())
    assert "Level -14.2 LUFS -1.8 dB" in menu.view().items
    menu.see(with_(SONG, loudness=Loudness(note="loudness not measured (backline prepare)")))
    assert "Level loudness not measured (backline prepare)" in menu.view().items


def test_a_sync_in_progress_shows_where_the_next_song_does():
    syncing = with_(SONG, sync="sync 40% (12.0 of 30.0 MB): bass.flac")
    assert text_screen(syncing, None, "")[3] == "sync 40% (12.0 of 30"
    changed = np.argwhere(pixels(draw(SONG)) != pixels(draw(syncing)))
    assert changed[:, 0].min() >= 29 and changed[:, 0].max() < 41
    assert text_screen(with_(syncing, vamp="vamp Chorus (bars 17-24)"), None, "")[3] == \
        "vamp Chorus (bars 17"                             # what the band does comes first


def test_a_chart_songs_dynamics_show_on_the_song_page_and_the_lcd():
    from appliance.ui.status import song_line
    from appliance.vocab.state import KeyTempo
    chart = with_(SONG, key_tempo=KeyTempo(intensity=0.6), loudness=Loudness(-14.23, -1.79))
    assert song_line(chart) == "dyn 60% -14.2 LUFS -1.8 dB"
    assert song_line(with_(chart, rejected="tap: no song loaded")) == "tap: no song loaded"
    changed = np.argwhere(pixels(draw(with_(SONG, loudness=chart.loudness))) != pixels(draw(chart)))
    assert len(changed) > 20 and changed[:, 0].min() >= 40 and changed[:, 0].max() < 53
    assert text_screen(chart, None, "")[2] == "> 128 4/4 dyn 60%   "
    assert text_screen(SONG, None, "")[2] == "> 128 4/4           "     # no parts: not said



def test_a_live_tempo_shows_as_a_whole_percentage_beside_the_bpm():
    from appliance.vocab.state import KeyTempo
    live = with_(SONG, bpm=100.0, key_tempo=KeyTempo(tempo=100 / 128, wanted_tempo=100 / 128,
                                                     bpm=128.0))
    shown = with_(live, key_tempo=KeyTempo(tempo=0.78, wanted_tempo=0.78, bpm=128.0))
    assert (pixels(draw(live)) == pixels(draw(shown))).all()        # "100 78% 4/4"
    assert (pixels(draw(live)) != pixels(draw(with_(live, key_tempo=KeyTempo())))).any()
    menu = Menu(lambda cmd: None, songs=lambda: [], setlists=lambda: [], outputs=("main",))
    menu.see(live)
    for cmd in (c.OpenMenu(), c.MenuMove(3), c.MenuSelect()):
        menu.apply(cmd)
    assert menu.view().title == "Key/Tempo"
    assert "Tempo 78% (100 BPM)" in menu.view().items
