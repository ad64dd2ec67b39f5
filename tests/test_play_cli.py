"""`backline play` from a terminal (here: a pipe) through ALSA's file plugin."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import soundfile as sf

from appliance.audio.mix.limiter import delay_frames
from appliance.control.keyboard import command_for
from appliance.ui.status import status_line
from appliance.vocab import commands as c
from appliance.vocab.state import State, TransportState

from alsa_doubles import Jack, file_pcm, jack_pcm, read_raw, use_config
from conftest import run_cli
from transport_rig import position_song


def test_play_plays_the_song_once_and_exits(library, tmp_path, monkeypatch):
    """Paced by JACK's dummy backend like a card (unpaced, the audio thread would outrun
    the disk thread and rightly play a late stem as silence); the file plugin keeps a copy."""
    folder = position_song(library, "s", bars=2, count_in=1)
    use_config(monkeypatch, tmp_path, jack_pcm("jackhat", 2) +
               file_pcm("fakehat", tmp_path / "out.raw", slave="jackhat"))
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[audio]\nformat = "FLOAT_LE"\n[outputs]\nfoh = [1]\nclick = [2]\n'
                   f'[library]\ncache = "{tmp_path / "cache"}"\n')
    with Jack():
        r = subprocess.run([sys.executable, "-m", "appliance", "play", str(folder), "--config",
                            str(cfg), "--device", "fakehat"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30, env=os.environ)
    assert r.returncode == 0, r.stderr
    run_cli("render", folder, "-o", tmp_path / "ref.wav", "--config", cfg)
    ref, _ = sf.read(str(tmp_path / "ref.wav"), dtype="float32")
    d = delay_frames(48000)                  # the safety limiter's look-ahead
    got = read_raw(tmp_path / "out.raw", 2)[d:]
    bad = np.argwhere(got[: len(ref)] != ref)
    assert np.array_equal(got[: len(ref)], ref), (len(got), len(ref), bad[:3], len(bad), r.stderr[-500:])


def test_play_reports_a_missing_target(tmp_path):
    r = run_cli("play", tmp_path / "nothing-here")
    assert r.code == 1 and "neither a song folder (with song.toml) nor a setlist file" in r.err


def test_keys_make_commands():
    playing, paused = State(transport=TransportState.PLAYING), State(transport=TransportState.PAUSED, vamp="vamp A")
    assert command_for(" ", playing) == c.TogglePlay()
    assert command_for("p", playing) == c.Pause() and command_for("p", paused) == c.Resume()
    assert command_for("3", playing) == c.Jump(3, at=c.At.BAR)
    assert command_for("v", playing) == c.Vamp() and command_for("v", paused) == c.ReleaseVamp()
    assert command_for("?", playing) is None


def test_status_line():
    s = State(transport=TransportState.PLAYING, song="Demo", index=2, count=5, section="Verse", bar=9, beat=3,
              bpm=112.0, meter="4/4", seconds=65.25, song_frames=48000 * 200, xruns=2,
              health="recovering", pending="jump to Chorus at bar 13")
    assert status_line(s, 48000) == ("> playing  Demo [2/5]  Verse  9.3  112 bpm 4/4  1:05.2/3:20.0"
                                     "  jump to Chorus at bar 13  RECOVERING xruns 2")
