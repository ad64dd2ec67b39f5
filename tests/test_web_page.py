"""The web remote's page in a real browser: Debian's headless chromium driven by Selenium,
against the real daemon on the JACK double and `backline web` on a free port, each its own
process as on the box. Skipped, saying why, when chromium, its driver or selenium is missing
(deploy/dev.sh installs them). Each view is photographed at a phone held sideways
(844x390) and Perform on a desktop; BACKLINE_SCREENS=docs/screens keeps them for the README."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from alsa_doubles import Jack, config_path_for, jack_pcm
from conftest import wait_for
from test_import import daw_folder
from transport_rig import position_song

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    not (CHROMIUM and DRIVER and HAVE_SELENIUM),
    reason="the browser tests need Debian's chromium and chromium-driver and the selenium "
           "package (deploy/dev.sh installs them)")]

PHONE, DESKTOP = (844, 390), (1280, 800)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rig:
    """The daemon, the web server and the browser, started once for the module, on the
    library `fill` makes (its setlist `gig` is what the daemon plays)."""

    def __init__(self, tmp: Path, extra_config: str = "") -> None:
        self.tmp, self.lib = tmp, tmp / "lib"
        (self.lib / "setlists").mkdir(parents=True)
        self.fill()
        self.config = tmp / "config.toml"
        self.config.write_text(
            f'[audio]\ndevice = "jackhat"\nformat = "FLOAT_LE"\n[outputs]\nfoh = [1]\n'
            f'click = [2]\n[library]\npath = "{self.lib}"\ncache = "{tmp / "cache"}"\n'
            f'[box]\nlearned = "{tmp / "learned.toml"}"\n' + extra_config)
        (tmp / "asoundrc").write_text(jack_pcm("jackhat", 2))
        self.env = {**{k: v for k, v in os.environ.items() if k != "BACKLINE_CONFIG"},
                    "ALSA_CONFIG_PATH": config_path_for(tmp / "asoundrc"),
                    "XDG_CACHE_HOME": str(tmp / "xdg")}
        self.sock, self.state = tmp / "control.sock", tmp / "web-state"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.procs: list[subprocess.Popen] = []
        self.daemon = self.web = self.driver = None

    def fill(self) -> None:
        for name in ("one", "two", "three"):
            position_song(self.lib, name, bars=60,
                          sections=(("Intro", 1), ("Verse", 3), ("Chorus", 9), ("Outro", 50)))
        (self.lib / "setlists" / "gig.setlist").write_text("one\ntwo\nthree\n")

    def cli(self, *args: str, **kw) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "appliance", *args], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=open(self.tmp / f"{args[0]}.log", "a"),
                                **kw)
        self.procs.append(proc)
        return proc

    def start_web(self) -> None:
        self.web = self.cli("web", "--config", str(self.config), "--listen",
                            f"127.0.0.1:{self.port}", "--socket", str(self.sock),
                            "--state", str(self.state))
        assert wait_for(self._answers, 30), (self.tmp / "web.log").read_text()

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def start(self) -> None:
        self.daemon = self.cli("run", "gig", "--config", str(self.config), "--state",
                               str(self.tmp / "st.json"), "--socket", str(self.sock))
        assert wait_for(self.sock.exists, 30), (self.tmp / "run.log").read_text()
        self.start_web()
        options = webdriver.ChromeOptions()
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--hide-scrollbars", "--force-device-scale-factor=1"):
            options.add_argument(arg)
        options.binary_location = CHROMIUM
        self.driver = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=options)
        self.size(*PHONE)

    def size(self, width: int, height: int) -> None:
        """The page's viewport exactly this size (the window's frame left out)."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def code(self) -> str:
        out = subprocess.run([sys.executable, "-m", "appliance", "remote", "pair", "--state",
                              str(self.state)], env=self.env, capture_output=True, text=True,
                             timeout=30)
        return re.search(r"pairing code: (\d+)", out.stdout).group(1)

    def stop(self) -> None:
        if self.driver is not None:
            with_quiet(self.driver.quit)
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def with_quiet(fn) -> None:
    try:
        fn()
    except Exception:      # noqa: BLE001 — tearing down: the browser may be gone already
        pass


@contextmanager
def serving(r: Rig) -> Iterator[Rig]:
    """`r`'s daemon, web server and browser on JACK's dummy server, stopped after."""
    with Jack(period=256, channels=2):
        try:
            r.start()
            yield r
        finally:
            r.stop()


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    with serving(Rig(tmp_path_factory.mktemp("web"))) as r:
        yield r


@pytest.fixture
def page(rig):
    """The browser on the page, paired, on the Perform view, the box stopped."""
    d = rig.driver
    d.get(rig.url)
    see(d, lambda: visible(d, "pair") or visible(d, "app"))
    if visible(d, "pair"):
        pair(d, rig.code())
    tab(d, "perform")
    if d.find_element(By.ID, "p-transport").text != "stopped":
        d.find_element(By.ID, "b-play").click()
        see(d, lambda: d.find_element(By.ID, "p-transport").text == "stopped")
    return d


def see(d, ok, timeout: float = 15):
    """Wait until ok() (an element the page drew again meanwhile is asked again)."""
    return WebDriverWait(d, timeout, poll_frequency=0.05,
                         ignored_exceptions=[StaleElementReferenceException]).until(lambda _: ok())


def press(d, css: str) -> None:
    """Click what `css` finds; found again when a live redraw replaced it between finding
    and clicking (a stale element)."""
    see(d, lambda: d.find_element(By.CSS_SELECTOR, css).click() or True)


def visible(d, element_id: str) -> bool:
    return d.find_element(By.ID, element_id).is_displayed()


def text(d, element_id: str) -> str:
    return d.find_element(By.ID, element_id).text


def tab(d, view: str) -> None:
    d.find_element(By.CSS_SELECTOR, f'.tab[data-view="{view}"]').click()
    see(d, lambda: visible(d, f"view-{view}"))


def pair(d, code: str) -> None:
    field = d.find_element(By.ID, "pair-code")
    field.clear()
    field.send_keys(code)
    d.find_element(By.ID, "pair-go").click()
    see(d, lambda: visible(d, "app"))


def screenshot(rig, name: str, size: tuple[int, int] = PHONE) -> Path:
    """The page as it is now, at `size`, kept as NAME.png (in BACKLINE_SCREENS when set)."""
    folder = Path(os.environ.get("BACKLINE_SCREENS") or rig.tmp / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    rig.size(*size)
    time.sleep(0.3)                        # a frame drawn at the new size
    path = folder / f"{name}.png"
    assert rig.driver.save_screenshot(str(path))
    rig.size(*PHONE)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def bar_beat(d) -> tuple[int, int]:
    bar, beat = text(d, "p-bar").split(".")
    return int(bar), int(beat)


def test_pairing_a_wrong_code_is_refused_and_the_right_one_opens_the_page(rig):
    d = rig.driver
    d.delete_all_cookies()
    d.get(rig.url)
    see(d, lambda: visible(d, "pair"))
    assert not visible(d, "app")
    code = rig.code()
    wrong = "000000" if code != "000000" else "111111"
    d.find_element(By.ID, "pair-code").send_keys(wrong)
    d.find_element(By.ID, "pair-go").click()
    see(d, lambda: "wrong" in text(d, "pair-error"))
    assert visible(d, "pair")
    pair(d, code)
    see(d, lambda: text(d, "link") == "live")
    assert text(d, "p-song") == "one" and text(d, "p-index") == "1/3 · gig"
    cookie = d.get_cookie("backline_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    d.refresh()                             # the cookie keeps it paired
    see(d, lambda: visible(d, "app") and text(d, "link") == "live")


def test_play_moves_the_bar_count_and_stop_stops_it(page, rig):
    d = page
    assert text(d, "p-bar") == "1.1" and text(d, "b-play").endswith("Play")
    d.find_element(By.ID, "b-play").click()
    see(d, lambda: text(d, "p-transport") == "playing")
    first = bar_beat(d)
    see(d, lambda: bar_beat(d)[0] >= first[0] + 2)        # 120 bpm: a bar every 2 s
    assert text(d, "b-play").endswith("Stop") and text(d, "p-bpm") == "120"
    jumps = [b.text for b in d.find_elements(By.CSS_SELECTOR, "#p-jumps button")]
    assert jumps == ["Intro", "Verse", "Chorus", "Outro"]
    d.find_element(By.CSS_SELECTOR, '#p-jumps button[data-section="Chorus"]').click()
    see(d, lambda: text(d, "p-section") == "Chorus" and bar_beat(d)[0] >= 9)
    fill = d.find_element(By.ID, "p-fill").value_of_css_property("width")
    assert float(fill.removesuffix("px")) > 0
    # a section this play has reached is marked on the progress bar
    see(d, lambda: d.find_elements(By.CSS_SELECTOR, '#p-sections span[data-section="Chorus"]'))
    screenshot(rig, "web-perform")
    screenshot(rig, "web-desktop", DESKTOP)
    d.find_element(By.ID, "b-play").click()
    see(d, lambda: text(d, "p-transport") == "stopped")
    stopped_at = text(d, "p-bar")
    time.sleep(1.0)
    assert text(d, "p-bar") == stopped_at


def test_a_setlist_reordered_by_button_and_drag_is_saved_on_disk(page, rig):
    d = page
    tab(d, "setlist")
    Select(d.find_element(By.ID, "s-open")).select_by_value("gig")
    see(d, lambda: rows(d) == ["one", "two", "three"])
    row(d, 0).find_element(By.CSS_SELECTOR, "button.down").click()     # the touch way
    assert rows(d) == ["two", "one", "three"]
    drag(d, 2, 0)                                                     # the mouse way
    assert rows(d) == ["three", "two", "one"]
    Select(row(d, 0).find_element(By.CSS_SELECTOR, "select.transition")).select_by_value("crossfade")
    ms = row(d, 0).find_element(By.CSS_SELECTOR, "input.ms")
    ms.clear()
    ms.send_keys("1500")
    Select(row(d, 1).find_element(By.CSS_SELECTOR, "select.transition")).select_by_value("gapless")
    name = d.find_element(By.ID, "s-name")
    name.clear()
    name.send_keys("tonight")
    d.find_element(By.ID, "s-save").click()
    see(d, lambda: text(d, "s-msg") == "Saved tonight.")
    saved = rig.lib / "setlists" / "tonight.setlist"
    assert saved.read_text().splitlines() == ["three | crossfade 1500 ms", "two | gapless", "one"]
    # a song from the library added at the end, saved over the same setlist
    press(d, '#s-pick li[data-song="one"] button.add')     # the list may redraw meanwhile
    d.find_element(By.ID, "s-save").click()
    see(d, lambda: saved.read_text().splitlines()[-1:] == ["one"]
        and len(saved.read_text().splitlines()) == 4)
    screenshot(rig, "web-setlist")


def test_loading_a_setlist_mid_song_is_refused_with_the_reason(page, rig):
    d = page
    d.find_element(By.ID, "b-play").click()
    see(d, lambda: text(d, "p-transport") == "playing")
    tab(d, "setlist")
    Select(d.find_element(By.ID, "s-open")).select_by_value("gig")
    see(d, lambda: rows(d) == ["one", "two", "three"])
    d.find_element(By.ID, "s-load").click()
    see(d, lambda: text(d, "s-msg") == "stop the song first")
    assert "bad" in d.find_element(By.ID, "s-msg").get_attribute("class")
    tab(d, "perform")
    d.find_element(By.ID, "b-play").click()
    see(d, lambda: text(d, "p-transport") == "stopped")
    tab(d, "setlist")
    d.find_element(By.ID, "s-load").click()
    see(d, lambda: text(d, "s-msg") == "gig is loaded on the box.")


def test_an_uploaded_daw_export_appears_in_the_library_and_delete_moves_it_to_the_trash(page, rig):
    d = page
    src = daw_folder(rig.tmp)
    zipped = rig.tmp / "export.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for f in sorted(src.iterdir()):
            zf.write(f, f"{src.name}/{f.name}")
    tab(d, "library")
    see(d, lambda: library_rows(d) == ["one", "three", "two"])
    d.find_element(By.ID, "u-file").send_keys(str(zipped))
    assert d.find_element(By.ID, "u-name").get_attribute("value") == "export"
    name = d.find_element(By.ID, "u-name")
    name.clear()
    name.send_keys("Gig Opener")
    d.find_element(By.ID, "u-bpm").send_keys("120")
    d.find_element(By.ID, "u-go").click()
    see(d, lambda: "Gig Opener is in the library." in text(d, "u-msg"), 120)
    assert float(d.find_element(By.ID, "u-bar").get_attribute("value")) == 1
    see(d, lambda: "Gig Opener" in library_rows(d))
    cells = [c.text for c in d.find_elements(By.CSS_SELECTOR, 'tr[data-song="Gig Opener"] td')]
    assert cells[1] == "0:04" and cells[2] == "120" and cells[5] == "4"     # length, bpm, stems
    assert (rig.lib / "songs" / "Gig Opener" / "song.toml").is_file()
    screenshot(rig, "web-library")
    row_ = d.find_element(By.CSS_SELECTOR, 'tr[data-song="Gig Opener"]')
    row_.find_element(By.CSS_SELECTOR, "button.delete").click()
    confirm = row_.find_element(By.CSS_SELECTOR, "button.confirm")
    assert confirm.text == "Move Gig Opener to the trash"
    confirm.click()
    see(d, lambda: "Gig Opener" not in library_rows(d))
    assert not (rig.lib / "songs" / "Gig Opener").exists()
    assert list((rig.lib / ".trash").glob("*/Gig Opener/song.toml"))


def test_the_mixer_mutes_a_stem_and_turns_an_output_down(page, rig):
    d = page
    tab(d, "mixer")
    see(d, lambda: d.find_elements(By.CSS_SELECTOR, '#m-stems tr[data-stem="pos"]'))
    assert [t.text for t in d.find_elements(By.CSS_SELECTOR, "#m-outputs .title")] == ["foh", "click"]
    mute = d.find_element(By.CSS_SELECTOR, '#m-stems tr[data-stem="pos"] button.mute')
    assert mute.text == "mute"
    mute.click()
    see(d, lambda: d.find_element(By.CSS_SELECTOR, '#m-stems tr[data-stem="pos"] button.mute').text == "muted")
    foh = '#m-outputs .strip[data-output="foh"] '
    before = d.find_element(By.CSS_SELECTOR, foh + ".db").text
    d.find_element(By.CSS_SELECTOR, foh + "button.minus").click()
    see(d, lambda: d.find_element(By.CSS_SELECTOR, foh + ".db").text
        == f"{float(before) - 1:+.1f}".replace("+0.0", "0.0"))
    screenshot(rig, "web-mixer")
    d.find_element(By.CSS_SELECTOR, '#m-stems tr[data-stem="pos"] button.mute').click()
    see(d, lambda: d.find_element(By.CSS_SELECTOR, '#m-stems tr[data-stem="pos"] button.mute').text == "mute")


def test_the_page_says_when_the_link_drops_and_reconnects_by_itself(page, rig):
    d = page
    see(d, lambda: text(d, "link") == "live")
    rig.web.kill()                          # as a crash would (kill -9)
    rig.web.wait(10)
    see(d, lambda: text(d, "link").startswith("connection lost"))
    assert "down" in d.find_element(By.ID, "link").get_attribute("class")
    rig.start_web()
    see(d, lambda: text(d, "link") == "live", 20)
    d.find_element(By.ID, "b-play").click()             # and it steers the box again
    see(d, lambda: text(d, "p-transport") == "playing")


def songs_in(d, selector: str) -> list[str]:
    """The data-song of each element (read in one go: the page redraws lists live)."""
    return d.execute_script("return [...document.querySelectorAll(arguments[0])]"
                            ".map(e => e.dataset.song)", selector)


def rows(d) -> list[str]:
    return songs_in(d, "#s-list li")


def row(d, i: int):
    return d.find_elements(By.CSS_SELECTOR, "#s-list li")[i]


def library_rows(d) -> list[str]:
    return songs_in(d, "#l-songs tr")


def drag(d, source: int, target: int) -> None:
    """An HTML5 drag and drop as a mouse makes it (Selenium's own cannot start one)."""
    d.execute_script("""
        const [from, to] = [arguments[0], arguments[1]];
        const dt = new DataTransfer();
        const fire = (el, type) => el.dispatchEvent(
            new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt}));
        fire(from, "dragstart"); fire(to, "dragover"); fire(to, "drop"); fire(from, "dragend");
    """, row(d, source), row(d, target))
