"""The menu: choose a setlist or a song, set levels, arm inputs and record, shut down.

Driven by the panel commands (OpenMenu, MenuMove, MenuSelect, MenuBack) from any
footswitch, encoder, MIDI note or key; what it decides comes out as ordinary
commands through `emit` (SelectSong, NudgeGain, OpenShow, Shutdown ...). It reads
the library and the state snapshot, never the engine. `view()` is what a screen draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..audio.state import LOADING, STOPPED, State
from ..control import commands as c
from ..control.names import parse_command
from .status import clock, time_left

SONGS, SETLISTS, MIXER, RECORD, LEARN, SETTINGS, STATUS, SHUTDOWN = (
    "Songs", "Setlists", "Mixer", "Record", "MIDI learn", "Settings", "Status", "Shut down")
MAIN = (SONGS, SETLISTS, MIXER, RECORD, LEARN, SETTINGS, STATUS, SHUTDOWN)
LISTENING = "Press a pedal"
LEARNABLE = ("toggle-play", "stop", "next-song", "previous-song", "next-section", "vamp",
             "release-vamp", "cancel", "restart", "record", "record-arm", "menu", "menu-up",
             "menu-down", "menu-select", "menu-back")
BRIGHTNESS_STEP = 10
LIVE = (MIXER, RECORD)        # pages whose items come from the latest snapshot


@dataclass(frozen=True)
class MenuView:
    title: str
    items: tuple[str, ...]
    cursor: int
    editing: bool = False      # turning changes the item's level, not the cursor


@dataclass
class _Page:
    title: str
    items: list[str]
    # what selecting item i does; None: nothing
    choose: Callable[[int], None] | None = None
    cursor: int = 0


class Menu:
    def __init__(self, emit: Callable[[c.Command], None], *,
                 songs: Callable[[], list[str]], setlists: Callable[[], list[Path]],
                 outputs: tuple[str, ...], db_per_step: float = 1.0,
                 midi_trigger: Callable[[c.Command], str] | None = None) -> None:
        """`midi_trigger`: how a command is reached over MIDI now (None: no MIDI in)."""
        self._emit = emit
        self._trigger = midi_trigger
        self._songs = songs
        self._setlists = setlists
        self._outputs = outputs
        self._db = db_per_step
        self._pages: list[_Page] = []
        self._editing: str | None = None        # "click", "out:NAME", a stem, "brightness"
        self.brightness = 100
        self._state = State()

    @property
    def is_open(self) -> bool:
        return bool(self._pages)

    def see(self, state: State) -> None:
        """The latest snapshot: mixer levels shown in the menu come from it."""
        self._state = state

    def apply(self, cmd: c.Command) -> None:
        if isinstance(cmd, c.OpenMenu):
            if not self._pages:          # Record and MIDI learn only where there is the input
                items = [m for m in MAIN if (m != RECORD or self._state.record.inputs)
                         and (m != LEARN or self._trigger)]
                self._pages.append(_Page("Menu", items, self._main))
        elif not self._pages:
            return
        elif isinstance(cmd, c.MenuMove):
            if self._editing is not None:
                self._nudge(cmd.steps)
            else:
                page = self._pages[-1]
                page.cursor = max(0, min(len(page.items) - 1, page.cursor + cmd.steps))
        elif isinstance(cmd, c.MenuSelect):
            if self._editing is not None:
                self._editing = None
            else:
                page = self._pages[-1]
                if page.choose and page.items:
                    page.choose(page.cursor)
        elif isinstance(cmd, c.MenuBack):
            if self._editing is not None:
                self._editing = None
            elif self._pages.pop().title == LISTENING:
                self._emit(c.LearnMidi(""))

    def close(self) -> None:
        self._pages.clear()
        self._editing = None

    def view(self) -> MenuView | None:
        if not self._pages:
            return None
        page = self._pages[-1]
        if page.title in LIVE:           # the song's stems, the inputs: from the snapshot
            page.items = self._mixer_keys() if page.title == MIXER else self._record_keys()
            page.cursor = min(page.cursor, len(page.items) - 1)
        items = tuple(self._label(page, i) for i in range(len(page.items)))
        return MenuView(page.title, items, page.cursor, self._editing is not None)

    # -- pages ------------------------------------------------------------------
    def _main(self, i: int) -> None:
        item = self._pages[-1].items[i]
        if item == SONGS:
            songs = self._songs()
            self._pages.append(_Page(SONGS, songs, self._song, max(0, self._state.index - 1)))
        elif item == SETLISTS and self._state.transport not in (STOPPED, LOADING):
            self._pages.append(_Page(SETLISTS, ["Stop the song first"], self._back))
        elif item == SETLISTS and self._state.record.running:
            self._pages.append(_Page(SETLISTS, ["Stop recording first"], self._back))
        elif item == SETLISTS:
            paths = self._setlists()
            self._pages.append(_Page(SETLISTS, [p.stem for p in paths],
                                     lambda k: self._finish(c.OpenShow(str(paths[k])))))
        elif item == MIXER:
            self._pages.append(_Page(MIXER, self._mixer_keys(), self._edit))
        elif item == RECORD:
            self._pages.append(_Page(RECORD, self._record_keys(), self._record))
        elif item == LEARN:
            self._pages.append(_Page(LEARN, list(LEARNABLE), self._learn))
        elif item == SETTINGS:
            self._pages.append(_Page(SETTINGS, ["brightness", "version"], self._setting))
        elif item == STATUS:
            self._pages.append(_Page(STATUS, self._status_keys()))
        else:
            self._pages.append(_Page("Shut down?", ["No", "Yes, power off"], self._shutdown))

    def _back(self, i: int) -> None:
        self._pages.pop()

    def _song(self, i: int) -> None:
        self._finish(c.SelectSong(i + 1))

    def _shutdown(self, i: int) -> None:
        if i == 1:
            self._finish(c.Shutdown())
        else:
            self._back(i)

    def _finish(self, cmd: c.Command) -> None:
        self.close()
        self._emit(cmd)

    # -- levels -------------------------------------------------------------------
    def _mixer_keys(self) -> list[str]:
        stems = [m.name for m in self._state.mix if m.name != "click"]
        return ["click"] + [f"out:{o}" for o in self._outputs] + stems

    def _edit(self, i: int) -> None:
        self._editing = self._pages[-1].items[i]

    def _nudge(self, steps: int) -> None:
        key, db = self._editing, steps * self._db
        if key == "brightness":
            self.brightness = max(0, min(100, self.brightness + steps * BRIGHTNESS_STEP))
            self._emit(c.SetBrightness(self.brightness))
        elif key.startswith("out:"):
            self._emit(c.NudgeOutputGain(key[4:], db))
        else:
            self._emit(c.NudgeGain(key, db))

    # -- recording ----------------------------------------------------------------
    def _record_keys(self) -> list[str]:
        r = self._state.record
        return ["follow", "take"] + [f"in:{n}" for n in r.inputs] + \
            (["left"] if r.left_s is not None else [])

    def _record(self, i: int) -> None:
        """Toggles: the page stays open, its labels follow the snapshot."""
        key = self._pages[-1].items[i]
        if key == "follow":
            self._emit(c.RecordArm())
        elif key == "take":
            self._emit(c.Record())
        elif key.startswith("in:"):
            self._emit(c.Arm(key[3:], key[3:] not in self._state.record.armed))

    def _record_label(self, key: str) -> str:
        r = self._state.record
        if key == "follow":
            return f"Rec with play: {'on' if r.follow else 'off'}"
        if key == "take":
            return f"Stop take {clock(r.seconds)}" if r.running else "Record now"
        if key == "left":
            return f"{time_left(r.left_s)} left"
        return f"{key[3:]}: {'armed' if key[3:] in r.armed else 'off'}"

    # -- MIDI learn ---------------------------------------------------------------
    def _learn(self, i: int) -> None:
        name = LEARNABLE[i]
        self._emit(c.LearnMidi(name))
        self._pages.append(_Page(LISTENING, [f"for {name}", "Cancel"],
                                 lambda k: self.apply(c.MenuBack())))

    # -- settings -----------------------------------------------------------------
    def _setting(self, i: int) -> None:
        if self._pages[-1].items[i] == "brightness":
            self._editing = "brightness"

    def _setting_label(self, key: str) -> str:
        if key == "brightness":
            return f"Brightness {self.brightness}%"
        return f"Backline {_version()}"

    # -- status: the counts the performance screen leaves out -----------------------
    def _status_keys(self) -> list[str]:
        rec = ["rec", "dropped"] if self._state.record.inputs else []
        return ["audio", "xruns", "disk", *(f"limited:{o}" for o in self._outputs), "stems",
                *rec]

    def _status_label(self, key: str) -> str:
        s = self._state
        if key.startswith("limited:"):
            return f"Limited {key[8:].upper()} {dict(s.limited).get(key[8:], 0)}"
        return {"audio": f"Audio {s.health}", "xruns": f"Xruns {s.xruns}",
                "disk": f"Disk late {s.disk_underruns}",
                "stems": ("Failed: " + ", ".join(s.failed_stems)) if s.failed_stems
                else "Stems all playing",
                "rec": f"Rec: {s.record.problem or 'ok'}",
                "dropped": f"Rec dropped {s.record.dropped}"}[key]

    def _label(self, page: _Page, i: int) -> str:
        item = page.items[i]
        if page.title == STATUS:
            return self._status_label(item)
        if page.title == RECORD:
            return self._record_label(item)
        if page.title == SETTINGS:
            return self._setting_label(item)
        if page.title == LEARN:
            return f"{item}: {self._trigger(parse_command(item)) or '-'}"
        if page.title != MIXER:
            return item
        if item.startswith("out:"):
            db = dict(self._state.output_gain_db).get(item[4:], 0.0)
            name = item[4:].upper()
        else:
            db = next((m.gain_db for m in self._state.mix if m.name == item), 0.0)
            name = item
        return f"{name} {db:+.0f} dB"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("backline")
    except PackageNotFoundError:
        return "(source)"
