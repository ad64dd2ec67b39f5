"""Writes docs/screens/*.png: the display's screens as the code draws them (4× size),
and the simulator's terminal (docs/screens/sim.txt, also shown in the README).

    .venv/bin/python deploy/make-screenshots.py
"""
from __future__ import annotations

from pathlib import Path

import io
import re

from luma.core.device import dummy

from appliance.config import Config
from appliance.sim.hands import Hands
from appliance.sim.keymap import key_map
from appliance.sim.screen import Terminal, TerminalScreen
from appliance.sim.session import sim_controls
from appliance.ui.display import Display, PixelScreen
from appliance.ui.menu import STATUS, Menu, MenuView
from appliance.vocab.commands import MenuMove, MenuSelect, OpenMenu
from appliance.vocab.state import Health, State, TransportState

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screens"
README = ROOT / "README.md"
SIM_BLOCK = re.compile(r"(<!-- sim -->\n```text\n).*?(```\n)", re.S)
SONG = State(transport=TransportState.PLAYING, song="Fly Away", key="F# minor", index=2, count=9,
             section="Chorus", bar=17, beat=3, bpm=128.0, meter="4/4", next_song="Encore")


def status_page() -> MenuView:
    """The menu's Status page after three xruns, as the menu builds it."""
    menu = Menu(lambda cmd: None, songs=list, setlists=list, outputs=("main", "monitor"))
    menu.see(State(**{**SONG.__dict__, "xruns": 3}))
    menu.apply(OpenMenu())
    menu.apply(MenuMove(menu.view().items.index(STATUS)))
    menu.apply(MenuSelect())
    menu.apply(MenuMove(1))
    return menu.view()


SCREENS = {
    "perform": (SONG, None),
    "vamp-stalled": (State(**{**SONG.__dict__, "vamp": "vamp Chorus (bars 17-24)",
                              "rejected": "next-song: stop the vamp first",
                              "health": Health.STALLED, "problem": "no device"}), None),
    "menu": (SONG, MenuView("Menu", ("Songs", "Setlists", "Mixer", "Shut down"), 2)),
    "status": (SONG, status_page()),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (state, menu) in SCREENS.items():
        device = dummy(width=128, height=64, mode="1")
        Display(PixelScreen(device), state=lambda s=state: s, menu=lambda s, m=menu: m,
                rate=Config().rate).step()
        image = device.image.convert("L").resize((512, 256), 0)
        image.save(OUT / f"{name}.png")
        print(OUT / f"{name}.png")
    sim = sim_terminal(SONG)
    (OUT / "sim.txt").write_text(sim)
    README.write_text(SIM_BLOCK.sub(lambda m: m[1] + sim + m[2], README.read_text()))
    print(OUT / "sim.txt", "(and in README.md)")


def sim_terminal(state: State) -> str:
    """What `backline run --sim` shows on an 80-column terminal, without the escapes."""
    out = io.StringIO()
    keys = key_map(sim_controls(Config()), Hands(None))
    screen = TerminalScreen(Terminal(out, legend=keys.legend, columns=80))
    Display(PixelScreen(screen), state=lambda: state, menu=lambda s: None,
            rate=Config().rate).step()
    last = out.getvalue().split("\033[H")[-1]
    return re.sub(r"\033\[[0-9;]*[A-Za-z]", "", last)


if __name__ == "__main__":
    main()
