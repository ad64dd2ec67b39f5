"""Each song's FOH loudness measured and stored, and played at the box's target (issue 17)."""
from __future__ import annotations

import io
import math
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from conftest import RATE, make_song, run_cli, tone, write_config
from synth_rig import TIMGM
from appliance.audio.mix.limiter import true_peak
from appliance.config import load_config
from appliance.songs.loudness import measure, prepare
from appliance.timeline.loudness import LOUDNESS_FILE
from appliance.ui.progress import Overall

SONG = '[[tempo]]\nbar = 1\nbpm = 120\n\n[[stem]]\nfile = "a.wav"\n\n[[stem]]\nfile = "b.wav"\n'


def quiet_song(library, name="s", toml=SONG, amp=0.02):
    return make_song(library, name, toml, {"a.wav": (tone(8, RATE, 100, amp=amp, seed=1), RATE),
                                           "b.wav": (tone(8, RATE, 300, amp=amp, seed=2), RATE)})


def foh_render(tmp_path, song) -> np.ndarray:
    out = tmp_path / "out.wav"
    r = run_cli("render", song, "-o", out)
    assert r.code in (0, 1), r.err
    data, _ = sf.read(str(out), always_2d=True)
    return data[:, 0]                     # the default box: FOH on channel 1


@pytest.mark.parametrize("target", [-16.0, -23.0])
def test_songs_play_at_the_target(tmp_path, library, target, monkeypatch):
    cfg = write_config(tmp_path / "box.toml", f'[library]\ncache = "{tmp_path / "c"}"\n'
                                              f'[loudness]\ntarget = {target}\n')
    monkeypatch.setenv("BACKLINE_CONFIG", str(cfg))
    song = quiet_song(library)
    r = run_cli("prepare", song)
    assert r.code == 0, r.err
    assert "s: loudness: -19.8 LUFS" in r.out and " dB\n" in r.out
    measured = pyloudnorm.Meter(RATE).integrated_loudness(foh_render(tmp_path, song))
    assert abs(measured - target) <= 0.5


def test_the_gain_never_pushes_the_true_peak_over_the_ceiling(tmp_path, library):
    spikes = np.zeros((8 * RATE, 1), np.float32)
    spikes[::RATE // 2] = 0.5                          # quiet on average, with high peaks
    song = make_song(library, "spiky", '[[tempo]]\nbar = 1\nbpm = 120\n\n[[stem]]\nfile = "a.wav"\n',
                     {"a.wav": (spikes, RATE)})
    level = prepare(song, load_config())
    ceiling = load_config().ceiling_db
    m = level.measured
    assert -16 - m.integrated_lufs > 20                  # the target would need +20 dB ...
    assert level.gain_db == pytest.approx(ceiling - 0.1 - m.true_peak_dbtp)   # ... the peak allows 5
    out = foh_render(tmp_path, song)
    assert 20 * math.log10(true_peak(out[:, None])) <= ceiling
    assert "limiter: nothing reached its ceiling" in run_cli("render", song, "-o",
                                                             tmp_path / "o2.wav").err


def test_loudness_false_plays_as_mixed(tmp_path, library):
    song = quiet_song(library, toml="loudness = false\n" + SONG)
    plain = quiet_song(library, "plain")
    prepare(song, load_config())
    assert np.array_equal(foh_render(tmp_path, song), foh_render(tmp_path, plain))
    assert "s: loudness: loudness = false: played as mixed" in run_cli("check", library).out


def test_an_edited_mix_is_played_as_mixed_until_measured_again(tmp_path, library):
    song = quiet_song(library)
    prepare(song, load_config())
    gained = foh_render(tmp_path, song)
    text = (song / "song.toml").read_text().replace('file = "b.wav"', 'file = "b.wav"\ngain_db = -3')
    (song / "song.toml").write_text(text)
    r = run_cli("check", library)
    assert r.code == 0
    assert "loudness.toml: warning: fingerprint: measured for another mix" in r.err
    assert "measured for another mix: played as mixed" in r.out
    edited = foh_render(tmp_path, song)
    (song / LOUDNESS_FILE).unlink()
    assert np.array_equal(edited, foh_render(tmp_path, song))      # as mixed, no gain
    assert not np.array_equal(edited, gained)
    prepare(song, load_config())
    assert ", gain " in run_cli("check", library).out


def test_a_silent_song_gets_no_gain(library):
    song = make_song(library, "silent", SONG, {"a.wav": (np.zeros((RATE, 1), np.float32), RATE),
                                              "b.wav": (np.zeros((RATE, 1), np.float32), RATE)})
    level = prepare(song, load_config())
    assert level.gain_db == 0 and level.describe().startswith("silent")


def test_measure_matches_pyloudnorm_on_the_mix(library):
    song = quiet_song(library, amp=0.1)
    m = measure(song, load_config())
    a, _ = sf.read(str(song / "a.wav"))
    b, _ = sf.read(str(song / "b.wav"))
    assert m.integrated_lufs == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(a + b),
                                              abs=0.01)
    assert m.true_peak_dbtp >= 20 * math.log10(np.max(np.abs(a + b)))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0.0", '"loud"'])
def test_a_bad_target_names_the_field(tmp_path, value):
    cfg = write_config(tmp_path / "box.toml", f"[loudness]\ntarget = {value}\n")
    r = run_cli("check", "--config", cfg, tmp_path)
    assert r.code == 1
    assert f"{cfg}: loudness.target: must be" in r.err


@pytest.mark.parametrize("line", ["integrated_lufs = nan", "integrated_lufs = \"x\"",
                                  "true_peak_dbtp = inf"])
def test_a_bad_loudness_file_names_the_field(library, line):
    song = quiet_song(library)
    prepare(song, load_config())
    path = song / LOUDNESS_FILE
    key = line.split(" ")[0]
    path.write_text("\n".join(line if l.startswith(key) else l
                              for l in path.read_text().splitlines()))
    r = run_cli("check", library)
    assert f"{path}: {key}: must be" in r.err
    assert "unreadable: played as mixed" in r.out


def test_overall_progress_says_the_time_left():
    class Tty(io.StringIO):
        def isatty(self):
            return True
    now = [0.0]
    out = Tty()
    overall = Overall(out, clock=lambda: now[0])
    overall.expect(400)
    tick = overall("resampling a.wav", 100)
    now[0] = 10.0
    tick(100)
    assert "resampling a.wav  (all 25%, 0:30 left) [" in out.getvalue()


def test_the_state_carries_the_songs_loudness_and_gain(library, tmp_path):
    from appliance.audio.disk.show import Show
    from appliance.config import Config
    from transport_rig import CONFIG, close, rig
    song = quiet_song(library)
    level = prepare(song, Config(cache=tmp_path / "cache", **CONFIG))
    t = rig(Show.of_song(song), tmp_path)
    try:
        shown = t.snapshot().loudness
        assert shown.lufs == level.measured.integrated_lufs and shown.gain_db == level.gain_db
        assert shown.gain_db > 3 and shown.note == ""          # the quiet song is turned up
    finally:
        close(t)
    (song / LOUDNESS_FILE).unlink()
    t = rig(Show.of_song(song), tmp_path)
    try:
        shown = t.snapshot().loudness
        assert (shown.lufs, shown.gain_db) == (None, 0.0)
        assert shown.note == "loudness not measured (backline prepare)"
    finally:
        close(t)


# -- a chart song: its parts are its mix ---------------------------------------------------
CHART_SONG = 'chart = """\ntempo: 120\nkey: A\nstyle: rock\n[A]\n| A | D | E | A |\n"""\n'
MEASURED = re.compile(r"chart: loudness: (-\d+\.\d) LUFS, true peak \S+ dBTP, gain ([+-]\d+\.\d) dB")


@pytest.fixture
def timgm(tmp_path):
    """A config whose parts play with the small TimGM6mb (fast to load)."""
    if not TIMGM.is_file():
        pytest.skip(f"no SoundFont at {TIMGM} (apt install timgm6mb-soundfont)")
    return write_config(tmp_path / "tim.toml", f'[library]\ncache = "{tmp_path / "c"}"\n'
                                               f'[parts]\nsoundfont = "{TIMGM}"\n')


def test_a_chart_songs_loudness_is_its_parts_as_rendered_and_check_prints_it(tmp_path, library,
                                                                             timgm):
    song = make_song(library, "chart", CHART_SONG)
    r = run_cli("check", library, "--config", timgm)
    assert "chart: loudness: loudness not measured (backline prepare)" in r.out.splitlines()
    r = run_cli("prepare", song, "--config", timgm)
    assert r.code == 0, r.err
    assert r.out.startswith("chart: no stems to prepare\nchart: loudness: ")
    r = run_cli("check", library, "--config", timgm)
    assert r.code == 0, r.err
    lufs, gain = map(float, MEASURED.search(r.out).groups())
    assert -40 < lufs < -20                  # drums, bass and keys: no silence, no click alone
    out = tmp_path / "chart.wav"             # as the box plays it: at the gain, to the target
    assert run_cli("render", song, "-o", out, "--no-count-in", "--config", timgm).code == 0
    foh = sf.read(str(out), always_2d=True)[0][:, 0]
    assert pyloudnorm.Meter(RATE).integrated_loudness(foh) == pytest.approx(lufs + gain, abs=0.3)


def test_a_chart_songs_measurement_holds_for_its_chart_parts_and_soundfont(tmp_path, library,
                                                                           timgm):
    song = make_song(library, "chart", CHART_SONG)
    prepare(song, load_config(timgm))
    assert MEASURED.search(run_cli("check", library, "--config", timgm).out)
    other_font = tmp_path / "fonts" / TIMGM.name      # the same name, another file
    other_font.parent.mkdir()
    other_font.write_bytes(TIMGM.read_bytes())
    elsewhere = write_config(tmp_path / "other.toml", timgm.read_text().replace(
        str(TIMGM), str(other_font)))
    edits = {"chart": (CHART_SONG.replace("| E | A |", "| E | E |"), timgm),
             "part": (CHART_SONG + '[[part]]\nname = "bass"\ngain_db = -3\n', timgm),
             "seed": (CHART_SONG + "[parts]\nseed = 7\n", timgm),
             "soundfont": (CHART_SONG, elsewhere)}
    for what, (toml, config) in edits.items():
        (song / "song.toml").write_text(toml)
        r = run_cli("check", library, "--config", config)
        assert "measured for another mix: played as mixed" in r.out, what
        assert "(stems, levels, routes, the chart, its parts or the SoundFont changed since)" \
            in r.err, what
    (song / "song.toml").write_text(CHART_SONG)
    assert MEASURED.search(run_cli("check", library, "--config", timgm).out)


def test_a_chart_song_whose_parts_cannot_sound_is_not_measured_and_says_why(tmp_path, library,
                                                                           timgm):
    broken = tmp_path / "broken.sf2"
    broken.write_bytes(b"not a soundfont")
    cfg = write_config(tmp_path / "b.toml", f'[parts]\nsoundfont = "{broken}"\n')
    song = make_song(library, "chart", CHART_SONG)
    why = "loudness not measured: its parts cannot sound here (broken.sf2: is not a SoundFont (.sf2))"
    r = run_cli("prepare", song, "--config", cfg)
    assert r.code == 1 and f"{song / 'song.toml'}: {why}" in r.err.splitlines(), r.err
    assert not (song / LOUDNESS_FILE).exists()
    prepare(song, load_config(timgm))       # measured where they sound: no gain where not
    r = run_cli("check", library, "--config", cfg)
    assert f"chart: loudness: {why}" in r.out.splitlines()


def test_without_fluidsynth_check_says_a_chart_song_is_not_measured(tmp_path, library, timgm):
    """pyfluidsynth raises ImportError when libfluidsynth is missing: a module of that name
    that does so stands first on the path of a real `backline check` process."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "fluidsynth.py").write_text(
        'raise ImportError("Couldn\'t find the FluidSynth library.")\n')
    make_song(library, "chart", CHART_SONG)
    path = [str(shadow), *filter(None, [os.environ.get("PYTHONPATH")])]
    r = subprocess.run([sys.executable, "-m", "appliance", "check", str(library), "--config",
                        str(timgm)], env={**os.environ, "PYTHONPATH": os.pathsep.join(path)},
                       capture_output=True, text=True, timeout=120)
    said = next(line for line in r.stdout.splitlines() if line.startswith("chart: loudness:"))
    assert said.startswith("chart: loudness: loudness not measured: its parts cannot sound "
                           "here (") and "FluidSynth cannot be loaded" in said, r.stdout


def test_the_demo_chart_song_is_measured_as_the_demo_song_is(tmp_path):
    """deploy/dev.sh measures both bundled songs this way before it plays the demo setlist."""
    from appliance.config import DEMO_LIBRARY

    lib = tmp_path / "lib"
    for name in ("demo", "demo-chart"):
        shutil.copytree(DEMO_LIBRARY / "songs" / name, lib / "songs" / name,
                        ignore=shutil.ignore_patterns(LOUDNESS_FILE))
    said = run_cli("check", lib).out.splitlines()
    for name in ("demo", "demo-chart"):
        assert f"{name}: loudness: loudness not measured (backline prepare)" in said
        assert run_cli("prepare", lib / "songs" / name).code == 0
    figures = dict(re.findall(r"^(demo\S*): loudness: (-\d+\.\d) LUFS, .* gain \S+ dB$",
                              run_cli("check", lib).out, re.M))
    assert set(figures) == {"demo", "demo-chart"}
    assert -45 < float(figures["demo-chart"]) < -25      # -34.2 with FluidR3, -35.5 TimGM6mb
