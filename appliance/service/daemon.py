"""`backline run`: the appliance's daemon.

Plays what it was playing before (or the library's first setlist, or first song, that
can be played; with none it idles saying "no songs": start-up always reaches READY),
tells systemd when the audio is running, proves the audio thread is alive with
watchdog pings (none once it has faulted: systemd then restarts the unit), keeps
`systemctl status` readable, saves where it is, and on SIGTERM fades out and exits
within two seconds. SIGHUP reloads the config and the library: at once when stopped,
else when the playing song stops (a reload never cuts a song). One daemon per state
folder: a second one says who holds it and exits 2, before it opens the audio device.
"""
from __future__ import annotations

import dataclasses
import signal
import threading
import time
from pathlib import Path
from typing import Callable

from ..audio.engine import Fault
from ..audio.player import Player
from ..audio.record.takes import recover
from ..audio.threads.priority import BOX, realtime
from ..config import Config
from ..lifetime import Lifetime
from ..vocab import commands as c
from ..vocab.state import Health, State, TransportState
from .front import FrontPanel
from .lock import InUse, hold_state_folder
from .logs import log
from .memory import lock_memory
from .midi_wiring import keep_learned, start_clock
from .notify import Notifier
from .place import resume_point, save_place
from .reload import busy, read_config
from .remote_pairing import DEFAULT_STATE, RemotePairing
from .resume import Resume
from .startup import choose_targets, load_saved, open_first, open_player, restore
from .status import journal_fields, log_fault, status_text
from .sync_status import show_sync
from .wakeup import Wakeup

READY_WAIT_S = 10.0      # for the first period to reach the device before READY anyway
TICK_S = 0.25            # how often the service loop looks at the engine
STOP_WAIT_S = 10.0       # stop(): a loader may still be priming a song on a loaded machine
STOP_FADE_S = 0.5        # SIGTERM: the fade-out gets this long before the device closes


class Daemon(Lifetime):
    """`with Daemon(...) as d:` does not run it (`run()` is the service loop: the CLI calls
    it in the main thread, for the signals); leaving the block is `stop()`."""

    def __init__(self, config: Config, *, state_path: Path, target: Path | None = None,
                 device: str | None = None, notifier: Notifier | None = None,
                 pin_factory=None, display=None,
                 power_off: Callable[[], None] | None = None,
                 reload: Callable[[], Config] | None = None,
                 socket_path: Path | None = None,
                 pairing_folder: Path = Path(DEFAULT_STATE)) -> None:
        """`reload`: reads the config again for SIGHUP (raises BacklineError when broken);
        `socket_path`: the control socket's (docs/remote.md), None for none; with it, the
        menu pairs the web remote through `pairing_folder` (its server's state folder)."""
        self.config = config
        self.state_path = Path(state_path)
        self.target = target
        self.device = device
        self.notifier = notifier or Notifier()
        self.player: Player | None = None
        self.front: FrontPanel | None = None
        self.midi = None
        self.clock = None
        self.remote = None
        self._socket_path = socket_path
        self.pairing = RemotePairing(pairing_folder) if socket_path is not None else None
        self._pin_factory = pin_factory
        self._display = display
        self._power_off = power_off
        self._shutdown_asked = False
        self._wanted_show: Path | None = None    # asked from the menu; opened by the service loop
        self._target = ""
        self.wakeup = Wakeup()
        self._stopping = False
        self._reload = reload
        self._new_config: Config | None = None   # read on SIGHUP, applied when stopped
        self._down = False
        self._serving = threading.Lock()         # held while run() runs

    def request_stop(self) -> None:
        """Any thread (not a signal handler: `install_signals` is for those)."""
        self.wakeup.poke(signal.SIGTERM)

    def request_reload(self) -> None:
        """As SIGHUP: the config and the library read again."""
        self.wakeup.poke(signal.SIGHUP)

    def stop(self) -> None:
        """From another thread than run()'s: asks it to stop and waits until it has returned
        (the show faded out, the state saved, the device let go), at most STOP_WAIT_S; a
        player a failing run() left is stopped too. A run() asked before it began stops as
        soon as it is serving."""
        self.request_stop()
        if not self._serving.acquire(timeout=STOP_WAIT_S):
            raise TimeoutError(f"the daemon did not stop within {STOP_WAIT_S:g} s")
        self._serving.release()
        if self.player is not None:
            self.player.stop()

    def run(self) -> int:
        """The exit code: 0 stopped, 1 nothing to play, 2 another daemon has the state."""
        with self._serving:
            return self._run_locked()

    def _run_locked(self) -> int:
        try:
            lock = hold_state_folder(self.state_path)
        except InUse as exc:
            log.error("%s", exc)
            return 2
        except OSError as exc:                       # a read-only disk: play anyway
            log.warning("%s: no lock on the state folder: %s", self.state_path, exc)
            lock = None
        try:
            return self._run()
        finally:
            self.wakeup.uninstall()
            if lock is not None:
                lock.close()

    def _run(self) -> int:
        for p in self.config.warnings:             # parts of the config left out, and why
            log.warning("%s", p)
        resume = load_saved(self.state_path)
        if self.config.recordings.is_dir():       # takes a power cut left: repaired first
            for line in recover(self.config.recordings):
                log.warning("%s", line)
        player, target = open_first(self.target, resume, self.config, self.device)
        if not target or not resume.target or \
                Path(target).resolve() != Path(resume.target).resolve():
            resume = dataclasses.replace(resume, index=1)   # the saved place was elsewhere
        self.player = player
        restore(player, self.config, resume)
        box = realtime(BOX)           # this thread and every one started from here on
        player.start()
        self.front = FrontPanel(self.config, send=lambda cmd: self.player.send(cmd),
                                box=self._box, state=lambda: self.player.state,
                                songs=lambda: [e.name for e in self.player.bank.show.entries],
                                pin_factory=self._pin_factory, display=self._display,
                                midi_trigger=(lambda cmd: self.midi.map.trigger_of(cmd)
                                              if self.midi else "")
                                if self.config.midi.inputs else None,
                                pairing=self.pairing)
        if self.config.midi.inputs or self.config.midi.outputs:
            from ..control.midi import MidiPorts
            self.midi = MidiPorts(self.config.midi, send=lambda cmd: self.player.send(cmd),
                                  on_learned=self._learned)
            self.midi.start()
            self._start_clock()
        if self._socket_path is not None:
            from ..control.remote import RemoteServer
            self.remote = RemoteServer.open(self._socket_path, send=lambda cmd: self.player.send(cmd),
                                            state=lambda: self.player.state,
                                            config=lambda: self.config, box=self._box,
                                            busy=lambda: busy(self.player.state))
        self._wait_for_audio()
        s = player.state
        log.info("ready: %s", status_text(s), extra=journal_fields(s))
        log.info("audio thread: %s; the box's other threads: %s", player.engine.realtime, box)
        locked = lock_memory()
        (log.info if locked.startswith("memory locked") else log.warning)("%s", locked)
        self.notifier.ready(status_text(s))
        self._serve(target)
        return 0

    def _start_clock(self) -> None:
        """MIDI clock out for the player now playing (again after a new setlist)."""
        if self.clock is not None:
            self.clock.close()
        self.clock = start_clock(self.config, self.midi, self.player)

    def _box(self, cmd: c.Command) -> None:
        """What the panel asks of the box itself, not of the engine."""
        if isinstance(cmd, c.Shutdown):
            log.warning("shutting down: asked from the panel")
            self._shutdown_asked = True
            self.request_stop()
        elif isinstance(cmd, c.OpenShow):
            self._wanted_show = Path(cmd.path)
        elif isinstance(cmd, c.LearnMidi) and self.midi is not None:
            self.midi.learning = cmd.command
        elif isinstance(cmd, c.SetBrightness) and self.front and self.front.display:
            self.front.display.wanted_brightness = cmd.percent
        elif isinstance(cmd, (c.NewPairingCode, c.RevokeRemote)) and self.pairing is not None:
            self.pairing.apply(cmd)

    def _learned(self, rule, command_text: str) -> None:
        """A pedal learned from the menu: kept (`keep_learned`), the menu back a page."""
        keep_learned(self.config.learned, rule, command_text)
        if self.front is not None:
            self.front.panel.command(c.MenuBack())

    def _wait_for_audio(self) -> None:
        engine = self.player.engine
        deadline = time.monotonic() + READY_WAIT_S
        while engine.periods == 0 and time.monotonic() < deadline and not self._stopping:
            self._listen(0.01)
        if engine.periods == 0:
            log.error("no audio yet: %s; ready anyway, retrying the device",
                      self.player.state.problem)

    def _open_show(self, path: Path, index: int = 1) -> bool:
        """Another setlist (or song), chosen from the menu, or the same one again after a
        reload, at song `index`: only while stopped, so nothing that sounds is cut. The
        new one is loaded before the old lets go of the device; one that cannot be opened
        leaves the old in place (False)."""
        player = self.player
        why = busy(player.state)
        if why:
            log.warning("%s: not opened; %s", path, why)
            return False
        new = open_player(path, self.config, self.device)
        if new is None:
            log.error("%s: not opened; %s stays", path, self._target)
            return False
        levels = resume_point(player, self._target, player.state)     # the mix carries over
        player.stop()
        self.player = new
        restore(new, self.config, dataclasses.replace(levels, target=str(path), index=index))
        new.start()
        self._start_clock()
        self._target = str(path)
        log.info("opened %s", path)
        return True

    def _listen(self, timeout: float) -> None:
        """Wait up to `timeout` for signals (or requests) and take them in: a stop wins
        over a reload, and a burst of reloads reads the config once."""
        got = self.wakeup.wait(timeout)
        if signal.SIGTERM in got or signal.SIGINT in got:
            self._stopping = True
        elif signal.SIGHUP in got:
            self._read_config()

    def _read_config(self) -> None:
        """SIGHUP: the config read again now, applied when the song stops."""
        new = read_config(self._reload)
        if new is None:
            return
        self._new_config = new
        if busy(self.player.state):
            log.info("reload: the config and the library are read again when the song stops")

    def _apply_reload(self) -> None:
        """A config read on SIGHUP: the show opened again with it and the library as it is
        now (at the same song), once nothing plays; a show that cannot be opened keeps the
        old config."""
        if self._new_config is None or busy(self.player.state):
            return
        old, self.config, self._new_config = self.config, self._new_config, None
        target = Path(self._target)
        index = self.player.state.index
        if not target.exists():               # gone from the library: as a restart would
            target = next(iter(choose_targets(None, Resume(), self.config.library)), target)
            index = 1
        if self._open_show(target, index):
            log.info("reload: config and library read again")
        else:
            self.config = old
            log.error("reload: the show could not be opened again; the running config stays")

    def _serve(self, target: str) -> None:
        self._target = target
        beat = self.player.engine.heartbeat
        tick = min(TICK_S, self.notifier.watchdog_s or TICK_S)
        saved: Resume | None = None
        last: tuple = ()
        logged: Fault | None = None
        while True:
            self._listen(tick)
            if self._stopping:
                break
            wanted, self._wanted_show = self._wanted_show, None
            if wanted is not None:
                self._open_show(wanted)
            self._apply_reload()
            engine = self.player.engine
            s = self.player.state
            if engine.heartbeat != beat and engine.fault is None:   # alive and sound: say so
                beat = engine.heartbeat
                self.notifier.watchdog()
            self.notifier.status(status_text(s))
            show_sync(self.config.library, self.front)
            now = (s.transport, s.song_name, s.health, s.problem, s.refusals, s.record.running,
                   s.record.problem)
            if s.health == Health.FAULTED and engine.fault is not logged:
                logged = engine.fault
                log_fault(logged, s)
                last = now
            elif now != last:
                level = log.warning if s.problem or s.rejected else log.info
                level("%s%s", status_text(s), f" ({s.rejected})" if s.rejected else "",
                      extra=journal_fields(s))
                last = now
            saved = self._save(self._target, s, saved)
        self._shutdown(self._target)

    def _save(self, target: str, s: State, saved: Resume | None) -> Resume:
        return save_place(self.state_path, resume_point(self.player, target, s), saved)

    def _shutdown(self, target: str) -> None:
        """Idempotent: a second call does nothing."""
        if self._down:
            return
        self._down = True
        player = self.player
        self.notifier.stopping()
        player.send(c.Stop())
        deadline = time.monotonic() + STOP_FADE_S
        while player.state.transport not in (TransportState.STOPPED, TransportState.LOADING) and time.monotonic() < deadline:
            time.sleep(0.01)
        self._save(target, player.state, None)
        if self.remote is not None:
            self.remote.close()
        if self.front is not None:
            self.front.close()
        if self.clock is not None:
            self.clock.close()
        if self.midi is not None:
            self.midi.close()
        player.stop()
        log.info("stopped")
        if self._shutdown_asked and self._power_off is not None:
            self._power_off()


def install_signals(daemon: Daemon) -> None:
    """From the main thread: TERM and INT stop the daemon, HUP reloads it; the handlers
    only write a byte (see wakeup.py)."""
    daemon.wakeup.install()
