"""The web remote's live controls in headless chromium, against the real daemon playing a
chart song (its parts synthesised with TimGM6mb) and `backline web`: TAP, the tempo's -/+
and typed BPM, the key's -/+ and the dynamics slider send their commands, and what the
page shows is what the box publishes, whoever changed it. Skipped as test_web_page is."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

import pytest

from synth_rig import TIMGM
from test_remote_socket import Client
import test_web_page
from test_web_page import Rig, screenshot, see, serving, text
from transport_rig import position_song

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:            # test_web_page's skip says why
    pass

pytestmark = pytest.mark.skipif(not TIMGM.is_file(), reason=f"no SoundFont at {TIMGM} "
                                "(apt install timgm6mb-soundfont)")

CHART_SONG = '''count_in = 0
loudness = false
chart = """
tempo: 100
key: E minor
style: rock
[Verse]
| Em | C | G | D |
[Chorus]
| C | D | Em | Em |
"""
'''


class ChartRig(Rig):
    """The setlist: a chart song at 100 BPM in E minor, then a song with a stem only."""

    def fill(self) -> None:
        folder = self.lib / "songs" / "chart"
        folder.mkdir(parents=True)
        (folder / "song.toml").write_text(CHART_SONG)
        position_song(self.lib, "stems", bars=60)
        (self.lib / "setlists" / "gig.setlist").write_text("chart\nstems\n")


page = test_web_page.page       # the fixture: the browser on the page, paired, stopped


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web-live")
    with serving(ChartRig(tmp, extra_config=f'[parts]\nsoundfont = "{TIMGM}"\n')) as r:
        yield r


@pytest.fixture
def chart(page, rig):
    """The page on the chart song, at its written tempo, key and dynamics, as the box says."""
    d = page
    with box(rig) as client:
        if client.state_until(lambda s: True)["song_name"] != "chart":
            assert client.ask({"command": "SelectSong", "args": {"index": 1}})["ok"]
        s = client.state_until(lambda s: s["song_name"] == "chart")
        for cmd, now, wanted in (("SetBpm", s["bpm"], {"bpm": 100}),
                                 ("SetKey", s["key_tempo"]["transpose"], {"semitones": 0}),
                                 ("SetIntensity", s["key_tempo"]["intensity"], {"level": 0.6})):
            if now != next(iter(wanted.values())):
                assert client.ask({"command": cmd, "args": wanted})["ok"]
        client.state_until(lambda s: s["bpm"] == 100 and s["key_tempo"]["transpose"] == 0
                           and s["key_tempo"]["intensity"] == 0.6)
    see(d, lambda: shown_bpm(d) == "100" and text(d, "p-key") == "0 · E minor")
    return d


@contextmanager
def box(rig) -> Iterator[Client]:
    """The daemon's control socket, subscribed, as another control (a pedal, a script) is."""
    client = Client(rig.sock)
    try:
        assert client.ask({"subscribe": "state"})["ok"]
        yield client
    finally:
        client.close()


def the_box(rig, ok) -> dict:
    """The box's published state once ok(state) holds."""
    with box(rig) as client:
        return client.state_until(ok)


def shown_bpm(d) -> str:
    return d.find_element(By.ID, "p-bpm-set").get_attribute("value")


def click(d, element_id: str) -> None:
    d.find_element(By.ID, element_id).click()


def test_four_taps_on_tap_set_the_tapped_tempo_and_three_do_not(chart, rig):
    d = chart
    tap = d.find_element(By.ID, "b-tap")
    beat = 0.5                              # 120 BPM, from the written 100
    start = time.monotonic()
    clicked = []
    for i in range(4):
        time.sleep(max(0.0, start + i * beat - time.monotonic()))
        tap.click()
        clicked.append(time.monotonic())
        if i == 2:                          # three taps (or more, were one click two) are
            time.sleep(0.2)                 # not yet a tempo
            assert the_box(rig, lambda s: True)["bpm"] == 100
    s = the_box(rig, lambda s: s["bpm"] != 100)
    tapped = 60 * 3 / (clicked[-1] - clicked[0])     # as this test clicked them, on a busy
    assert abs(s["bpm"] - tapped) < 8, (s["bpm"], tapped)   # machine; the way there: jitter
    shown = f"{round(s['bpm'], 1):g}"
    see(d, lambda: shown_bpm(d) == shown and text(d, "p-bpm") == shown)


def test_a_typed_bpm_then_plus_and_minus_change_the_tempo_by_one(chart, rig):
    d = chart
    field = d.find_element(By.ID, "p-bpm-set")
    field.clear()
    field.send_keys("96", Keys.ENTER)
    see(d, lambda: shown_bpm(d) == "96" and text(d, "p-bpm") == "96")
    assert the_box(rig, lambda s: True)["bpm"] == 96
    click(d, "b-bpm-up")
    see(d, lambda: shown_bpm(d) == "97")
    click(d, "b-bpm-down")
    see(d, lambda: shown_bpm(d) == "96")
    click(d, "b-bpm-down")
    see(d, lambda: shown_bpm(d) == "95")
    assert the_box(rig, lambda s: True)["bpm"] == 95


def test_a_bpm_the_box_refuses_shows_its_reason_and_the_tempo_stays(chart, rig):
    d = chart
    field = d.find_element(By.ID, "p-bpm-set")
    field.clear()
    field.send_keys("400", Keys.ENTER)
    see(d, lambda: text(d, "toast") == "SetBpm: 400.0 BPM is out of range: 10 to 999 BPM, "
                                       "50% to 200% of the written 100")
    see(d, lambda: shown_bpm(d) == "100")
    assert the_box(rig, lambda s: True)["bpm"] == 100


def test_key_plus_and_minus_transpose_and_the_page_follows_another_control(chart, rig):
    d = chart
    click(d, "b-key-up")
    see(d, lambda: text(d, "p-key") == "+1 · F minor")
    click(d, "b-key-up")
    see(d, lambda: text(d, "p-key") == "+2 · F♯ minor")
    assert the_box(rig, lambda s: True)["key_tempo"]["transpose"] == 2
    for _ in range(3):                      # each a semitone from where the last left it
        click(d, "b-key-down")
    see(d, lambda: text(d, "p-key") == "−1 · E♭ minor")
    with box(rig) as client:                # a MIDI pedal or the menu, say
        assert client.ask({"command": "SetKey", "args": {"semitones": 5}})["ok"]
    see(d, lambda: text(d, "p-key") == "+5 · A minor")


def test_the_slider_sends_its_value_and_follows_the_box(chart, rig):
    d = chart
    slider = d.find_element(By.ID, "p-intensity")
    assert slider.get_attribute("value") == "0.6" and text(d, "p-intensity-read") == "0.60"
    slider.send_keys(Keys.HOME)             # the slider's own keys: to 0, then 5 steps up
    see(d, lambda: the_box(rig, lambda s: True)["key_tempo"]["intensity"] == 0)
    slider.send_keys(*[Keys.ARROW_RIGHT] * 5)
    see(d, lambda: text(d, "p-intensity-read") == "0.25")
    assert the_box(rig, lambda s: True)["key_tempo"]["intensity"] == 0.25
    assert slider.get_attribute("value") == "0.25"
    with box(rig) as client:                # an expression pedal
        assert client.ask({"command": "SetIntensity", "args": {"level": 0.9}})["ok"]
    see(d, lambda: text(d, "p-intensity-read") == "0.90"
        and slider.get_attribute("value") == "0.9")
    d.execute_script("document.activeElement.blur()")
    screenshot(rig, "web-live")


def test_a_song_without_parts_shows_no_dynamics(chart, rig):
    d = chart
    click(d, "b-next")
    see(d, lambda: text(d, "p-song") == "stems")
    see(d, lambda: text(d, "p-intensity-read") == "no parts")
    assert not d.find_element(By.ID, "p-intensity").is_enabled()
    assert text(d, "p-key") == "0" and shown_bpm(d) == "120"
    click(d, "b-prev")
    see(d, lambda: text(d, "p-song") == "chart" and text(d, "p-intensity-read") == "0.60")
