"""A chart song's parts in the daemon, on JACK's dummy driver with ALSA's `file` plugin
keeping what the box played: the bass sounds its chords' roots, and a jump or a vamp on a
chart section plays the parts of its target."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from appliance.config import DEMO_LIBRARY, Config
from appliance.service.daemon import Daemon
from appliance.vocab import commands as c
from appliance.vocab.state import TransportState

from alsa_doubles import Jack, file_pcm, jack_pcm, read_raw, use_config
from conftest import RATE, make_song, wait_for, write_config
from parts_rig import ONLY_BASS, pitch_class
from test_daemon import systemd  # noqa: F401 (fixture)

# at 240 BPM a bar is a second: [A] E then G, [Bridge] C C, [Out] E
CHART = '''count_in = 0
loudness = false
chart = """
tempo: 240
[A]
| E | G |
[Bridge]
| C | C | C |
[Out]
| E |
"""
''' + ONLY_BASS
E, G, C = 4, 7, 0
BASS = 2                       # the bass's output channel, 0-based


@pytest.fixture
def box(tmp_path: Path, monkeypatch, library, systemd, request):  # noqa: F811
    """The daemon playing the chart song; `request.param`: the config's SoundFont."""
    raw = tmp_path / "out.raw"
    use_config(monkeypatch, tmp_path, jack_pcm("jackhat", 3) + file_pcm("fakehat", raw, slave="jackhat"))
    song = make_song(library, "chart", CHART)
    config = Config(cache=tmp_path / "cache", device="fakehat", library=library, rate=RATE,
                    channels=3, period=128, format="FLOAT_LE",
                    outputs={"foh": (1,), "click": (2,), "bass": (3,)},
                    soundfont=getattr(request, "param", None))
    with Jack(period=128, channels=3):
        d = Daemon(config, state_path=tmp_path / "st.json", target=song)
        t = threading.Thread(target=d.run)
        t.start()
        with d:
            assert systemd.wait_for("READY=1\nSTATUS")   # the daemon's (jackd says READY=1 too)
            yield d, raw
        t.join(10)


def heard(raw: Path, seconds: float = 0.3) -> np.ndarray:
    """The bass output's last `seconds` the box played."""
    return read_raw(raw, 3)[-int(seconds * RATE):, BASS]


def at_bar(d: Daemon, bar: int) -> bool:
    return wait_for(lambda: d.player.state.bar == bar and d.player.state.beat >= 3, 10)


def test_the_daemon_plays_a_chart_songs_bass_at_its_chords_roots(box):
    d, raw = box
    assert [m.name for m in d.player.state.mix][:3] == ["drums", "bass", "keys"]
    d.player.send(c.Play())
    assert at_bar(d, 1)
    assert pitch_class(heard(raw)) == E
    assert at_bar(d, 2)
    assert pitch_class(heard(raw)) == G
    assert d.player.state.disk_underruns == 0


def test_a_jump_to_a_chart_section_plays_the_bass_of_its_first_chord(box):
    d, raw = box
    d.player.send(c.Play())
    assert at_bar(d, 1)
    d.player.send(c.Jump("Out", at=c.At.NOW))
    assert wait_for(lambda: d.player.state.section == "Out"
                    and d.player.state.transport == TransportState.PLAYING, 10)
    time.sleep(0.5)
    assert pitch_class(heard(raw)) == E            # Out's E, not Bridge's C


def test_a_vamp_on_a_chart_section_plays_its_first_bar_again(box):
    d, raw = box
    d.player.send(c.Play())
    assert at_bar(d, 1)
    d.player.send(c.Vamp())                      # [A], bars 1-2, again and again
    assert wait_for(lambda: d.player.state.vamp != "", 5)
    assert wait_for(lambda: d.player.state.bar == 2, 5)
    assert wait_for(lambda: d.player.state.bar == 1, 5)    # looped, not on to the Bridge
    assert at_bar(d, 1)
    assert pitch_class(heard(raw)) == E
    assert at_bar(d, 2)
    assert pitch_class(heard(raw)) == G


BROKEN = Path(__file__).parent / "parts_rig.py"       # a file, but no SoundFont


@pytest.mark.parametrize("box", [BROKEN], indirect=True)
def test_a_broken_soundfont_is_said_once_and_the_chart_song_plays_its_click(caplog, box):
    d, raw = box
    logged = caplog.get_records("setup") + caplog.records      # the daemon started in setup
    said = [r.getMessage() for r in logged if str(BROKEN) in r.getMessage()]
    assert said == [f"{BROKEN}: warning: is not a SoundFont (.sf2); chart plays without its parts"]
    assert [m.name for m in d.player.state.mix] == ["click", "cue"]
    assert d.player.state.stem_problems == ("parts silent: parts_rig.py: is not a SoundFont (.sf2)",)
    d.player.send(c.Play())
    assert at_bar(d, 2)
    played = read_raw(raw, 3)
    assert played[:, 1].any() and not played[:, [0, BASS]].any()     # the click alone


def test_the_demo_setlist_plays_the_demo_chart_song_and_the_sim_plays_its_band(tmp_path):
    """What the README's first command runs (deploy/dev.sh): the demo setlist goes on to
    the chart song by itself, and `run --sim` plays its parts on JACK's dummy driver."""
    setlist = (DEMO_LIBRARY / "setlists" / "demo.setlist").read_text()
    assert [line.split("|")[0].strip() for line in setlist.splitlines()
            if line and not line.startswith("#")] == ["demo", "demo-chart"]
    assert "demo | continue" in setlist
    cfg = write_config(tmp_path / "c.toml", f'[library]\ncache = "{tmp_path / "cache"}"\n')
    sim = tmp_path / "sim"
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance", "run", "--sim", "--sim-wav", "--sim-dir", str(sim),
         "--config", str(cfg), str(DEMO_LIBRARY / "songs" / "demo-chart")],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=os.environ)
    log = sim / "backline.log"
    try:
        assert wait_for(lambda: log.exists() and "ready" in log.read_text(), timeout=30)
        proc.stdin.write("1")                            # the play switch
        proc.stdin.flush()
        assert wait_for(lambda: "playing: Backline Demo Chart" in log.read_text(), timeout=10)
        time.sleep(4.0)                                  # the count-in, then the band
        proc.stdin.write("q")
        proc.stdin.flush()
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, log.read_text()
    assert "without its parts" not in log.read_text()
    audio, _ = sf.read(str(sim / "output.wav"), dtype="float32", always_2d=True)
    foh = audio[:, 0]                                    # the default box: foh on 1, click on 2
    assert float(np.sqrt(np.mean(np.square(foh[-RATE:], dtype=np.float64)))) > 0.01
