"""`backline run` under a fake systemd: a datagram socket as NOTIFY_SOCKET, JACK's dummy
backend as the sound card."""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from appliance.config import Config
from appliance.errors import Problems
from appliance.service.daemon import Daemon
from appliance.service.notify import Notifier
from appliance.service.resume import Resume, load_resume, save_resume
from appliance.vocab import commands as c
from appliance.vocab.state import Health

from alsa_doubles import Jack, jack_pcm, use_config
from conftest import make_song, wait_for
from transport_rig import CONFIG, position_song


class FakeSystemd:
    """The notify socket, read all the time as systemd does (a full datagram queue would
    block the daemon's sd_notify)."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.05)
        self.messages: list[str] = []
        self._open = True
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while self._open:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except (socket.timeout, OSError):
                pass

    def collect(self, seconds: float) -> list[str]:
        """The messages that arrive in the next `seconds`."""
        start = len(self.messages)
        time.sleep(seconds)
        return self.messages[start:]

    def wait_for(self, text: str, seconds: float = 15) -> bool:
        return wait_for(lambda: any(text in m for m in self.messages), seconds)

    def close(self) -> None:
        self._open = False
        self._reader.join(1)
        self.sock.close()


@pytest.fixture
def jack(tmp_path, monkeypatch):
    use_config(monkeypatch, tmp_path, jack_pcm("jackhat", 2))
    with Jack(period=256, channels=2) as j:
        yield j


@pytest.fixture
def systemd(tmp_path, monkeypatch):
    fake = FakeSystemd(tmp_path / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield fake
    fake.close()


def _config_file(tmp_path: Path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[audio]\ndevice = "jackhat"\nformat = "FLOAT_LE"\n'
                   f'[outputs]\nfoh = [1]\nclick = [2]\n'
                   f'[library]\npath = "{tmp_path / "lib"}"\ncache = "{tmp_path / "cache"}"\n')
    return cfg


def test_ready_status_watchdog_and_a_clean_stop(library, tmp_path, jack, systemd):
    position_song(library, "song", bars=4)
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "run", "--config",
                             str(_config_file(tmp_path)), "--state", str(tmp_path / "st.json")],
                            stderr=subprocess.PIPE, text=True, env=os.environ)
    try:
        assert systemd.wait_for("READY=1")
        ready = next(m for m in systemd.messages if "READY=1" in m)
        assert "STATUS=stopped: song, A (healthy)" in ready
        pings = sum("WATCHDOG=1" in m for m in systemd.collect(1.0))
        assert pings >= 3                          # at least every 200 ms
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
        assert time.monotonic() - t0 < 2.0
        assert systemd.wait_for("STOPPING=1", 1)
    finally:
        proc.kill()
    assert "ready: stopped: song, A (healthy)" in proc.stderr.read()


def _daemon(tmp_path: Path, target: Path, **overrides) -> tuple[Daemon, threading.Thread]:
    config = Config(cache=tmp_path / "cache", device="jackhat", library=tmp_path / "lib",
                    **{**CONFIG, "format": "FLOAT_LE", **overrides})
    d = Daemon(config, state_path=tmp_path / "st.json", target=target)
    t = threading.Thread(target=d.run)
    t.start()
    return d, t




def test_a_hung_audio_thread_stops_the_watchdog_pings(library, tmp_path, jack, systemd):
    song = position_song(library, "song", bars=4)
    d, _ = _daemon(tmp_path, song)
    with d:
        assert systemd.wait_for("READY=1")
        assert sum("WATCHDOG=1" in m for m in systemd.collect(0.6)) >= 2
        hang = threading.Event()
        d.player.transport.render = lambda *args: hang.wait()   # the audio thread hangs
        systemd.collect(0.4)                  # what was sent before the hang
        beat = d.player.engine.heartbeat
        systemd.messages.clear()
        got = systemd.collect(1.0)
        assert d.player.engine.heartbeat == beat, "the audio thread did not hang"
        assert not any("WATCHDOG=1" in m for m in got)
        hang.set()
        d.player.transport.render = type(d.player.transport).render.__get__(d.player.transport)
        assert systemd.wait_for("WATCHDOG=1", 2)                # alive again: pings again


class Records(logging.Handler):
    """What the daemon logs, with its journal fields (SONG, FRAME ...) as record attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_fault_in_the_audio_thread_is_logged_once_and_stops_the_pings(
        library, tmp_path, jack, systemd, monkeypatch):
    for name in ("one", "two", "three"):
        position_song(library, name, bars=4)
    (library / "setlists" / "gig.setlist").write_text("one\ntwo\nthree\n")
    logged = Records()
    logging.getLogger("backline").addHandler(logged)
    d, _ = _daemon(tmp_path, None)
    try:
        with d:
            assert systemd.wait_for("READY=1")
            d.player.send(c.NextSong())
            d.player.send(c.Play())
            assert wait_for(lambda: d.player.state.frame > 4800)
            assert wait_for(lambda: load_resume(tmp_path / "st.json", Problems()).index == 2)

            def broken(*args) -> None:
                raise ZeroDivisionError("injected")
            monkeypatch.setattr(d.player.transport, "render", broken)
            assert wait_for(lambda: d.player.state.health == Health.FAULTED)
            assert systemd.wait_for("audio fault: ZeroDivisionError: injected", 2)   # STATUS=
            assert "(faulted" in next(m for m in systemd.messages if "audio fault" in m)
            systemd.collect(0.3)                  # what was sent before the service loop saw it
            beat = d.player.engine.heartbeat
            got = systemd.collect(1.0)
            assert d.player.engine.heartbeat > beat        # alive, playing silence ...
            assert not any("WATCHDOG=1" in m for m in got)  # ... but no pings: systemd restarts
            fault = d.player.engine.fault
            faults = [r for r in logged.records if "audio fault" in r.getMessage()]
            assert len(faults) == 1 and faults[0].levelno == logging.ERROR
            assert (faults[0].SONG, faults[0].FRAME) == ("two", fault.frame) and fault.frame > 4800
            assert "ZeroDivisionError: injected" in faults[0].getMessage()
            assert load_resume(tmp_path / "st.json", Problems()).index == 2   # where it comes back
    finally:
        logging.getLogger("backline").removeHandler(logged)
    d._shutdown(d._target)                    # a second shutdown does nothing more
    systemd.collect(0.2)
    assert sum("STOPPING=1" in m for m in systemd.messages) == 1


def test_restart_resumes_at_the_same_setlist_position(library, tmp_path, jack, systemd):
    for name in ("one", "two", "three"):
        position_song(library, name, bars=1)
    setlist = library / "setlists" / "gig.setlist"
    setlist.write_text("one\ntwo\nthree\n")
    d, _ = _daemon(tmp_path, None)
    with d:
        assert systemd.wait_for("READY=1")
        d.player.send(c.NextSong())
        d.player.send(c.SetOutputGain("foh", -4.0))
        assert wait_for(lambda: load_resume(tmp_path / "st.json", Problems()).index == 2)
        assert wait_for(lambda: load_resume(tmp_path / "st.json", Problems()).output_gain_db
                     .get("foh") == -4.0)
        d.player.stop()           # a crash: no orderly shutdown, the process is just gone
    d2, _ = _daemon(tmp_path, None)
    with d2:
        assert wait_for(lambda: d2.player is not None and d2.player.state.index == 2
                     and d2.player.state.song_name == "two"
                     and d2.player.state.transport == "stopped")
        s = d2.player.state
        assert s.transport == "stopped" and dict(s.output_gain_db)["foh"] == -4.0


def test_a_corrupt_state_file_is_set_aside(tmp_path):
    path = tmp_path / "st.json"
    path.write_text('{"target": "x",\n "index": 2,\n oops}\n')
    problems = Problems()
    assert load_resume(path, problems) == Resume()
    assert str(problems[0]).startswith(f"{path}: warning: line 3: saved state is corrupt")
    assert (tmp_path / "st.json.corrupt").exists() and not path.exists()


def test_state_is_written_atomically(tmp_path):
    path = tmp_path / "deep" / "st.json"
    save_resume(path, Resume(target="/x", index=3, output_gain_db={"foh": -2.0}))
    assert json.loads(path.read_text())["index"] == 3
    assert [p.name for p in path.parent.iterdir()] == ["st.json"]


def test_notifier_is_silent_without_systemd(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    n = Notifier()
    assert not n.enabled and n.watchdog_s == 0.5
    n.ready("x")                  # no socket: nothing happens, nothing raised


def test_the_unit_file_exposure_is_at_most_two():
    out = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                          str(Path(__file__).parent.parent / "systemd" / "backline.service")],
                         capture_output=True, text=True)
    line = [ln for ln in out.stdout.splitlines() if "Overall exposure level" in ln][0]
    exposure = float(line.split(":")[1].split()[0])
    assert exposure <= 2.0, line


@pytest.mark.parametrize("config, message", [
    ("[audio\n", "config.toml: line 1: TOML syntax:"),
    ("[audio]\nrate = 12345\n", "config.toml: audio.rate: must be one of"),
])
def test_a_bad_config_is_one_clear_line_and_exit_1(tmp_path, config, message):
    cfg = tmp_path / "config.toml"
    cfg.write_text(config)
    r = subprocess.run([sys.executable, "-m", "appliance", "run", "--config", str(cfg),
                        "--state", str(tmp_path / "st.json")], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1
    assert message in r.stderr and "Traceback" not in r.stderr


def test_an_empty_library_is_reported_and_the_box_idles(tmp_path, jack, systemd):
    cfg = _config_file(tmp_path)
    cfg.write_text(cfg.read_text().replace(str(tmp_path / "lib"), str(tmp_path / "nowhere")))
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "run", "--config", str(cfg),
                             "--state", str(tmp_path / "st.json")], stderr=subprocess.PIPE,
                            text=True, env=os.environ)
    try:
        assert systemd.wait_for("READY=1")
        assert "no songs" in next(m for m in systemd.messages if "READY=1" in m)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
    finally:
        proc.kill()
    assert (f"{tmp_path / 'nowhere'}: the library folder does not exist; idle with no songs"
            in proc.stderr.read())


def test_footswitches_play_the_daemon_and_a_missing_display_is_left_out(
        library, tmp_path, jack, systemd, caplog):
    from gpiozero.pins.mock import MockFactory
    from appliance.config import load_config

    for name in ("one", "two"):
        position_song(library, name, bars=1)
    (library / "setlists" / "gig.setlist").write_text("one\ntwo\n")
    cfg = _config_file(tmp_path)
    cfg.write_text(cfg.read_text() + '[display]\ntype = "sh1106"\nport = 7\n'
                   '[[switch]]\npin = 17\nperform = { press = "next-song" }\n'
                   '[[led]]\npin = 12\nshows = "alert"\n')
    factory = MockFactory()
    powered_off = []
    d = Daemon(load_config(cfg), state_path=tmp_path / "st.json", pin_factory=factory,
               power_off=lambda: powered_off.append(True))
    t = threading.Thread(target=d.run)
    t.start()
    try:
        with d:
            assert systemd.wait_for("READY=1")
            assert "sh1106 at I2C address 0x3c on bus 7 is not answering" in caplog.text
            factory.pin(17).drive_low()
            assert wait_for(lambda: d.player.state.index == 2)
            factory.pin(17).drive_high()
            # healthy: the alert LED is dark (an xrun under load lights it for CALM_S, then not)
            assert wait_for(lambda: factory.pin(12).state == 0)
            d.front.panel.command(c.Shutdown())             # the menu's "Yes, power off"
            t.join(5)
            assert not t.is_alive() and powered_off == [True]
    finally:
        factory.reset()


def test_a_setlist_chosen_from_the_menu_replaces_the_show_while_stopped(
        library, tmp_path, jack, systemd, caplog):
    for name in ("one", "two", "three"):
        position_song(library, name, bars=8)
    (library / "setlists" / "a.setlist").write_text("one\ntwo\n")
    (library / "setlists" / "b.setlist").write_text("three\n")
    d, _ = _daemon(tmp_path, library / "setlists" / "a.setlist")
    with d:
        assert systemd.wait_for("READY=1")
        panel = d.front.panel
        first = d.player
        first.send(c.SetGain("click", -9.0))

        def choose_b() -> None:          # Menu > Setlists > b
            for cmd in (c.OpenMenu(), c.MenuMove(1), c.MenuSelect(), c.MenuMove(1),
                        c.MenuSelect()):
                panel.command(cmd)

        first.send(c.Play())
        assert wait_for(lambda: first.state.transport == "playing")
        choose_b()
        assert wait_for(lambda: "b.setlist: not opened; stop the song first" in caplog.text)
        assert d.player is first and first.state.transport == "playing"
        first.send(c.Stop())
        assert wait_for(lambda: first.state.transport == "stopped")
        panel.command(c.OpenShow(str(tmp_path / "gone.setlist")))     # a stale menu entry
        assert wait_for(lambda: "gone.setlist: not opened; " in caplog.text)
        assert "a.setlist stays" in caplog.text and d.player is first
        choose_b()
        assert wait_for(lambda: d.player is not first)
        assert wait_for(lambda: d.player.state.count == 1 and d.player.engine.periods > 0)
        assert d.player.transport.click_db == -9.0          # the mix carries over
        assert not first.engine.running                     # the old one let go of the device
        assert wait_for(lambda: "b.setlist" in (tmp_path / "st.json").read_text())


def test_unfinished_takes_are_repaired_at_start_and_armed_inputs_come_back(
        library, tmp_path, jack, systemd, caplog):
    import numpy as np
    import soundfile as sf
    from appliance.audio.record.takes import write_take_toml
    from appliance.audio.record.wavfile import TakeFile

    position_song(library, "one", bars=1)
    rec = tmp_path / "rec"
    take = rec / "2026-11-25-one-take1"
    take.mkdir(parents=True)
    f = TakeFile(take / "vox.wav", rate=48000)
    f.write(np.full(48000, 0.25, np.float32))
    f.sync()
    f.write(np.full(24000, 0.25, np.float32))       # after the last sync: the power went
    write_take_toml(take, {"rate": 48000, "inputs": [{"name": "vox", "file": "vox.wav"}],
                           "complete": False})
    inputs = dict(inputs={"vox": 1, "gtr": 2}, input_channels=2, recordings=rec)
    d, _ = _daemon(tmp_path, library / "songs" / "one", **inputs)
    with d:
        assert systemd.wait_for("READY=1")
        assert "2026-11-25-one-take1: recovered 1 files, 1.5 s" in caplog.text
        assert sf.info(str(take / "vox.wav")).frames == 72000
        assert d.player.state.record.armed == ("vox", "gtr")     # all, at first
        d.player.send(c.Arm("gtr", False))
        d.player.send(c.RecordArm(True))
        assert wait_for(lambda: load_resume(tmp_path / "st.json", Problems()).armed == ("vox",))
    d2, _ = _daemon(tmp_path, None, **inputs)
    with d2:
        assert wait_for(lambda: d2.player is not None and d2.player.engine.periods > 0)
        assert wait_for(lambda: d2.player.state.record.armed == ("vox",))
        assert d2.player.state.record.follow


def _priorities(service: threading.Thread) -> dict[str, set[int]]:
    """SCHED_FIFO priorities of the box's threads (0: an ordinary thread), by name
    without the disk threads' numbers; "service": the thread that ran the daemon."""
    def fifo(t: threading.Thread) -> int:
        if os.sched_getscheduler(t.native_id) != os.SCHED_FIFO:
            return 0
        return os.sched_getparam(t.native_id).sched_priority
    found: dict[str, set[int]] = {"service": {fifo(service)}}
    for t in threading.enumerate():
        if t.name.startswith("backline-"):
            found.setdefault(t.name.rstrip("0123456789"), set()).add(fifo(t))
    return found


def test_midi_in_picks_songs_and_plays_and_midi_out_clocks_in_time(
        library, tmp_path, jack, systemd, monkeypatch):
    import midi_backend
    from appliance.config.midi_map import MidiRule, MidiSpec
    from appliance.vocab.names import parse_command

    for name in ("one", "two"):
        position_song(library, name, bars=4)
    (library / "setlists" / "gig.setlist").write_text("one\ntwo\n")
    monkeypatch.setenv("MIDO_BACKEND", "midi_backend")
    midi_backend.reset()
    mc6, lights = midi_backend.plug("MC6 Pro"), midi_backend.plug("Lights USB")
    spec = MidiSpec(inputs=("mc6",), outputs=("lights",),
                    rules=(MidiRule("note", 60, command=parse_command("toggle-play")),))
    d, t = _daemon(tmp_path, library / "setlists" / "gig.setlist", midi=spec)
    try:
        with d:
            assert systemd.wait_for("READY=1")
            assert wait_for(lambda: "MC6 Pro" in d.midi.inputs and "Lights USB" in d.midi.outputs)
            mc6.feed(bytes([0xC0, 1]))                       # program 1: the second song
            assert wait_for(lambda: d.player.state.song_name == "two")
            mc6.feed(bytes([0x90, 60, 100]))
            assert wait_for(lambda: sum(m.type == "clock" for _, m in lights.sent) > 100)
            if d.player.engine.realtime.startswith("SCHED_FIFO"):  # root, or LimitRTPRIO
                assert _priorities(t) == {"backline-audio": {70}, "backline-disk": {60},
                                          "backline-loader": {60}, "backline-retimer": {60},
                                          "backline-writer": {60},
                                          "backline-midi-clock": {60}, "backline-midi-ports": {20},
                                          "service": {20}}
            mc6.feed(bytes([0x90, 60, 100]))                 # and stop
            assert wait_for(lambda: any(m.type == "stop" for _, m in lights.sent))
    finally:
        midi_backend.reset()
    kinds = [m.type for _, m in lights.sent]
    assert kinds[0] == "start" and kinds[1] == "clock"
    ticks = np.array([at for at, m in lights.sent if m.type == "clock"][:100])
    gaps = np.diff(ticks) * 1000                         # 120 bpm: 20.83 ms a tick, at the
    assert abs(np.median(gaps) - 1000 / 48) < 2.0        # pace of JACK's dummy clock (not
    assert gaps.min() > 1                                # exactly the wall's): not in bursts


def test_memory_is_locked_where_allowed_and_said_when_not():
    import ctypes
    import errno
    import resource
    from appliance.service.memory import lock_memory
    assert lock_memory().startswith("memory locked")     # root here: allowed

    def refused(flags: int) -> int:                      # an unprivileged user over its limit
        ctypes.set_errno(errno.ENOMEM)
        return -1
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    limit = "unlimited" if soft == resource.RLIM_INFINITY else f"{soft // 1024} KiB"
    assert lock_memory(refused) == (f"memory not locked (Cannot allocate memory; LimitMEMLOCK "
                                    f"{limit}): a page fault can cause a dropout")


def test_stopping_the_daemon_closes_a_running_take_with_its_files_valid(
        library, tmp_path, jack, systemd):
    import tomllib
    import soundfile as sf
    position_song(library, "one", bars=2)
    d, _ = _daemon(tmp_path, library / "songs" / "one", inputs={"vox": 1}, input_channels=2,
                   recordings=tmp_path / "rec")
    with d:                                                # its end stops it as SIGTERM does
        assert systemd.wait_for("READY=1")
        d.player.send(c.Record(True))
        assert wait_for(lambda: d.player.state.record.seconds > 0.5)
    take = next((tmp_path / "rec").iterdir())
    meta = tomllib.loads((take / "take.toml").read_text())
    assert meta["complete"] is True and meta["stopped"] == "the box stopped"
    assert sf.info(str(take / "vox.wav")).frames == meta["frames"] > 24000


def test_the_daemon_says_which_parts_of_the_config_it_left_out(tmp_path, caplog):
    from appliance.config import load_config
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[library]\npath = "{tmp_path / "nowhere"}"\n'
                   '[[midi.map]]\nnote = 60\ncommand = "dance"\n')
    d = Daemon(load_config(cfg), state_path=tmp_path / "st.json")
    d.request_stop()                                     # (no library: it idles, then stops)
    assert d.run() == 0
    assert f"{cfg}: warning: midi.map[1].command: unknown command 'dance'" in caplog.text
    assert "; left out" in caplog.text


@pytest.mark.parametrize("text, where, reason", [
    ('{"target": "x", "index": 1e999}', "index", "must be a whole number from 1, not inf"),
    ('{"target": "x", "index": -Infinity}', "index", "must be a whole number from 1, not -inf"),
    ('{"target": "x", "index": NaN}', "index", "must be a whole number from 1, not nan"),
    ('{"target": "x", "index": 2.5}', "index", "must be a whole number from 1, not 2.5"),
    ('{"target": "x", "index": true}', "index", "must be a whole number from 1, not True"),
    ('{"target": 5}', "target", "must be text, not 5"),
    ('{"index": ' + "9" * 5000 + '}', "", "Exceeds the limit (4300 digits)"),
    ('{"target": ' + "[" * 100_000 + "]" * 100_000 + '}', "", "nested too deeply"),
    ('[1, 2]', "", "not a JSON object but list"),
])
def test_a_resume_file_with_bad_numbers_or_shape_is_set_aside(tmp_path, text, where, reason):
    path = tmp_path / "st.json"
    path.write_text(text)
    problems = Problems()
    assert load_resume(path, problems) == Resume()
    prefix = f"{path}: warning: {where + ': ' if where else ''}saved state is corrupt ("
    assert len(problems) == 1 and str(problems[0]).startswith(prefix + reason), problems
    assert str(problems[0]).endswith("; set aside as st.json.corrupt, starting fresh")
    assert (tmp_path / "st.json.corrupt").exists() and not path.exists()


def test_a_bad_saved_level_is_left_out_and_the_setlist_position_kept(tmp_path):
    path = tmp_path / "st.json"
    path.write_text('{"target": "/x", "index": 3, "click_db": NaN, "record_arm": 1,\n'
                    ' "output_gain_db": {"foh": NaN, "ears": -3, "cue": Infinity, "mon": 99,'
                    ' "sub": "loud"}, "armed": [1]}')
    problems = Problems()
    state = load_resume(path, problems)
    # NaN must not come back as +12 dB (a clamp lets NaN through as its upper bound).
    assert state == Resume(target="/x", index=3, output_gain_db={"ears": -3.0})
    assert [str(p).split("warning: ")[1] for p in problems] == [
        "output_gain_db.foh: saved state: must be a level from -120 to 12 dB, not nan; "
        "left at its default",
        "output_gain_db.cue: saved state: must be a level from -120 to 12 dB, not inf; "
        "left at its default",
        "output_gain_db.mon: saved state: must be a level from -120 to 12 dB, not 99; "
        "left at its default",
        "output_gain_db.sub: saved state: must be a level from -120 to 12 dB, not 'loud'; "
        "left at its default",
        "click_db: saved state: must be a level from -120 to 12 dB, not nan; left at its default",
        "armed: saved state: must be a list of input names, not [1]; left at its default",
        "record_arm: saved state: must be true or false, not 1; left at its default"]

    assert all(str(p).startswith(str(path)) for p in problems)
    assert path.exists()           # kept: the next save writes it whole again


def _run_daemon(cfg: Path, state: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "appliance", "run", "--config", str(cfg),
                             "--state", str(state), *extra],
                            stderr=subprocess.PIPE, text=True, env=os.environ)


def test_bursts_of_close_and_reload_signals_always_stop_cleanly(library, tmp_path, jack, systemd):
    """TERM, INT and HUP at random moments, alone and in bursts: exit 0 within two seconds
    every time, with the state saved (a handler that took a lock hung 3 runs in 50)."""
    import random
    position_song(library, "song", bars=4)
    cfg = _config_file(tmp_path)
    rng = random.Random(14)
    for run in range(8):
        state = tmp_path / f"st{run}.json"
        systemd.messages.clear()
        proc = _run_daemon(cfg, state)
        try:
            assert systemd.wait_for("READY=1"), proc.stderr.read() if proc.poll() else ""
            time.sleep(rng.uniform(0, 0.3))            # anywhere in the service loop's tick
            burst = [rng.choice((signal.SIGTERM, signal.SIGINT, signal.SIGHUP))
                     for _ in range(rng.choice((1, 5, 40)))]
            burst.append(rng.choice((signal.SIGTERM, signal.SIGINT)))
            t0 = time.monotonic()
            for signum in burst:
                proc.send_signal(signum)
                if rng.random() < 0.5:
                    time.sleep(rng.uniform(0, 0.002))
            assert proc.wait(5) == 0, proc.stderr.read()
            assert time.monotonic() - t0 < 2.0
        finally:
            proc.kill()
            proc.wait()
        assert "stopped" in proc.stderr.read()
        assert load_resume(state, Problems()).target.endswith("song")


def test_a_second_daemon_on_the_same_state_says_who_has_it_and_exits_2(
        library, tmp_path, jack, systemd):
    position_song(library, "song", bars=4)
    cfg = _config_file(tmp_path)
    first = _run_daemon(cfg, tmp_path / "st.json")
    try:
        assert systemd.wait_for("READY=1")
        second = subprocess.run([sys.executable, "-m", "appliance", "run", "--config", str(cfg),
                                 "--state", str(tmp_path / "st.json")],
                                capture_output=True, text=True, timeout=30)
        assert second.returncode == 2
        assert second.stderr.strip().splitlines() == [    # before the device: nothing else
            f"backline: ERROR: state folder {tmp_path} is in use by backline (pid {first.pid})"]
        assert first.poll() is None                        # the first plays on
        first.send_signal(signal.SIGTERM)
        assert first.wait(5) == 0
    finally:
        first.kill()
        first.wait()
    systemd.messages.clear()
    again = _run_daemon(cfg, tmp_path / "st.json")         # the lock went with the process
    try:
        assert systemd.wait_for("READY=1")
        again.send_signal(signal.SIGTERM)
        assert again.wait(5) == 0
    finally:
        again.kill()
        again.wait()


def test_the_unit_reloads_with_sighup_and_does_not_restart_a_second_daemon():
    unit = (Path(__file__).parent.parent / "systemd" / "backline.service").read_text()
    lines = unit.splitlines()
    assert "ExecReload=/bin/kill -HUP $MAINPID" in lines
    assert "RestartPreventExitStatus=2" in lines


def test_sighup_reloads_the_config_and_library_and_never_cuts_a_song(
        library, tmp_path, jack, systemd, caplog):
    from appliance.config import load_config
    for name in ("one", "two", "three"):
        position_song(library, name, bars=8)
    setlist = library / "setlists" / "gig.setlist"
    setlist.write_text("one\ntwo\n")
    cfg = _config_file(tmp_path)
    caplog.set_level(logging.INFO, "backline")
    d = Daemon(load_config(cfg), state_path=tmp_path / "st.json", target=setlist,
               reload=lambda: load_config(cfg))
    t = threading.Thread(target=d.run)
    t.start()
    with d:
        assert systemd.wait_for("READY=1")
        first = d.player
        first.send(c.NextSong())
        first.send(c.SetOutputGain("foh", -3.0))
        assert wait_for(lambda: first.state.index == 2)
        first.send(c.Play())
        assert wait_for(lambda: first.state.transport == "playing")
        setlist.write_text("one\ntwo\nthree\n")               # the library changes ...
        cfg.write_text(cfg.read_text() + "[limiter]\nceiling = -3.0\n")   # ... the config too
        d.request_reload()                                     # as SIGHUP
        assert wait_for(lambda: "read again when the song stops" in caplog.text)
        time.sleep(0.5)
        assert d.player is first and first.state.transport == "playing"   # not cut
        first.send(c.Stop())
        assert wait_for(lambda: d.player is not first)
        assert wait_for(lambda: "reload: config and library read again" in caplog.text)
        assert wait_for(lambda: d.player.state.count == 3 and d.player.state.transport == "stopped")
        s = d.player.state
        assert (s.index, s.song_name, dict(s.output_gain_db).get("foh")) == (2, "two", -3.0), s
        assert d.config.ceiling_db == -3.0 and not first.engine.running
        second = d.player
        cfg.write_text("[audio\n")                             # a broken config
        d.request_reload()
        assert wait_for(lambda: "reload: the config has errors; the running one stays"
                        in caplog.text)
        assert "config.toml: line 1: TOML syntax" in caplog.text
        time.sleep(0.5)
        assert d.player is second and d.config.ceiling_db == -3.0
    t.join(5)                 # run() has returned: its thread ends
    assert not t.is_alive()


def _crash_and_restart(tmp_path: Path, song: Path, systemd, commands: list,
                       saved) -> tuple[Daemon, threading.Thread]:
    """The daemon on `song` takes `commands` and saves what `saved(resume)` looks for, then
    crashes (no orderly shutdown) and starts again with no target: the second one."""
    d, t = _daemon(tmp_path, song)
    try:
        assert systemd.wait_for("READY=1")
        for cmd in commands:
            d.player.send(cmd)
        assert wait_for(lambda: saved(load_resume(tmp_path / "st.json", Problems())))
    finally:
        d.player.stop()
        d.request_stop()
        t.join(5)
    return _daemon(tmp_path, None)


def test_a_key_chosen_live_is_kept_over_a_restart(library, tmp_path, jack, systemd):
    position_song(library, "one", bars=1)
    d2, t2 = _crash_and_restart(tmp_path, library / "songs" / "one", systemd,
                                [c.SetKey(-2), c.NudgeTempo(-10)],
                                lambda r: r.keys == {"one": (-2.0, 0.9)})
    try:
        assert wait_for(lambda: d2.player is not None and d2.player.state.song_name == "one")
        k = d2.player.state.key_tempo
        assert (k.wanted_transpose, k.wanted_tempo) == (-2.0, 0.9)
    finally:
        d2.request_stop()
        t2.join(5)


TUNE = '''count_in = 0
loudness = false
chart = """
tempo: 120
[A]
| C | F | G | C |
"""
'''


def test_a_chart_songs_key_tempo_and_dynamics_are_kept_over_a_restart(library, tmp_path, jack,
                                                                       systemd):
    d2, t2 = _crash_and_restart(
        tmp_path, make_song(library, "tune", TUNE), systemd,
        [c.SetKey(3), c.SetIntensity(0.3), c.SetBpm(90)],      # kept: the parts played them
        lambda r: r.keys == {"tune": (3.0, 0.75)} and r.dynamics == {"tune": 0.3})
    try:
        assert wait_for(lambda: d2.player is not None and d2.player.state.song_name == "tune")
        assert wait_for(lambda: d2.player.state.bpm == 90)
        k = d2.player.state.key_tempo
        assert (k.transpose, k.intensity, k.tempo) == (3.0, 0.3, 0.75)
        plan = d2.player.transport.song.plan
        assert (plan.settings.transpose, plan.settings.intensity) == (3, 0.3)   # in force
        assert d2.player.transport.song.mixer.expression_db == pytest.approx(-0.7 * 12)
    finally:
        d2.request_stop()
        t2.join(5)


def test_a_bad_saved_key_is_left_out_naming_the_song(tmp_path):
    path = tmp_path / "st.json"
    path.write_text('{"target": "/x", "index": 2, "keys": {"one": [-2, 0.9], '
                    '"two": [13, 1], "three": [0, NaN], "four": "low"}}')
    problems = Problems()
    resume = load_resume(path, problems)
    assert resume.index == 2 and resume.keys == {"one": (-2.0, 0.9)}
    said = [str(p) for p in problems]
    assert any("keys.two: saved state: must be [semitones from -12 to 12, tempo from 0.5 "
               "to 2], not [13, 1]" in s for s in said), said
    assert any("keys.three" in s and "nan" in s for s in said), said
    assert any("keys.four" in s and "'low'" in s for s in said), said


def test_a_bad_saved_intensity_is_left_out_naming_the_song(tmp_path):
    path = tmp_path / "st.json"
    path.write_text('{"target": "/x", "index": 1, "dynamics": {"one": 0.3, "two": NaN, '
                    '"three": 1.5, "four": true}}')
    problems = Problems()
    resume = load_resume(path, problems)
    assert resume.dynamics == {"one": 0.3}
    said = [str(p) for p in problems]
    assert any("dynamics.two: saved state: must be an intensity from 0 to 1, not nan" in s
               for s in said), said
    assert any("dynamics.three" in s and "1.5" in s for s in said), said
    assert any("dynamics.four" in s and "True" in s for s in said), said


def test_the_daemons_display_shows_a_syncs_progress_until_it_ends(library, tmp_path, jack,
                                                                   systemd):
    import fcntl
    from appliance.sim.lcd import TerminalLcd
    from appliance.songs.sync import STATUS_FILE, WORK_DIR
    from appliance.ui.display import TextScreen

    song = position_song(library, "song", bars=4)
    lcd = TerminalLcd()
    config = Config(cache=tmp_path / "cache", device="jackhat", library=library,
                    **{**CONFIG, "format": "FLOAT_LE"})
    d = Daemon(config, state_path=tmp_path / "st.json", target=song, display=TextScreen(lcd))
    t = threading.Thread(target=d.run)
    t.start()
    with d:
        assert systemd.wait_for("READY=1")
        work = library / WORK_DIR
        work.mkdir()
        lock = os.open(work, os.O_RDONLY)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)                  # as a running sync holds it
            (work / STATUS_FILE).write_text("sync 40% (1.0 of 2.5 MB): a.wav\n")
            assert wait_for(lambda: lcd.lines()[3] == "sync 40% (1.0 of 2.5")
            (work / STATUS_FILE).unlink()
            assert wait_for(lambda: lcd.lines()[3].strip() == "")
        finally:
            os.close(lock)
