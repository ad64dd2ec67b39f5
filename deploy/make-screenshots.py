"""Writes docs/screens/*.png: the display's screens as the code draws them (4× size).

    .venv/bin/python deploy/make-screenshots.py
"""
from __future__ import annotations

from pathlib import Path

from luma.core.device import dummy

from appliance.audio.state import PLAYING, STALLED, State
from appliance.ui.display import Display
from appliance.ui.menu import MenuView

OUT = Path(__file__).resolve().parent.parent / "docs" / "screens"
SONG = State(transport=PLAYING, song="Fly Away", index=2, count=9, section="Chorus", bar=17,
             beat=3, bpm=128.0, meter="4/4", next_song="Encore")
SCREENS = {
    "perform": (SONG, None),
    "vamp-stalled": (State(**{**SONG.__dict__, "vamp": "vamp Chorus (bars 17-24)",
                              "health": STALLED, "problem": "no device"}), None),
    "menu": (SONG, MenuView("Menu", ("Songs", "Setlists", "Mixer", "Shut down"), 2)),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (state, menu) in SCREENS.items():
        device = dummy(width=128, height=64, mode="1")
        Display(device, state=lambda s=state: s, menu=lambda s, m=menu: m).step()
        image = device.image.convert("L").resize((512, 256), 0)
        image.save(OUT / f"{name}.png")
        print(OUT / f"{name}.png")


if __name__ == "__main__":
    main()
