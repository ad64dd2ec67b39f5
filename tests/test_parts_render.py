"""A chart song's parts in `backline render`: the synthesised drums, bass and keys mixed
with the click, routed and levelled by song.toml's [[part]] tables, the same samples for
the same seed; and a box that cannot sound them (no FluidSynth, a broken SoundFont)
renders the rest with one warning naming the file."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from appliance.config import DEMO_LIBRARY

from conftest import RATE, make_song, run_cli, tone, write_config
from parts_rig import ONLY_BASS, pitch_class

CONFIG = """
[audio]
channels = 5
[outputs]
foh = [1]
ears = [2]
click = [3]
bass = [4]
keys = [5]
[library]
cache = "{cache}"
"""
# bar 1 is E, bar 2 A: the bass's root in bar 1 is E (pitch class 4)
CHART = 'chart = """\ntempo: 120\n[A]\n| E | A |\n[B]\n| D | E |\n"""\nloudness = false\n'
FOH, EARS, CLICK, BASS, KEYS = range(5)
BAR = 2 * RATE                      # 4/4 at 120


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "c.toml", CONFIG.format(cache=tmp_path / "cache"))


def render(config: Path, library: Path, toml: str, name: str = "s", *args) -> np.ndarray:
    song = make_song(library, name, CHART + toml)
    out = library.parent / f"{name}.wav"
    r = run_cli("render", song, "-o", out, "--no-count-in", "--config", config, *args)
    assert r.code == 0, r.err
    return sf.read(str(out), dtype="float32", always_2d=True)[0]


def rms_db(x: np.ndarray) -> float:
    return 20 * math.log10(float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))))


def test_the_bass_plays_the_chords_root_in_bar_one(config, library):
    out = render(config, library, ONLY_BASS)
    assert pitch_class(out[:BAR, BASS]) == 4                    # E
    assert pitch_class(out[BAR:2 * BAR, BASS]) == 9             # A
    assert not out[:, [FOH, EARS, KEYS]].any()                  # routed to its output only
    assert out[:, CLICK].any()


def test_render_transpose_moves_the_bass_of_a_chart_song(config, library):
    out = render(config, library, ONLY_BASS, "up", "--transpose", "2")
    assert pitch_class(out[:BAR, BASS]) == 6                    # E up a tone: F#


def test_a_render_is_the_same_samples_every_time_and_another_seed_changes_it(config, library):
    first = render(config, library, "", "one")
    assert np.array_equal(first, render(config, library, "", "two"))
    assert np.abs(first).max() > 0.01
    assert not np.array_equal(first, render(config, library, "[parts]\nseed = 5\n", "three"))


def test_gain_db_and_routes_move_a_part_by_the_expected_db(config, library):
    keys = '[[part]]\nname = "drums"\nmuted = true\n[[part]]\nname = "bass"\nmuted = true\n'
    loud = render(config, library, keys + '[[part]]\nname = "keys"\nroute = ["keys", "ears"]\n',
                  "loud")
    soft = render(config, library, keys + '[[part]]\nname = "keys"\nroute = ["keys", "ears"]\n'
                                          'gain_db = -7.5\n', "soft")
    assert rms_db(soft[:, KEYS]) - rms_db(loud[:, KEYS]) == pytest.approx(-7.5, abs=0.1)
    assert rms_db(soft[:, EARS]) - rms_db(loud[:, EARS]) == pytest.approx(-7.5, abs=0.1)
    assert np.array_equal(loud[:, KEYS], loud[:, EARS])      # the same part on both
    assert not loud[:, [FOH, BASS]].any()


def test_a_program_plays_the_keys_on_another_instrument(config, library):
    keys = '[[part]]\nname = "drums"\nmuted = true\n[[part]]\nname = "bass"\nmuted = true\n' \
           '[[part]]\nname = "keys"\nroute = ["keys"]\n'
    piano = render(config, library, keys, "piano")[:, KEYS]
    organ = render(config, library, keys + "program = 16\n", "organ")[:, KEYS]
    assert piano.any() and organ.any()
    # an organ holds its level where the piano's notes decay: its last quarter of bar 1 is
    # louder against its first than the piano's is
    def sustain(x):
        return rms_db(x[3 * BAR // 4:BAR]) - rms_db(x[:BAR // 4])
    assert sustain(organ) > sustain(piano) + 3


def test_a_muted_part_is_silent_and_parts_false_leaves_the_click_alone(config, library):
    muted = render(config, library, ONLY_BASS.replace('route = ["bass"]', 'muted = true'), "m")
    assert not muted[:, [FOH, EARS, BASS, KEYS]].any() and muted[:, CLICK].any()
    off = render(config, library, "parts = false\n", "off")
    assert not off[:, [FOH, EARS, BASS, KEYS]].any()
    assert np.array_equal(off[:, CLICK], muted[:, CLICK])


def test_the_demo_chart_song_renders_loud_enough_and_under_the_ceiling(tmp_path):
    out = tmp_path / "demo.wav"
    r = run_cli("render", DEMO_LIBRARY / "songs" / "demo-chart", "-o", out, "--bars", "8")
    assert r.code == 0, r.err
    audio = sf.read(str(out), dtype="float32", always_2d=True)[0]
    foh = audio[:, 0]
    assert rms_db(foh) > -35                              # the band plays, not only the click
    assert np.abs(audio).max() < 10 ** (-1.0 / 20)       # the limiter's ceiling, -1 dBTP
    assert "limiter: nothing reached its ceiling" in r.err


def test_a_broken_soundfont_is_one_warning_naming_it_and_the_song_plays_its_stems(
        config, library, tmp_path):
    broken = tmp_path / "broken.sf2"
    broken.write_bytes(b"RIFF\x04\x00\x00\x00WAVE")
    cfg = write_config(tmp_path / "b.toml", config.read_text() + f'[parts]\nsoundfont = "{broken}"\n')
    make_song(library, "s", CHART + '[[stem]]\nfile = "pad.wav"\nroute = ["foh"]\n',
              {"pad.wav": (tone(4.0, RATE, 220), RATE)})
    out = tmp_path / "s.wav"
    r = run_cli("render", library / "songs" / "s", "-o", out, "--no-count-in", "--config", cfg)
    assert r.code == 0, r.err
    warned = [line for line in r.err.splitlines() if str(broken) in line]
    assert warned == [f"{broken}: warning: is not a SoundFont (.sf2); s plays without its parts"], r.err
    audio = sf.read(str(out), dtype="float32", always_2d=True)[0]
    assert audio[:, FOH].any() and audio[:, CLICK].any()
    assert not audio[:, [EARS, BASS, KEYS]].any()


def test_without_fluidsynth_a_chart_only_song_renders_its_click(config, library, tmp_path):
    """pyfluidsynth raises ImportError when libfluidsynth is not installed: a module of that
    name that does so stands first on the path of a real `backline render` process."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "fluidsynth.py").write_text(
        'raise ImportError("Couldn\'t find the FluidSynth library.")\n')
    song = make_song(library, "s", CHART)
    out = tmp_path / "s.wav"
    path = [str(shadow), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    r = subprocess.run([sys.executable, "-m", "appliance", "render", str(song), "-o", str(out),
                        "--no-count-in", "--config", str(config)],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "FluidSynth cannot be loaded" in r.stderr and "s plays without its parts" in r.stderr
    audio = sf.read(str(out), dtype="float32", always_2d=True)[0]
    assert audio[:, CLICK].any() and not audio[:, [FOH, EARS, BASS, KEYS]].any()


def test_a_part_that_fails_mid_song_goes_silent_and_the_rest_plays(config, library):
    from appliance.audio.disk.loaded import load
    from appliance.audio.render import mixed
    from appliance.config import load_config
    from appliance.errors import Problems

    folder = make_song(library, "s", CHART + '[[part]]\nname = "bass"\nroute = ["bass"]\n'
                                             '[[part]]\nname = "keys"\nroute = ["keys"]\n'
                                             '[[part]]\nname = "drums"\nroute = ["foh"]\n')
    song = load(folder, load_config(config), Problems(), block=512)
    bass = song.stream.parts.readers[1]
    blocks = []
    try:
        for buf in mixed(song):
            assert song.synth.blocking                  # offline: exact, never a guess
            blocks.append(buf.copy())
            if len(blocks) * 512 >= BAR and not bass.failed:   # bar 2: the bass gives up
                bass.fail(BAR, "FluidSynth stopped")
        problems = song.stem_problems()
    finally:
        song.close()
    out = np.concatenate(blocks)
    late = BAR + 512 + 8192                         # what the ring held still plays
    assert out[:BAR, BASS].any() and not out[late:, BASS].any()
    assert out[late:, KEYS].any() and out[late:, FOH].any() and out[late:, CLICK].any()
    assert problems == ["bass silent from 0:02.0: FluidSynth stopped"]


def test_parts_that_cannot_sound_are_on_the_displays_trouble_line(config, library, tmp_path):
    from appliance.audio.disk.loaded import load
    from appliance.config import load_config
    from appliance.errors import Problems
    from appliance.ui.trouble import lasting
    from appliance.vocab.state import State

    broken = tmp_path / "broken.sf2"
    broken.write_bytes(b"RIFF\x04\x00\x00\x00WAVE")
    cfg = write_config(tmp_path / "b.toml", config.read_text() + f'[parts]\nsoundfont = "{broken}"\n')
    problems = Problems()
    song = load(make_song(library, "s", CHART), load_config(cfg), problems, block=512)
    try:
        assert song.plan is None and song.stream.parts is None
        assert song.troubles() == ["parts silent: broken.sf2: is not a SoundFont (.sf2)"]
        assert song.stem_problems() == []            # a render of what can play is whole
        assert lasting(State(stem_problems=tuple(song.troubles()))) == \
            "STEM FAILED: parts silent"
    finally:
        song.close()
    assert [str(p) for p in problems] == [
        f"{broken}: warning: is not a SoundFont (.sf2); s plays without its parts"]


def test_check_says_which_soundfont_the_box_uses_and_when_it_cannot(config, library, tmp_path):
    from appliance.audio.synth.soundfont import INSTALLED

    make_song(library, "s", CHART)
    r = run_cli("check", library, "--config", config)
    assert r.code == 0, r.err
    used = next(p for p in INSTALLED if p.is_file())     # FluidR3_GM when installed
    assert f"parts: FluidSynth, SoundFont {used}" in r.out.splitlines()
    broken = tmp_path / "broken.sf2"
    broken.write_bytes(b"not a soundfont")
    cfg = write_config(tmp_path / "b.toml", config.read_text() + f'[parts]\nsoundfont = "{broken}"\n')
    r = run_cli("check", library, "--config", cfg)
    assert r.code == 0, r.err                            # a warning: the song plays
    assert f"parts: cannot sound: {broken}: is not a SoundFont (.sf2)" in r.out.splitlines()
    assert f"{broken}: warning: is not a SoundFont (.sf2); s plays without its parts" in r.err
