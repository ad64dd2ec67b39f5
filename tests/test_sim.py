"""`backline run --sim`: keys become pin edges on gpiozero's MockFactory, the display is
painted in the terminal, the audio is paced by JACK's dummy driver into a WAV file."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from gpiozero.pins.mock import MockFactory
from luma.core.render import canvas
from PIL import Image

from appliance.config import load_config
from appliance.control.gpio import Footswitches
from appliance.errors import BacklineError
from appliance.service.panel import Panel
from appliance.sim.hands import Hands
from appliance.sim.keymap import key_map
from appliance.sim.screen import Terminal, TerminalScreen, blocks
from appliance.sim.session import BUILD, sim_controls
from appliance.vocab import commands as c
from conftest import run_cli, wait_for, write_config
from transport_rig import position_song

PROFILES = sorted((Path(__file__).parents[1] / "hw" / "profiles").glob("*.toml"))


def test_block_characters_follow_the_pixels():
    px = np.array([[1, 0, 1, 1],
                   [0, 0, 1, 0],
                   [1, 1, 0, 0],
                   [0, 1, 0, 1]], dtype=bool)
    assert blocks(px, wide=True) == ["▀ █▀", "▀█ ▄"]
    assert blocks(px, wide=False) == ["▘▛", "▜▗"]


def test_the_terminal_screen_paints_what_luma_drew_and_saves_it(tmp_path):
    import io
    out = io.StringIO()
    terminal = Terminal(out, legend=["1 !  play: toggle-play"], columns=80)
    screen = TerminalScreen(terminal)
    with canvas(screen) as draw:
        draw.rectangle((0, 0, 1, 1), fill="white")       # the top-left 2×2 pixels
    lines = out.getvalue().split("\033[H")[-1].split("\033[K\n")
    assert lines[1] == "│█" + " " * 63 + "│"              # 80 columns: one character per 2×2
    assert lines[-2] == "1 !  play: toggle-play"
    png = terminal.save_png(screen.picture(), tmp_path)
    picture = np.array(Image.open(png))
    assert picture.shape == (64, 128)
    assert picture[:2, :2].all() and not picture[2:, :].any() and not picture[:, 2:].any()


# which profiles the stomp4 build fits as it is, and the first clash where it does not
FITS = {"hifiberry-dacplus-adc": None, "iqaudio-codec-zero": None, "usb": None,
        "pisound": r"switch\[1\]\.pin: GPIO17 is already used by the audio HAT \(Pisound\)",
        "audioinjector-octo": r"switch\[2\]\.pin: GPIO22 is already used by the audio HAT "
                              r"\(Audio Injector Octo\)"}


def test_every_profile_is_known_to_the_build_check():
    assert sorted(FITS) == [p.stem for p in PROFILES]


@pytest.mark.parametrize("profile", PROFILES, ids=[p.stem for p in PROFILES])
def test_the_stomp4_build_on_each_hat_profile(tmp_path, profile):
    """Where a HAT takes a pin of the build, the config refuses it naming both."""
    config = load_config(write_config(tmp_path / "p.toml", profile.read_text()))
    clash = FITS[profile.stem]
    if clash:
        with pytest.raises(BacklineError, match=r"stomp4.toml: " + clash):
            sim_controls(config)
        return
    cfg = write_config(tmp_path / "c.toml", profile.read_text() + BUILD.read_text())
    controls = load_config(cfg).controls
    assert [s.name for s in controls.switches] == ["play", "section", "song", "menu"]
    assert sim_controls(config) == controls


def test_the_sim_refuses_the_build_on_a_hat_that_takes_its_pins(tmp_path):
    cfg = write_config(tmp_path / "c.toml", '[hat]\nname = "Odd HAT"\npins = [17]\n')
    with pytest.raises(BacklineError, match=r"stomp4.toml: switch\[1\].pin: GPIO17 is "
                                            r"already used by the audio HAT \(Odd HAT\)"):
        sim_controls(load_config(cfg))


@pytest.fixture
def keyboard(tmp_path):
    """The stomp4 build on mock pins, its keys, and what reaches the engine."""
    factory = MockFactory()
    controls = sim_controls(load_config(write_config(tmp_path / "c.toml", "")))
    sent: list[c.Command] = []
    panel = Panel(controls, send=sent.append, box=sent.append, songs=lambda: ["One", "Two"],
                  setlists=lambda: [], outputs=("foh", "click"))
    switches = Footswitches(controls, on_gesture=panel.gesture, on_turn=panel.turn,
                            pin_factory=factory)
    yield key_map(controls, Hands(factory)), sent, panel
    switches.close()
    factory.reset()


def test_keys_are_footswitches_combos_and_encoders(keyboard):
    keys, sent, panel = keyboard
    keys.actions["1"]()                                  # the play switch: press only
    assert sent == [c.TogglePlay()]
    keys.actions["@"]()                                  # shift: the section switch held down
    assert wait_for(lambda: sent[-1] == c.Vamp())
    keys.actions["@"]()                                  # and let go
    assert wait_for(lambda: sent[-1] == c.ReleaseVamp())
    keys.actions["z"]()                                  # play + menu together: panic
    assert wait_for(lambda: sent[-1] == c.Stop(at=c.At.NOW))
    n = len(sent)
    keys.actions["="]()                                  # the level encoder, one detent
    keys.actions["-"]()
    assert sent[n:] == [c.NudgeGain("click", 1.0), c.NudgeGain("click", -1.0)]
    assert panel.mode == "perform"
    keys.actions["\n"]()                                 # Enter: the nav encoder's push
    assert wait_for(lambda: panel.mode == "menu")
    assert any("nav:" in line and "turn song" in line for line in keys.legend)


def test_the_legend_names_commands_as_the_config_writes_them(tmp_path):
    """Not "jsec: Jump": the legend says the command's name, argument and @at."""
    config = load_config(write_config(tmp_path / "c.toml", """
[[switch]]
name = "jsec"
pin = 17
perform = { press = "jump Chorus", hold = "mute bass" }
[[combo]]
switches = ["jsec", "song"]
command = "select-song 3"
[[switch]]
name = "song"
pin = 27
perform = { press = "seek 9 @beat" }
[[encoder]]
name = "bass"
a = 5
b = 6
perform = { turn = "level foh bass" }
"""))
    legend = key_map(config.controls, Hands(MockFactory())).legend
    assert legend[:4] == ["1 !  jsec: jump Chorus @bar, hold mute bass",
                          "2 @  song: seek 9 @beat",
                          "z    jsec+song: select-song 3",
                          ", .  bass: turn level foh bass"]


def test_run_sim_plays_with_keys_and_writes_screen_and_audio(library, tmp_path):
    folder = position_song(library, "s", bars=2)
    cfg = write_config(tmp_path / "c.toml", f'[audio]\nperiod = 256\n[outputs]\nfoh = [1]\n'
                       f'click = [2]\n[library]\ncache = "{tmp_path / "cache"}"\n')
    sim = tmp_path / "sim"
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance", "run", "--sim", "--sim-wav", "--sim-dir", str(sim),
         "--config", str(cfg), str(folder)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env={**os.environ, "COLUMNS": "140"})
    try:
        assert wait_for(lambda: "ready" in _read(sim / "backline.log"), timeout=20)
        proc.stdin.write("1")                            # the play switch
        proc.stdin.flush()
        assert wait_for(lambda: "playing: s" in _read(sim / "backline.log"))
        time.sleep(1.0)
        proc.stdin.write("pq")                           # a PNG of the screen, then quit
        proc.stdin.flush()
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, _read(sim / "backline.log")
    assert f"the audio is in {sim / 'output.wav'}" in out
    assert "1 !  play: toggle-play" in out          # the legend under the screen
    screen = np.array(Image.open(sim / "backline-screen-1.png"))
    assert screen.shape == (64, 128) and screen.any()
    got, rate = sf.read(str(sim / "output.wav"), dtype="float32")
    first = int(np.flatnonzero(got[:, 0])[0])            # silence while stopped, then the song
    run_cli("render", folder, "-o", tmp_path / "ref.wav", "--config", cfg)
    ref, _ = sf.read(str(tmp_path / "ref.wav"), dtype="float32")
    n = 48000                                            # the second before the quit's fade
    assert rate == 48000 and len(got) - first > n
    assert np.array_equal(got[first:first + n], ref[:n])


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


# -- the header and the wiring -----------------------------------------------------
def test_the_header_map_accounts_for_all_forty_pins():
    from appliance.control.header import (GROUND_PINS, HEADER_PIN, POWER_3V3_PINS,
                                          POWER_5V_PINS)
    from appliance.config.layout import GPIO_PINS
    assert sorted(HEADER_PIN) == list(GPIO_PINS)
    pins = [*HEADER_PIN.values(), *GROUND_PINS, *POWER_3V3_PINS, *POWER_5V_PINS]
    assert sorted(pins) == list(range(1, 41))
    assert (HEADER_PIN[2], HEADER_PIN[14], HEADER_PIN[21], HEADER_PIN[0]) == (3, 8, 40, 27)


HW_README = Path(__file__).parents[1] / "hw" / "README.md"


def _expand(ranges: str) -> list[int]:
    out: list[int] = []
    for part in ranges.replace("none", "").split(","):
        if part.strip():
            a, _, b = part.strip().partition("-")
            out += list(range(int(a), int(b or a) + 1))
    return out


def test_the_hat_table_in_hw_readme_says_what_the_profiles_say():
    from appliance.control.header import free_pins
    rows = {}
    for line in HW_README.read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (_expand(cells[4]), _expand(cells[5]))
    assert sorted(rows) == sorted(p.stem for p in PROFILES)
    for profile in PROFILES:
        hat = load_config(profile).controls.hat_pins
        assert rows[profile.stem] == (sorted(hat), free_pins(hat)), profile.stem


def test_wiring_prints_the_panel_by_header_pin_as_hw_readme_shows_it():
    r = run_cli("wiring", "--config", PROFILES[1])
    assert PROFILES[1].stem == "hifiberry-dacplus-adc" and r.code == 0
    table = r.out.split("\n", 1)[1]
    assert "GPIO17 (pin 11)    switch play          to ground through the switch\n" in table
    assert f"```\n{table}```" in HW_README.read_text()


def test_wiring_names_the_clash_on_a_hat_that_takes_a_pin():
    r = run_cli("wiring", "--config", PROFILES[3])
    assert PROFILES[3].stem == "pisound" and r.code == 1
    assert "switch[1].pin: GPIO17 is already used by the audio HAT (Pisound)" in r.err


def test_a_character_lcd_is_drawn_on_the_terminal_as_one(tmp_path):
    import io
    from appliance.sim.lcd import TerminalLcd
    from appliance.ui.display import Display, TextScreen
    from appliance.vocab.state import State, TransportState
    out = io.StringIO()
    terminal = Terminal(out, legend=[], columns=80)
    lcd = TerminalLcd(terminal, cols=20, rows=4)
    song = State(transport=TransportState.PLAYING, song="Fly Away", index=2, count=9, section="Chorus",
                 bar=17, beat=3, bpm=128.0, meter="4/4", next_song="Encore")
    Display(TextScreen(lcd), state=lambda: song, menu=lambda s: None, rate=48000).step()
    painted = out.getvalue().split("\033[H")[-1].split("\033[K\n")
    assert painted[:6] == ["┌" + "─" * 20 + "┐", "│2/9 Fly Away        │",
                           "│17.3   Chorus       │", "│> 128 4/4           │",
                           "│next: Encore        │", "└" + "─" * 20 + "┘"]
    png = terminal.save_png(lcd.picture(), tmp_path)
    assert Image.open(png).size == (124, 52)


@pytest.mark.parametrize("close", ["SIGINT", "SIGTERM"])
def test_sighup_reloads_the_sim_and_a_close_signal_restores_the_terminal(
        library, tmp_path, close):
    """On a real terminal (a pty): SIGHUP reads the config again and the sim plays on;
    Ctrl-C or SIGTERM then leave the terminal as it was, JACK stopped and output.wav written."""
    import pty
    import signal
    import termios
    folder = position_song(library, "s", bars=2)
    cfg = write_config(tmp_path / "c.toml", f'[audio]\nperiod = 256\n[outputs]\nfoh = [1]\n'
                       f'click = [2]\n[library]\ncache = "{tmp_path / "cache"}"\n')
    sim = tmp_path / "sim"
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)

    def screen() -> None:                         # the terminal's side: what it paints is read
        try:
            while os.read(master, 65536):
                pass
        except OSError:
            pass
    threading.Thread(target=screen, daemon=True).start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance", "run", "--sim", "--sim-wav", "--sim-dir", str(sim),
         "--config", str(cfg), str(folder)], stdin=slave, stdout=slave,
        env={**os.environ, "COLUMNS": "140"})
    jackd = []
    try:
        assert wait_for(lambda: "ready" in _read(sim / "backline.log"), timeout=20)
        assert termios.tcgetattr(slave) != before                 # cbreak while it runs
        jackd = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid), "jackd"],
                                               capture_output=True, text=True).stdout.split()]
        assert len(jackd) == 1
        proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "reload: config and library read again"
                        in _read(sim / "backline.log"))
        assert proc.poll() is None
        proc.send_signal(getattr(signal, close))
        assert proc.wait(10) == 0, _read(sim / "backline.log")
    finally:
        proc.kill()
        proc.wait()
    assert termios.tcgetattr(slave) == before
    os.close(slave)
    os.close(master)
    assert not any(Path(f"/proc/{pid}").exists() for pid in jackd)
    got, rate = sf.read(str(sim / "output.wav"), dtype="float32")
    assert rate == 48000 and len(got) > 4800
