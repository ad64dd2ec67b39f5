"""Footswitches, encoders, LEDs and the menu: gpiozero's MockFactory drives real pins
through the real gpiozero devices, gestures, panel and menu."""
from __future__ import annotations

from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.config import load_config
from appliance.control.gestures import Gestures
from appliance.control.gpio import Footswitches, Lights
from appliance.service.panel import Panel
from appliance.sim.hands import Hands
from appliance.vocab import commands as c
from appliance.vocab.names import COMMAND_WORDS, check_turn, command_name, every_name, parse_command, turn_command
from appliance.vocab.state import Health, RecordState, State, StemLevel, TransportState
from conftest import wait_for, write_config

PANEL = """
[hat]
name = "HiFiBerry DAC+ ADC"
pins = [2, 3, 18, 19, 20, 21]

[controls]
hold_ms = 300

[[switch]]
name = "left"
pin = 17
perform = { press = "toggle-play" }
menu = { press = "menu-down" }

[[switch]]
name = "mid"
pin = 27
perform = { press = "next-section @beat", hold = "vamp", release = "release-vamp" }

[[switch]]
name = "right"
pin = 22
perform = { press = "next-song", double = "previous-song" }

[[switch]]
name = "restart"
pin = 23
perform = { press = "restart @bar" }

[[combo]]
switches = ["left", "right"]
command = "panic"

[[encoder]]
name = "nav"
a = 5
b = 6
button = 13
perform = { turn = "song", press = "menu" }
menu = { turn = "menu", press = "menu-select", hold = "menu-back" }

[[encoder]]
name = "level"
a = 16
b = 26
perform = { turn = "click-level" }

[[led]]
name = "tempo"
pin = 12
shows = "beat"
"""


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.reset()


@pytest.fixture
def board(tmp_path: Path, factory):
    """The panel of PANEL on mock pins; `sent` collects what reaches the engine."""
    config = load_config(write_config(tmp_path / "config.toml", PANEL))
    sent: list[c.Command] = []
    boxed: list[c.Command] = []
    panel = Panel(config.controls, send=sent.append, box=boxed.append,
                  songs=lambda: ["One", "Two", "Three"],
                  setlists=lambda: [Path("/lib/setlists/friday.setlist")],
                  outputs=tuple(config.outputs))
    switches = Footswitches(config.controls, on_gesture=panel.gesture, on_turn=panel.turn,
                            pin_factory=factory)
    yield panel, switches, sent, boxed
    switches.close()


def tap(factory, pin: int) -> None:
    Hands(factory).tap(pin)


def turn(factory, a: int, b: int, detents: int) -> None:
    Hands(factory).turn(a, b, detents)


# -- names --------------------------------------------------------------------
def test_command_names_parse_with_arguments_and_quantisation():
    assert parse_command("jump Chorus @section") == c.Jump("Chorus", at=c.At.SECTION)
    assert parse_command("jump 3") == c.Jump(3, at=c.At.BAR)
    assert parse_command("vamp 4") == c.Vamp(4)
    assert parse_command("panic") == c.Stop(at=c.At.NOW)
    assert parse_command("select-song 2") == c.SelectSong(2)
    assert turn_command("song", -2) == [c.PreviousSong(), c.PreviousSong()]
    assert turn_command("level ears", 3, db_per_step=0.5) == [c.NudgeOutputGain("ears", 1.5)]


@pytest.mark.parametrize("word", COMMAND_WORDS)
def test_every_command_name_reads_back_as_its_command(word):
    """command_name gives what parse_command turns back into the same command, for each
    word with each argument it takes and each @at: what legends and MIDI learn write."""
    made = 0
    for arg in ("", "3", "Big Chorus", "vox", "90%", "+2%", "96", "0.5"):
        for at in ("", "@now", "@beat", "@bar", "@section"):
            try:
                cmd = parse_command(" ".join(filter(None, (word, arg, at))))
            except ValueError:
                continue
            name = command_name(cmd)
            assert name != type(cmd).__name__ and parse_command(name) == cmd, name
            made += 1
    assert made


def test_command_names_say_the_argument_and_where_it_takes_effect():
    assert command_name(c.Jump("Chorus")) == "jump Chorus @bar"
    assert command_name(c.Jump(2, at=c.At.SECTION)) == "jump 2 @section"
    assert command_name(c.Jump(2, at=c.At.NOW)) == "jump 2 @now"
    assert command_name(c.Stop(at=c.At.NOW)) == "panic"
    assert command_name(c.Mute("bass", False)) == "unmute bass"
    assert command_name(c.Vamp(0)) == "vamp"
    assert command_name(c.SetGain("bass", -3.0)) == "SetGain"      # no name: the class


def test_a_stems_level_in_one_outputs_mix_is_an_encoder_target():
    assert turn_command("level ears bass", -2, db_per_step=0.5) == \
        [c.NudgeGain("bass", -1.0, "ears")]
    assert turn_command("level ears ears", 1) == [c.NudgeGain("ears", 1.0, "ears")]  # a stem
    assert turn_command("level ears", 1) == [c.NudgeOutputGain("ears", 1.0)]
    assert check_turn("level ears bass", ("foh", "ears")) is None
    assert check_turn("level side bass", ("foh", "ears")) == \
        "no output 'side' (outputs: foh, ears)"
    assert "unknown encoder target 'level'" in check_turn("level", ("foh",))


def test_every_name_offers_the_songs_sections_stems_songs_and_inputs():
    offered = every_name(sections=("Intro", "Big Chorus", "3"), stems=("bass",), songs=2,
                         inputs=("vox",))
    assert {"toggle-play", "panic", "shutdown", "jump Intro @bar", "jump Big Chorus @bar",
            "select-song 2", "mute bass", "unsolo bass", "disarm vox"} <= set(offered)
    assert not any(name.startswith("jump 3") for name in offered)   # would be section 3
    assert all(command_name(parse_command(n)) in offered for n in offered if " " in n)


@pytest.mark.parametrize("text, says", [
    ("dance", "unknown command 'dance'"),
    ("seek", "'seek' needs an argument"),
    ("play 3", "'play' takes no argument"),
    ("vamp many", "'vamp' needs a whole number"),
    ("vamp 99", "Vamp.bars must be 0 to 64"),
])
def test_bad_command_names_say_why(text, says):
    with pytest.raises(ValueError, match=says):
        parse_command(text)


# -- gestures (exact clock) ------------------------------------------------------
def test_bounce_after_a_press_is_ignored_and_a_press_fires_on_the_edge():
    g = Gestures({"a": {"press"}})
    assert g.edge("a", True, 0.0) == [("a", "press")]
    for t, level in ((0.002, False), (0.004, True), (0.006, False), (0.008, True)):
        assert g.edge("a", level, t) == []
    assert g.edge("a", False, 0.2) == []
    assert g.edge("a", True, 0.5) == [("a", "press")]


def test_a_release_bouncing_back_down_is_caught_after_the_lockout():
    g = Gestures({"a": {"press"}})
    g.edge("a", True, 0.0)
    g.edge("a", False, 0.1)            # accepted release
    g.edge("a", True, 0.105)           # bounce inside the lock-out, left down
    assert g.due() == pytest.approx(0.115)
    assert g.tick(0.115) == [("a", "press")]     # it really is down: a second press


def test_hold_never_also_fires_a_press_and_its_release_follows():
    g = Gestures({"m": {"press", "hold", "release"}})
    assert g.edge("m", True, 1.0) == []
    assert g.tick(1.59) == []
    assert g.tick(1.6) == [("m", "hold")]
    assert g.edge("m", False, 3.0) == [("m", "release")]
    assert g.edge("m", True, 4.0) == [] and g.edge("m", False, 4.2) == [("m", "press")]


def test_double_press_and_a_single_press_after_the_window():
    g = Gestures({"r": {"press", "double"}})
    g.edge("r", True, 0.0)
    assert g.edge("r", False, 0.1) == []
    assert g.edge("r", True, 0.25) == [("r", "double")]
    assert g.edge("r", False, 0.3) == []
    assert g.tick(5) == []
    g.edge("r", True, 10.0)
    g.edge("r", False, 10.1)
    assert g.tick(10.39) == []
    assert g.tick(10.4) == [("r", "press")]


def test_a_combo_fires_alone_and_a_lone_member_presses_after_the_window():
    g = Gestures({"x": {"press"}, "y": {"press"}}, [("x", "y")])
    assert g.edge("x", True, 0.0) == []
    assert g.edge("y", True, 0.03) == [("x+y", "press")]
    assert g.edge("x", False, 0.5) == [] and g.edge("y", False, 0.5) == []
    assert g.tick(1.0) == []
    assert g.edge("x", True, 2.0) == []
    assert g.tick(2.06) == [("x", "press")]


# -- pins -------------------------------------------------------------------------
def test_footswitch_press_reaches_the_engine_as_its_command(board, factory):
    panel, _, sent, _ = board
    tap(factory, 23)                         # a press-only switch: on the edge, same thread
    assert sent == [c.Restart(at=c.At.BAR)]
    factory.pin(17).drive_low()              # in the panic combo: held back 60 ms for it
    assert sent == [c.Restart(at=c.At.BAR)]
    assert wait_for(lambda: sent[-1] == c.TogglePlay(), 2)
    factory.pin(17).drive_high()


def test_vamp_while_held_on_the_gesture_timer_thread(board, factory):
    panel, _, sent, _ = board
    factory.pin(27).drive_low()
    assert wait_for(lambda: sent == [c.Vamp()], 3)
    factory.pin(27).drive_high()
    assert sent == [c.Vamp(), c.ReleaseVamp()]


def test_panic_combo_sends_stop_now_and_neither_switch(board, factory):
    panel, _, sent, _ = board
    factory.pin(17).drive_low()
    factory.pin(22).drive_low()
    factory.pin(17).drive_high()
    factory.pin(22).drive_high()
    assert wait_for(lambda: False, 0.5) is False      # let any held-back press fall due
    assert sent == [c.Stop(at=c.At.NOW)]


def test_fast_encoder_turns_lose_no_step(board, factory):
    panel, _, sent, _ = board
    turn(factory, 16, 26, 25)
    turn(factory, 16, 26, -5)
    total = sum(cmd.db for cmd in sent if isinstance(cmd, c.NudgeGain))
    assert total == 20.0
    assert all(cmd.stem == "click" for cmd in sent)


def test_menu_by_encoder_selects_a_song_then_perform_mode_returns(board, factory):
    panel, _, sent, _ = board
    tap(factory, 13)                         # nav button: open the menu
    assert wait_for(lambda: panel.mode == "menu", 2)
    view = panel.view(State(index=1, count=3))
    assert view.items == ("Songs", "Setlists", "Mixer", "Key/Tempo", "Settings", "Status", "Shut down")
    assert view.cursor == 0
    tap(factory, 13)                         # Songs
    assert wait_for(lambda: panel.view(State()).title == "Songs", 2)
    turn(factory, 5, 6, 2)                   # in the menu, turning moves the cursor
    assert panel.view(State()).cursor == 2
    turn(factory, 5, 6, -1)
    tap(factory, 17)                         # the left switch is menu-down in the menu
    assert wait_for(lambda: panel.view(State()).cursor == 2, 2)
    tap(factory, 13)
    assert wait_for(lambda: c.SelectSong(3) in sent, 2)
    assert panel.mode == "perform"
    turn(factory, 5, 6, 1)                   # and turning browses songs again
    assert sent[-1] == c.NextSong()


def test_menu_mixer_edits_levels_and_shutdown_asks_first(board):
    panel, _, sent, boxed = board
    for cmd in (c.OpenMenu(), c.MenuMove(2), c.MenuSelect()):
        panel.command(cmd)
    state = State(mix=(StemLevel("click", -6.0, False, False), StemLevel("bass", 0, False, False)),
                  output_gain_db=(("foh", -3.0),))
    view = panel.view(state)
    assert view.items == ("click -6 dB", "FOH >", "CLICK >", "bass +0 dB")
    panel.command(c.MenuMove(3))
    panel.command(c.MenuSelect())            # edit bass
    panel.command(c.MenuMove(-2))
    assert sent == [c.NudgeGain("bass", -2.0)]
    panel.command(c.MenuBack())              # stop editing
    panel.command(c.MenuBack())              # back to the main menu
    panel.command(c.MenuMove(4))
    panel.command(c.MenuSelect())
    panel.command(c.MenuSelect())            # "No"
    assert boxed == [] and panel.view(State()).title == "Menu"
    panel.command(c.MenuSelect())
    panel.command(c.MenuMove(1))
    panel.command(c.MenuSelect())            # "Yes, power off"
    assert boxed == [c.Shutdown()] and panel.mode == "perform"


def test_menu_mixer_output_pages_set_the_master_and_each_stem_in_that_mix(board):
    """Mixer > foh > bass: the bass in the front-of-house mix only."""
    panel, _, sent, _ = board
    for cmd in (c.OpenMenu(), c.MenuMove(2), c.MenuSelect(), c.MenuMove(1), c.MenuSelect()):
        panel.command(cmd)
    state = State(mix=(StemLevel("click", -6.0, False, False, (("click", -2.0),)),
                       StemLevel("bass", 0, False, False, (("foh", 4.0),))),
                  output_gain_db=(("foh", -3.0),))
    view = panel.view(state)
    assert (view.title, view.items) == ("Mixer > foh", ("FOH -3 dB", "click +0 dB", "bass +4 dB"))
    panel.command(c.MenuSelect())            # the master
    panel.command(c.MenuMove(1))
    panel.command(c.MenuSelect())            # done
    panel.command(c.MenuMove(2))
    panel.command(c.MenuSelect())            # the bass in foh
    panel.command(c.MenuMove(-1))
    assert sent == [c.NudgeOutputGain("foh", 1.0), c.NudgeGain("bass", -1.0, "foh")]
    panel.command(c.MenuBack())
    panel.command(c.MenuBack())              # back to the Mixer
    panel.command(c.MenuMove(1))             # CLICK >: the click output's own mix
    panel.command(c.MenuSelect())
    assert panel.view(state).items == ("CLICK +0 dB", "click -2 dB", "bass +0 dB")
    assert panel.view(State()).items == ("CLICK +0 dB", "click +0 dB")   # another song


def test_menu_setlists_open_only_while_stopped(board):
    panel, _, sent, boxed = board
    panel.view(State(transport=TransportState.PLAYING))
    for cmd in (c.OpenMenu(), c.MenuMove(1), c.MenuSelect()):
        panel.command(cmd)
    assert panel.view(State(transport=TransportState.PLAYING)).items == ("Stop the song first",)
    panel.command(c.MenuSelect())                    # back to the main menu
    assert panel.view(State()).title == "Menu"
    recording = State(record=RecordState(running=True))
    panel.view(recording)
    panel.command(c.MenuSelect())                    # stopped, but a take runs
    assert panel.view(recording).items == ("Stop recording first",)
    panel.command(c.MenuSelect())
    panel.view(State())
    panel.command(c.MenuSelect())                    # stopped now: the setlists
    assert panel.view(State()).items == ("friday",)
    panel.command(c.MenuSelect())
    assert boxed == [c.OpenShow("/lib/setlists/friday.setlist")] and panel.mode == "perform"


def test_tempo_led_follows_the_beat_in_the_snapshot(tmp_path, factory):
    config = load_config(write_config(tmp_path / "config.toml", PANEL))
    lights = Lights(config.controls, pin_factory=factory)
    try:
        lights.show(State(transport=TransportState.PLAYING, beat_phase=0.1))
        assert factory.pin(12).state == 1
        lights.show(State(transport=TransportState.PLAYING, beat_phase=0.6))
        assert factory.pin(12).state == 0
        lights.show(State(beat_phase=0.0))             # stopped: dark
        assert factory.pin(12).state == 0
    finally:
        lights.close()


def test_alert_led_lights_when_the_device_stalls(tmp_path, factory):
    config = load_config(write_config(tmp_path / "c.toml", '[[led]]\npin = 4\nshows = "alert"\n'))
    lights = Lights(config.controls, pin_factory=factory)
    try:
        lights.show(State(health=Health.STALLED))
        assert factory.pin(4).state == 1
        lights.show(State())
        assert factory.pin(4).state == 0
    finally:
        lights.close()


def test_record_led_is_steady_while_a_take_runs_and_blinks_while_armed(tmp_path, factory):
    config = load_config(write_config(tmp_path / "c.toml", '[[led]]\npin = 8\nshows = "record"\n'))
    lights = Lights(config.controls, pin_factory=factory)
    try:
        seen = []
        for frame in (0, 16384, 32768, 49152):
            lights.show(State(output_frame=frame, record=RecordState(follow=True)))
            seen.append(factory.pin(8).state)
        assert seen == [1, 0, 1, 0]                       # armed: blinking, on the audio clock
        lights.show(State(output_frame=16384, record=RecordState(running=True)))
        assert factory.pin(8).state == 1
        lights.show(State(record=RecordState()))
        assert factory.pin(8).state == 0
    finally:
        lights.close()


def test_menu_record_page_arms_inputs_and_toggles_takes(board):
    panel, _, sent, _ = board
    state = State(record=RecordState(inputs=("vox", "gtr"), armed=("vox",), left_s=7800.0))
    panel.view(state)
    for cmd in (c.OpenMenu(), c.MenuMove(4), c.MenuSelect()):
        panel.command(cmd)
    assert panel.view(state).items == ("Rec with play: off", "Record now", "vox: armed",
                                       "gtr: off", "2 h 10 min left")
    panel.command(c.MenuSelect())                    # Rec with play
    panel.command(c.MenuMove(3))
    panel.command(c.MenuSelect())                    # gtr: arm it
    panel.command(c.MenuMove(-2))
    panel.command(c.MenuSelect())                    # Record now
    assert sent == [c.RecordArm(), c.Arm("gtr", True), c.Record()]
    running = State(record=RecordState(inputs=("vox", "gtr"), armed=("vox", "gtr"),
                                       follow=True, running=True, seconds=83.0))
    assert panel.view(running).items[:2] == ("Rec with play: on", "Stop take 1:23.0")
    assert panel.mode == "menu"                      # toggles keep the page open


def test_settings_turn_the_brightness_through_the_box(board):
    panel, _, sent, boxed = board
    for cmd in (c.OpenMenu(), c.MenuMove(4), c.MenuSelect()):
        panel.command(cmd)
    assert panel.view(State()).items[0] == "Brightness 100%"
    assert panel.view(State()).items[1].startswith("Backline ")
    panel.command(c.MenuSelect())                    # edit it: turning sets it
    panel.command(c.MenuMove(-3))
    assert boxed == [c.SetBrightness(70)] and sent == []
    assert panel.view(State()).items[0] == "Brightness 70%"


def test_the_main_menu_offers_record_only_where_there_are_inputs(board):
    panel, _, _, _ = board
    panel.view(State())
    panel.command(c.OpenMenu())
    assert "Record" not in panel.view(State()).items


# -- bad config ---------------------------------------------------------------------
@pytest.mark.parametrize("text, says", [
    ('[[switch]]\npin = 17\n[[switch]]\npin = 17\n',
     "switch[2].pin: GPIO17 is already used by switch[1].pin"),
    ('[hat]\nname = "Pisound"\npins = [18, 19]\n[[encoder]]\na = 5\nb = 18\n',
     "encoder[1].b: GPIO18 is already used by the audio HAT (Pisound)"),
    ('[[switch]]\npin = 17\nperform = { press = "dance" }\n',
     "switch[1].perform.press: unknown command 'dance'"),
    ('[[switch]]\npin = 17\nperform = { squeeze = "play" }\n',
     "switch[1].perform.squeeze: unknown gesture"),
    ('[[switch]]\npin = 40\n', "switch[1].pin: must be a GPIO number from 0 to 27, not 40"),
    ('[display]\ntype = "crt"\n', "display.type: must be one of none, ssd1306, sh1106, hd44780"),
    ('[display]\ntype = "ssd1306"\n[[switch]]\npin = 3\n',
     "switch[1].pin: GPIO3 is already used by the display (I2C)"),
    ('[[encoder]]\na = 5\nb = 6\nperform = { turn = "level monitor" }\n',
     "encoder[1].perform.turn: no output 'monitor'"),
    ('[[encoder]]\na = 5\nb = 6\nperform = { turn = "level monitor bass" }\n',
     "encoder[1].perform.turn: no output 'monitor'"),
    ('[[switch]]\nname = "a"\npin = 5\n[[combo]]\nswitches = ["a", "z"]\ncommand = "panic"\n',
     "combo[1].switches: no switch named 'z'"),
    ('[[switch]]\nname = "left"\npin = 5\n[[encoder]]\nname = "left"\na = 6\nb = 7\n',
     "encoder[1].name: 'left' is already the name of switch[1]"),
    ('[hat]\npins = [2, "I2S"]\n', "hat.pins: must list GPIO numbers from 0 to 27"),
    ('[display]\ntype = "hd44780"\ncols = 24\n', "display.cols: must be one of 16, 20, not 24"),
    ('[display]\ntype = "hd44780"\nbus = "spi"\n',
     "display.bus: an hd44780 is driven through its I2C backpack (PCF8574), not spi"),
])
def test_bad_control_config_names_the_field_and_leaves_only_that_out(tmp_path, text, says):
    """The box still starts: a broken control is left out, the rest of the panel works."""
    path = write_config(tmp_path / "config.toml", text + '[[switch]]\nname = "good"\npin = 26\n'
                        'perform = { press = "play" }\n')
    config = load_config(path)
    assert any(says in str(p) and str(path) in str(p) and str(p).endswith("; left out")
               for p in config.warnings), [str(p) for p in config.warnings]
    assert "good" in [sw.name for sw in config.controls.switches]


def test_a_combo_without_a_command_is_one_problem(tmp_path):
    path = write_config(tmp_path / "config.toml", '[[switch]]\nname = "a"\npin = 5\n'
                        '[[switch]]\nname = "b"\npin = 6\n[[combo]]\nswitches = ["a", "b"]\n')
    config = load_config(path)
    assert [p.field for p in config.warnings] == ["combo[1].command"]
    assert config.controls.combos == ()


def test_every_hat_profile_loads_and_guards_its_pins(tmp_path):
    profiles = sorted((Path(__file__).parent.parent / "hw" / "profiles").glob("*.toml"))
    assert len(profiles) >= 5
    for profile in profiles:
        assert load_config(profile).controls is not None
    text = (profiles[0].parent / "hifiberry-dacplus-adc.toml").read_text()
    path = write_config(tmp_path / "c.toml", text + '\n[[switch]]\npin = 19\n')
    config = load_config(path)
    assert "switch[1].pin: GPIO19 is already used by the audio HAT (HiFiBerry DAC+ ADC)" in \
        str(config.warnings[0]) and config.controls.switches == ()


def test_backline_check_says_what_the_config_leaves_out(tmp_path):
    import shutil

    from conftest import run_cli
    cfg = write_config(tmp_path / "config.toml", '[[switch]]\npin = 40\n')
    demo = tmp_path / "demo"               # as shipped: not as deploy/dev.sh measured it here
    shutil.copytree(Path(__file__).parents[1] / "appliance" / "demo", demo,
                    ignore=shutil.ignore_patterns("loudness.toml"))
    r = run_cli("check", demo, "--config", cfg)
    assert r.code == 0
    assert "switch[1].pin: must be a GPIO number from 0 to 27, not 40; left out" in r.err
    assert "0 errors, 1 warnings" in r.err
