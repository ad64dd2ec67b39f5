"""The command line's small traps: setlists and the bundled demo found by name, and
`play`/`record` without a terminal giving up on a device that does not open."""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from appliance.cli.box import OPEN_S

from alsa_doubles import Jack, file_pcm, jack_pcm, read_raw, use_config
from conftest import make_song, run_cli

CLICK_SONG = 'length_bars = {bars}\n[[tempo]]\nbar = 1\nbpm = 120\n'
RATE = 48000
BAR = RATE * 2       # a 4/4 bar at 120 bpm


def _config(tmp_path, library):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[audio]\nformat = "FLOAT_LE"\n[library]\npath = "{library}"\n'
                   f'cache = "{tmp_path / "cache"}"\n')
    return cfg


def _backline(*args, timeout=30):
    """The CLI as a musician runs it from a script: no terminal on stdin or stdout."""
    return subprocess.run([sys.executable, "-m", "appliance", *map(str, args)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, env=os.environ)


def test_play_finds_a_setlist_by_name(library, tmp_path, monkeypatch):
    """Paced by JACK's dummy backend like a card: unpaced, a stopped box would write
    silence as fast as the disk takes it until the command exits."""
    fast = 'length_bars = {bars}\n[[tempo]]\nbar = 1\nbpm = 240\n'     # a bar is 1 s
    make_song(library, "one", fast.format(bars=1))
    make_song(library, "two", fast.format(bars=2))
    (library / "setlists" / "friday.setlist").write_text("one | gapless\ntwo\n")
    use_config(monkeypatch, tmp_path, jack_pcm("jackhat", 2) +
               file_pcm("fakehat", tmp_path / "out.raw", slave="jackhat"))
    with Jack():
        r = _backline("play", "friday", "--config", _config(tmp_path, library),
                      "--device", "fakehat")
    assert r.returncode == 0, r.stderr
    got = read_raw(tmp_path / "out.raw", 2)
    assert len(got) >= 3 * RATE                     # both songs played, one after the other
    assert np.abs(got[2 * RATE: 2 * RATE + 2000, 1]).max() > 0   # "two"'s second bar clicks


def test_a_setlist_name_that_is_not_there_is_still_reported(library, tmp_path):
    r = run_cli("play", "saturday", "--config", _config(tmp_path, library))
    assert r.code == 1 and ("saturday: neither a song folder (with song.toml) nor a setlist "
                            "file") in r.err


def test_the_bundled_demo_is_found_with_another_library_configured(library, tmp_path):
    cfg = _config(tmp_path, library)
    r = run_cli("render", "demo", "-o", tmp_path / "demo.wav", "--bars", "1", "--config", cfg)
    assert r.code == 0, r.err
    got, _ = sf.read(str(tmp_path / "demo.wav"))
    assert np.abs(got).max() > 0.05


def test_the_configured_librarys_own_demo_wins(library, tmp_path):
    make_song(library, "demo", CLICK_SONG.format(bars=3))
    r = run_cli("render", "demo", "-o", tmp_path / "demo.wav", "--no-count-in",
                "--config", _config(tmp_path, library))
    assert r.code == 0, r.err
    assert sf.info(str(tmp_path / "demo.wav")).frames == 3 * BAR


def test_play_without_a_terminal_gives_up_on_a_device_that_does_not_open(library, tmp_path,
                                                                           monkeypatch):
    use_config(monkeypatch, tmp_path, "")
    r = _backline("play", "demo", "--device", "no-such-card")
    assert r.returncode == 2, r.stderr
    assert "backline play: the audio device: cannot open 'no-such-card': " in r.stderr


def test_record_without_a_terminal_gives_up_on_a_device_that_does_not_open(library, tmp_path,
                                                                             monkeypatch):
    use_config(monkeypatch, tmp_path, "")
    r = _backline("record", "--inputs", "1", "--seconds", "2", "--device", "no-such-card")
    assert r.returncode == 2, r.stderr
    assert "backline record: the audio device: cannot open 'no-such-card': " in r.stderr
    assert "take:" not in r.stdout


@pytest.mark.parametrize("args", [("play", "demo"), ("record", "--inputs", "1")],
                         ids=["play", "record"])
def test_on_a_terminal_the_device_is_retried_and_the_reason_shown(args, tmp_path, monkeypatch):
    use_config(monkeypatch, tmp_path, "")
    main, sub = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "appliance", *args, "--device",
                             "no-such-card"], stdin=sub, stdout=sub, stderr=subprocess.DEVNULL,
                            env=os.environ)
    os.close(sub)
    seen = b""
    deadline = time.monotonic() + OPEN_S + 3
    try:
        while time.monotonic() < deadline:
            if select.select([main], [], [], 0.1)[0]:
                seen += os.read(main, 4096)
        assert proc.poll() is None                      # still trying, past OPEN_S
        assert b"cannot open 'no-such-card'" in seen, seen[-300:]
    finally:
        proc.kill()
        proc.wait()
        os.close(main)
