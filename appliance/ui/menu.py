"""The menu: choose a setlist or a song, set levels (each output's mix too), the song's
key and tempo, arm inputs
and record, teach a MIDI pedal any command, pair or unpair the web remote, shut down.

Driven by the panel commands (OpenMenu, MenuMove, MenuSelect, MenuBack) from any
footswitch, encoder, MIDI note or key; what it decides comes out as ordinary
commands through `emit` (SelectSong, NudgeGain, OpenShow, Shutdown ...). It reads
the library and the state snapshot, never the engine. `view()` is what a screen draws.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..vocab import commands as c
from ..vocab.names import every_name, parse_command
from ..vocab.state import KeyTempo, State, TransportState
from .status import clock, level_text, time_left

SONGS, SETLISTS, MIXER, KEY_TEMPO, RECORD, LEARN, REMOTE, SETTINGS, STATUS, SHUTDOWN = (
    "Songs", "Setlists", "Mixer", "Key/Tempo", "Record", "MIDI learn", "Remote", "Settings",
    "Status", "Shut down")
MAIN = (SONGS, SETLISTS, MIXER, KEY_TEMPO, RECORD, LEARN, REMOTE, SETTINGS, STATUS, SHUTDOWN)
PAIR, PAIRING_CODE = "Pair a device", "Pairing code"
KEY_ITEMS = ("key", "tempo", "bpm", "own")    # the Key/Tempo page
LISTENING = "Press a pedal"
BRIGHTNESS_STEP = 10


@dataclass(frozen=True)
class MenuView:
    title: str
    items: tuple[str, ...]
    cursor: int
    editing: bool = False      # turning changes the item's level, not the cursor
    big: str = ""              # drawn large under the title (a pairing code), items below


@dataclass
class _Page:
    title: str
    items: list[str]
    # what selecting item i does; None: nothing
    choose: Callable[[int], None] | None = None
    cursor: int = 0
    keys: Callable[[], list[str]] | None = None   # live items, from the latest snapshot
    output: str = ""           # a Mixer output page: its levels are in this output's mix
    label: Callable[[str], str] | None = None   # how an item reads (None: as it is)
    leave: Callable[[], None] | None = None     # what leaving the page by Back says
    big: Callable[[], str] | None = None        # what the page shows large (MenuView.big)


class Menu:
    def __init__(self, emit: Callable[[c.Command], None], *,
                 songs: Callable[[], list[str]], setlists: Callable[[], list[Path]],
                 outputs: tuple[str, ...], db_per_step: float = 1.0,
                 midi_trigger: Callable[[c.Command], str] | None = None,
                 paired: Callable[[], list[dict]] | None = None,
                 pairing_code: Callable[[], str] = str) -> None:
        """`midi_trigger`: how a command is reached over MIDI now (None: no MIDI in).
        `paired`: the web remote's paired devices (id, created, client) as the daemon
        reads them (None: no Remote page); `pairing_code`: the code NewPairingCode made."""
        self._emit = emit
        self._trigger = midi_trigger
        self._paired = paired
        self._pairing_code = pairing_code
        self._devices: dict[str, dict] = {}     # the Remote page's devices, by token id
        self._songs = songs
        self._setlists = setlists
        self._outputs = outputs
        self._db = db_per_step
        self._pages: list[_Page] = []
        self._editing: str | None = None        # "click", "out:NAME", a stem, "brightness",
                                                # "key", "tempo"
                                                # (in the top page's output mix, if it has one)
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
                         and (m != LEARN or self._trigger) and (m != REMOTE or self._paired)]
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
            else:
                page = self._pages.pop()
                if page.leave:
                    page.leave()

    def close(self) -> None:
        self._pages.clear()
        self._editing = None

    def view(self) -> MenuView | None:
        if not self._pages:
            return None
        page = self._pages[-1]
        if page.keys:                    # the song's stems, the inputs: from the snapshot
            page.items = page.keys()
            page.cursor = max(0, min(page.cursor, len(page.items) - 1))
        items = tuple(self._label(page, i) for i in range(len(page.items)))
        return MenuView(page.title, items, page.cursor, self._editing is not None,
                        page.big() if page.big else "")

    # -- pages ------------------------------------------------------------------
    def _main(self, i: int) -> None:
        item = self._pages[-1].items[i]
        if item == SONGS:
            songs = self._songs()
            self._pages.append(_Page(SONGS, songs, self._song, max(0, self._state.index - 1)))
        elif item == SETLISTS and self._state.transport not in (TransportState.STOPPED, TransportState.LOADING):
            self._pages.append(_Page(SETLISTS, ["Stop the song first"], self._back))
        elif item == SETLISTS and self._state.record.running:
            self._pages.append(_Page(SETLISTS, ["Stop recording first"], self._back))
        elif item == SETLISTS:
            paths = self._setlists()
            self._pages.append(_Page(SETLISTS, [p.stem for p in paths],
                                     lambda k: self._finish(c.OpenShow(str(paths[k])))))
        elif item == MIXER:
            self._pages.append(_Page(MIXER, self._mixer_keys(), self._mixer,
                                     keys=self._mixer_keys,
                                     label=lambda key: self._mixer_label(key, "")))
        elif item == KEY_TEMPO:
            self._pages.append(_Page(KEY_TEMPO, self._key_items(), self._key_tempo,
                                     keys=self._key_items, label=self._key_label))
        elif item == RECORD:
            self._pages.append(_Page(RECORD, self._record_keys(), self._record,
                                     keys=self._record_keys, label=self._record_label))
        elif item == LEARN:
            self._pages.append(_Page(LEARN, self._learn_keys(), self._learn,
                                     keys=self._learn_keys, label=self._learn_label))
        elif item == REMOTE:
            self._pages.append(_Page(REMOTE, self._remote_keys(), self._remote,
                                     keys=self._remote_keys, label=self._remote_label))
        elif item == SETTINGS:
            self._pages.append(_Page(SETTINGS, ["brightness", "version"], self._setting,
                                     label=self._setting_label))
        elif item == STATUS:
            self._pages.append(_Page(STATUS, self._status_keys(), keys=self._status_keys,
                                     label=self._status_label))
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
    def _stems(self) -> list[str]:
        return [m.name for m in self._state.mix if m.name != "click"]

    def _mixer_keys(self) -> list[str]:
        """The click and the stems as every output hears them; an output's own page."""
        return ["click"] + [f"mix:{o}" for o in self._outputs] + self._stems()

    def _output_keys(self, output: str) -> list[str]:
        """An output's page: its master, then the click and each stem in its mix."""
        return [f"out:{output}", "click"] + self._stems()

    def _mixer(self, i: int) -> None:
        key = self._pages[-1].items[i]
        if key.startswith("mix:"):
            output = key[4:]
            self._pages.append(_Page(f"{MIXER} > {output}", self._output_keys(output),
                                     self._edit, keys=lambda: self._output_keys(output),
                                     output=output,
                                     label=lambda key: self._mixer_label(key, output)))
        else:
            self._edit(i)

    def _edit(self, i: int) -> None:
        self._editing = self._pages[-1].items[i]

    def _nudge(self, steps: int) -> None:
        key, db = self._editing, steps * self._db
        if key == "key":
            self._emit(c.NudgeKey(steps))
        elif key == "tempo":
            self._emit(c.NudgeTempo(steps))
        elif key == "brightness":
            self.brightness = max(0, min(100, self.brightness + steps * BRIGHTNESS_STEP))
            self._emit(c.SetBrightness(self.brightness))
        elif key.startswith("out:"):
            self._emit(c.NudgeOutputGain(key[4:], db))
        else:
            self._emit(c.NudgeGain(key, db, self._pages[-1].output))

    def _mixer_label(self, key: str, output: str) -> str:
        if key.startswith("mix:"):
            return f"{key[4:].upper()} >"
        if key.startswith("out:"):
            return f"{key[4:].upper()} {dict(self._state.output_gain_db).get(key[4:], 0.0):+.0f} dB"
        level = next((m for m in self._state.mix if m.name == key), None)
        if level is None:
            db = 0.0
        elif output:
            db = dict(level.sends).get(output, 0.0)
        else:
            db = level.gain_db
        return f"{key} {db:+.0f} dB"

    # -- key and tempo: the selected song's, switched at the next stop ---------------
    def _key_items(self) -> list[str]:
        """Key and tempo to turn; the BPM they make; back to the recording when changed;
        how the preparation goes while the wanted one is not playing yet."""
        k = self._state.key_tempo
        return ["key", "tempo"] + (["own"] if k.wanted_transpose or k.wanted_tempo != 1
                                   else []) + (["status"] if k.switching else [])

    def _key_tempo(self, i: int) -> None:
        key = self._pages[-1].items[i]
        if key in ("key", "tempo"):
            self._editing = key
        elif key == "own":
            self._emit(c.SetKey(0))
            self._emit(c.SetTempo(100))

    def _key_label(self, key: str) -> str:
        k = self._state.key_tempo
        if key == "key":
            return f"Key {k.wanted_transpose:+g}" if k.wanted_transpose else "Key 0"
        if key == "tempo":
            bpm = f" ({k.bpm * k.wanted_tempo:.0f} BPM)" if k.bpm else ""
            return f"Tempo {k.wanted_tempo * 100:.0f}%{bpm}"
        if key == "own":
            return "As recorded"
        return key_status(k)

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
    def _learn_keys(self) -> list[str]:
        """Every command by name, with the playing song's sections and stems."""
        s = self._state
        return list(every_name(sections=s.sections, stems=tuple(self._stems()), songs=s.count,
                               inputs=s.record.inputs))

    def _learn(self, i: int) -> None:
        name = self._pages[-1].items[i]
        self._emit(c.LearnMidi(name))
        self._pages.append(_Page(LISTENING, [f"for {name}", "Cancel"],
                                 lambda k: self.apply(c.MenuBack()),
                                 leave=lambda: self._emit(c.LearnMidi(""))))

    def _learn_label(self, name: str) -> str:
        return f"{name}: {self._trigger(parse_command(name)) or '-'}"

    # -- the web remote: pair a device, unpair one -----------------------------------
    def _remote_keys(self) -> list[str]:
        """"pair", then each paired device by its token id (read again at each redraw:
        `backline remote revoke` may have changed them)."""
        self._devices = {str(t["id"]): t for t in self._paired() if t.get("id")}
        return ["pair"] + [f"tok:{ident}" for ident in self._devices]

    def _remote(self, i: int) -> None:
        key = self._pages[-1].items[i]
        if key == "pair":
            self._emit(c.NewPairingCode())
            self._pages.append(_Page(PAIRING_CODE, ["valid 10 minutes, once"], self._back,
                                     big=self._pairing_code))
        else:
            ident = key[4:]
            self._pages.append(_Page(f"Revoke {ident}?", ["No", "Yes, revoke"],
                                     lambda k: self._revoke(k, ident)))

    def _revoke(self, i: int, ident: str) -> None:
        if i == 1:
            self._emit(c.RevokeRemote(ident))
        self._back(i)

    def _remote_label(self, key: str) -> str:
        if key == "pair":
            return PAIR
        t = self._devices.get(key[4:], {})
        return f"{key[4:]} {_when(t.get('created'))} {t.get('client') or ''}".rstrip()

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
                "loudness", *rec]

    def _status_label(self, key: str) -> str:
        s = self._state
        if key.startswith("limited:"):
            return f"Limited {key[8:].upper()} {dict(s.limited).get(key[8:], 0)}"
        return {"audio": f"Audio {s.health}", "xruns": f"Xruns {s.xruns}",
                "disk": f"Disk late {s.disk_underruns}",
                "stems": ("Failed: " + ", ".join(s.failed_stems)) if s.failed_stems
                else "Stems all playing",
                "loudness": "Level " + (level_text(s.loudness) or s.loudness.note or "-"),
                "rec": f"Rec: {s.record.problem or 'ok'}",
                "dropped": f"Rec dropped {s.record.dropped}"}[key]

    @staticmethod
    def _label(page: _Page, i: int) -> str:
        item = page.items[i]
        return page.label(item) if page.label else item


def key_status(k: KeyTempo) -> str:
    """How the switch to the wanted key/tempo goes: "preparing 40 %", a problem, or
    "at the next stop"."""
    if k.problem:
        return k.problem
    if k.preparing is not None and k.preparing < 1:
        return f"preparing {k.preparing * 100:.0f} %"
    return "at the next stop"


def _when(created: object) -> str:
    """When a device was paired, "12-02 16:05"; "?" for what a hand-edited file may hold
    (text, NaN, inf, a year past 9999)."""
    if isinstance(created, bool) or not isinstance(created, (int, float)):
        return "?"
    try:
        return time.strftime("%m-%d %H:%M", time.localtime(created))
    except (ValueError, OverflowError, OSError):
        return "?"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("backline")
    except PackageNotFoundError:
        return "(source)"
