"""The audio thread on real ALSA code paths: the `file` plugin for exact output, a FIFO for a
device that goes away, JACK's dummy backend for real-time pacing and real underruns."""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from appliance.audio.engine import Fault
from appliance.audio.player import Player
from appliance.audio.threads.priority import realtime
from appliance.audio.threads.wake import Wake
from appliance.config import Config
from appliance.errors import Problems
from appliance.vocab import commands as c
from appliance.vocab.state import Health, TransportState

from alsa_doubles import Jack, file_pcm, jack_pcm, read_raw, use_config
from conftest import make_song, run_cli, wait_for
from transport_rig import BAR, CONFIG, decode, position_song




def player(folder: Path, tmp: Path, device: str, **overrides) -> Player:
    config = Config(cache=tmp / "cache", **{**CONFIG, "format": "FLOAT_LE", **overrides})
    p = Player.open(folder, config, Problems(), device=device)
    return p


def test_the_device_gets_exactly_what_render_writes(library, tmp_path, monkeypatch):
    folder = position_song(library, "s", bars=2, count_in=1)
    use_config(monkeypatch, tmp_path, file_pcm("fakehat", tmp_path / "out.raw"))
    p = player(folder, tmp_path, "fakehat")
    p.send(c.Play())                              # queued: applied at the first period
    with p:
        assert wait_for(lambda: p.state.transport == TransportState.STOPPED
                        and p.state.output_frame > 3 * BAR)
    got = read_raw(tmp_path / "out.raw", 2)
    cfg = tmp_path / "c.toml"
    cfg.write_text('[outputs]\nfoh = [1]\nclick = [2]\n')
    run_cli("render", folder, "-o", tmp_path / "ref.wav", "--config", cfg)
    ref, _ = sf.read(str(tmp_path / "ref.wav"), dtype="float32")
    d = p.engine.delay                            # the safety limiter's look-ahead
    assert d == 69 and not got[:d].any()
    assert np.array_equal(got[d: d + len(ref)], ref)
    assert not got[d + len(ref):].any()           # then silence, still written: the clock runs on


def test_a_refused_priority_is_said_not_raised():
    said = realtime(100)            # SCHED_FIFO stops at 99: refused even for root
    assert said.startswith("no real-time scheduling (") and "Invalid argument" in said


@pytest.mark.parametrize("overrides, problem", [
    ({"rate": 44100}, "'jackhatraw' runs at 48000 Hz, the config asks for 44100"),
    ({"channels": 4, "outputs": {"foh": (1,), "click": (2,)}},
     "'jackhatraw' has 2 channels, the config asks for 4"),
])
def test_granted_settings_are_checked(library, tmp_path, monkeypatch, overrides, problem):
    folder = position_song(library, "s", bars=1)
    with Jack():
        use_config(monkeypatch, tmp_path, jack_pcm("jackhat", 2))
        with player(folder, tmp_path, "jackhatraw", **overrides) as p:
            assert wait_for(lambda: p.state.problem == problem)
            assert p.state.health == Health.STALLED and p.engine.running  # retrying, not crashed


def test_a_device_that_goes_away_and_comes_back(library, tmp_path, monkeypatch):
    folder = position_song(library, "s", bars=4)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    use_config(monkeypatch, tmp_path, file_pcm("fakehat", fifo))
    heard = bytearray()
    unplug = threading.Event()

    def device():        # the "sound card": takes 0.5 s of audio, then is unplugged on cue
        with open(fifo, "rb") as f:
            while len(heard) < 48000 * 8 // 2:
                heard.extend(f.read(4096))
            unplug.wait(10)
    reader = threading.Thread(target=device)
    reader.start()
    p = player(folder, tmp_path, "fakehat")
    p.send(c.Play())
    with p:      # stopped whatever fails: an engine left writing to a file fills the disk
        assert wait_for(lambda: len(heard) >= 48000 * 8 // 2)
        # Once unplugged, the device is unknown: reopening fails until it is back. (Reopening a
        # FIFO with no reader would block inside ALSA, which no real card does.)
        gone = tmp_path / "gone"
        gone.mkdir()
        use_config(monkeypatch, gone, "")
        unplug.set()
        reader.join(10)
        assert wait_for(lambda: p.state.health == Health.STALLED)
        assert wait_for(lambda: "cannot open 'fakehat'" in p.state.problem)
        frame_when_lost = p.state.frame
        time.sleep(0.3)
        assert p.state.frame == frame_when_lost and p.state.transport == TransportState.PLAYING
        assert p.engine.running
        back = tmp_path / "back"
        back.mkdir()
        use_config(monkeypatch, back, file_pcm("fakehat", tmp_path / "back.raw"))   # plugged back in
        assert wait_for(lambda: p.state.frame > frame_when_lost + BAR)
    first = decode(read_raw_bytes(heard, 2))[p.engine.delay:]   # after the limiter's look-ahead
    after = decode(read_raw(tmp_path / "back.raw", 2))
    after = after[~np.isnan(after)]
    # what the card heard before it went was the song from its first frame; what was still in
    # its buffer went with it; back, it plays on from the period its last write lost
    assert np.array_equal(first, np.arange(len(first)))
    resumed = frame_when_lost - 128 - p.engine.delay
    assert np.array_equal(after, np.arange(resumed, resumed + len(after)))
    assert len(after) > BAR
    assert p.state.health in (Health.RECOVERING, Health.HEALTHY)


def read_raw_bytes(data: bytes, channels: int) -> np.ndarray:
    usable = len(data) // (4 * channels) * 4 * channels
    return np.frombuffer(bytes(data[:usable]), dtype=np.float32).reshape(-1, channels)


def test_paced_playback_and_an_underrun_keep_every_frame(library, tmp_path, monkeypatch):
    folder = position_song(library, "s", bars=2)
    with Jack():
        use_config(monkeypatch, tmp_path, jack_pcm("jackhat", 2) +
                   file_pcm("copy", tmp_path / "copy.raw", slave="jackhat"))
        p = player(folder, tmp_path, "copy", period=256)
        render = p.transport.render
        hiccup = {"at": 40}

        def slow_render(*args):                  # one period takes far too long (a stalled CPU)
            hiccup["at"] -= 1
            if hiccup["at"] == 0:
                time.sleep(0.3)
            render(*args)
        monkeypatch.setattr(p.transport, "render", slow_render)
        p.send(c.Play())
        t0 = time.monotonic()
        with p:
            assert wait_for(lambda: p.state.output_frame >= 48000, timeout=5)
            elapsed = time.monotonic() - t0
            assert wait_for(lambda: p.state.xruns >= 1, timeout=2)
            assert p.state.health == Health.RECOVERING
        assert 1.0 <= elapsed < 2.5                 # paced in real time (plus the hiccup)
        heard = decode(read_raw(tmp_path / "copy.raw", 2))
        heard = heard[~np.isnan(heard)]
        assert np.array_equal(heard, np.arange(len(heard)))     # no frame lost or repeated
        assert len(heard) >= 48000


def test_a_fault_in_render_fades_to_silence_and_says_faulted(library, tmp_path, monkeypatch):
    held = np.full((2 * 48000, 1), 0.5, np.float32)     # a held note: any step would show
    folder = make_song(library, "held", '[[tempo]]\nbar = 1\nbpm = 120\n[click]\n'
                       'enabled = false\n[[stem]]\nfile = "held.wav"\nroute = ["foh"]\n',
                       {"held.wav": (held, 48000)})
    use_config(monkeypatch, tmp_path, file_pcm("fakehat", tmp_path / "out.raw"))
    p = player(folder, tmp_path, "fakehat")
    render = p.transport.render
    periods = []

    def faulty(buf, *args):                  # the 20th period raises half made
        render(buf, *args)
        periods.append(len(buf))
        if len(periods) == 20:
            raise RuntimeError("injected")
    monkeypatch.setattr(p.transport, "render", faulty)
    p.send(c.Play())
    at = 19 * 128                                       # the output frame of that period
    with p:
        assert wait_for(lambda: p.state.output_frame > at + 50 * 128)
        s = p.state
        assert (s.health, s.problem) == (Health.FAULTED, "audio fault: RuntimeError: injected")
        assert p.engine.fault == Fault("RuntimeError: injected", "held", 20 * 128, at)
        p.send(c.Stop())                                     # ignored while faulted
        beat = p.engine.heartbeat
        assert wait_for(lambda: p.engine.heartbeat > beat + 10)     # the device runs on
        assert p.state.transport == TransportState.PLAYING and len(periods) == 20 \
            and p.engine.running
    out = read_raw(tmp_path / "out.raw", 2)
    delay = p.engine.delay                              # the limiter's look-ahead
    assert not out[:delay].any() and np.all(out[delay:at, 0] == 0.5)
    fade = out[at - 1: at + 241, 0]                     # 5 ms from the last frame written
    assert np.abs(np.diff(fade)).max() <= 0.5 / 240 * 1.001     # no step
    assert fade[-1] == 0 and not out[at + 240:].any()  # then silence, every period
    assert len(out) > at + 60 * 128


def test_stopping_twice_is_fine(library, tmp_path, monkeypatch):
    wake = Wake()
    wake.close()
    wake.set()                        # a late wake-up after close: nothing
    wake.close()
    folder = position_song(library, "s", bars=1)
    use_config(monkeypatch, tmp_path, file_pcm("fakehat", tmp_path / "out.raw"))
    p = player(folder, tmp_path, "fakehat")
    p.start()
    assert wait_for(lambda: p.state.output_frame > 0)
    p.stop()
    p.stop()                          # engine, take writer and loader: each a second time
    assert not p.engine.running and not p.bank.is_alive()


def test_the_inbox_coalesces_levels_and_keeps_every_other_command_in_order():
    from appliance.audio.inbox import Inbox
    inbox = Inbox()
    for cmd in (c.SetGain("bass", -1.0), c.SetOutputGain("foh", -5.0), c.SetGain("bass", -2.0),
                c.NudgeGain("bass", 1.0), c.SetOutputGain("foh", -6.0), c.Mute("bass"),
                c.Play(), c.SetGain("bass", -3.0), c.NudgeOutputGain("foh", 1.0),
                c.NudgeOutputGain("foh", 2.0), c.NudgeOutputGain("foh", -1.0),
                c.SetGain("click", 11.5), c.NudgeGain("click", 1.0)):
        inbox.put(cmd)
    got = []
    while (cmd := inbox.pop()) is not None:
        got.append(cmd)
    assert got == [c.SetGain("bass", -1.0), c.SetOutputGain("foh", -6.0), c.Mute("bass"),
                   c.Play(), c.SetGain("bass", -3.0), c.NudgeOutputGain("foh", 3.0),
                   c.NudgeOutputGain("foh", -1.0),         # opposite signs: not merged
                   c.SetGain("click", 12.0)]               # clamped as the transport clamps


def test_the_inbox_loses_no_value_while_the_audio_thread_pops():
    """A sender and a popping thread at full speed: every nudge counts exactly once and
    every other command arrives, in order."""
    from appliance.audio.inbox import Inbox
    inbox = Inbox()
    got: list[c.Command] = []
    done = threading.Event()

    def audio() -> None:
        while not done.is_set() or len(inbox):
            cmd = inbox.pop()
            if cmd is not None:
                got.append(cmd)
    t = threading.Thread(target=audio)
    t.start()
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)                  # switch threads as often as possible
    try:
        for i in range(30000):
            inbox.put(c.NudgeGain("bass", 1.0))
            inbox.put(c.SetOutputGain("foh", -float(i % 100)))
            if i % 1000 == 0:
                inbox.put(c.SelectSong(i // 1000 + 1))
    finally:
        sys.setswitchinterval(old)
        done.set()
        t.join(30)
    assert sum(cmd.db for cmd in got if isinstance(cmd, c.NudgeGain)) == 30000
    assert [cmd.index for cmd in got if isinstance(cmd, c.SelectSong)] == list(range(1, 31))
    assert [cmd for cmd in got if isinstance(cmd, c.SetOutputGain)][-1].db == -99.0
    assert len(got) < 3 * 30000
