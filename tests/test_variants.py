"""Stem variants at another key and tempo (issue 16): made once into the cache by Rubber
Band, played when all of a song's are ready; pitch and length measured in renders; the
cache hit, a changed stem, a missing engine and a full cache disk; the Preparer thread."""
from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from appliance.audio.disk import stretch
from appliance.audio.disk.loaded import validate_song
from appliance.audio.disk.preparer import Preparer
from appliance.audio.disk.variants import prepare_song
from appliance.config import Config
from appliance.errors import Problems
from appliance.timeline.song import load_song

from conftest import RATE, beats_csv, make_song, run_cli, write_stem

SECONDS = 3
F = Fraction(9, 10)


def sine(seconds: float, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return np.repeat((0.25 * np.sin(2 * np.pi * freq * t))[:, None], channels, 1).astype(np.float32)


def song(library: Path, extra: str = "", name: str = "s", seconds: float = SECONDS,
         stem: str = "", channels: int = 1) -> Path:
    folder = make_song(library, name, f"{extra}\n[[tempo]]\nbar = 1\nbpm = 120\n"
                                      f'[[stem]]\nfile = "a.wav"\n{stem}')
    write_stem(folder, "a.wav", sine(seconds, channels=channels), RATE)
    return folder


def peak_hz(x: np.ndarray) -> float:
    """The strongest frequency of the middle of `x` (the ends hold the engine's ramps)."""
    mid = x[len(x) // 6: -len(x) // 6]
    spectrum = np.abs(np.fft.rfft(mid * np.hanning(len(mid)), 8 * len(mid)))
    return float(np.argmax(spectrum)) * RATE / (8 * len(mid))


def cache_files(config: Config) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in config.cache.glob("*-variant-*.wav")}


@pytest.mark.parametrize("semitones, hz", [(-2, 392.0), (12, 880.0)])
def test_a_transposed_render_has_its_peak_at_the_new_pitch(library, tmp_path, semitones, hz):
    folder = song(library)
    out = tmp_path / "r.wav"
    r = run_cli("render", folder, "-o", out, "--transpose", str(semitones), "--no-count-in")
    assert r.code == 0, r.err
    got, _ = sf.read(str(out), always_2d=True)
    assert len(got) == SECONDS * RATE
    assert peak_hz(got[:, 0]) == pytest.approx(hz, rel=0.005)
    assert peak_hz(sf.read(str(folder / "a.wav"))[0]) == pytest.approx(440, rel=0.001)


def test_at_tempo_0_9_the_stem_lasts_1_over_0_9_and_the_click_is_the_beats(library, tmp_path):
    folder = song(library, "count_in = 1")
    out = tmp_path / "r.wav"
    r = run_cli("render", folder, "-o", out, "--tempo", "0.9")
    assert r.code == 0, r.err
    beats = run_cli("beats", folder, "--count-in", "--tempo", "0.9")
    assert beats.code == 0, beats.err
    frames = [int(row["frame"]) for row in beats_csv(beats.out)]
    got, _ = sf.read(str(out), always_2d=True)
    count_in = frames[4]                                 # bar 1 beat 1, after a 4/4 bar
    assert count_in == round(4 * RATE * 60 / 120 / 0.9)
    assert len(got) - count_in == round(SECONDS * RATE / 0.9)      # the variant's length
    loud = np.flatnonzero(np.abs(got[:, 1]) > 0)
    onsets = [loud[0]] + [b for a, b in zip(loud, loud[1:]) if b - a > 100]
    assert onsets == frames
    stem = np.flatnonzero(np.abs(got[:, 0]) > 1e-3)
    assert abs((stem[-1] - stem[0] + 1) - SECONDS * RATE / 0.9) <= 4096      # one period
    assert peak_hz(got[count_in:, 0]) == pytest.approx(440, rel=0.005)


def test_a_keep_pitch_stem_keeps_its_pitch_at_another_key_and_tempo(library, tmp_path):
    folder = song(library, "transpose = -2\ntempo_factor = 0.9", stem="keep_pitch = true")
    config = Config(cache=tmp_path / "cache")
    assert not prepare_song(load_song(folder, Problems()), config)
    problems = Problems()
    checked = validate_song(folder, config, problems)
    assert not problems and checked.song.transpose == -2 and checked.song.tempo.factor == F
    variant, = checked.variants.values()
    data, _ = sf.read(str(variant))
    assert len(data) == round(SECONDS * RATE / 0.9) == checked.frames
    assert peak_hz(data) == pytest.approx(440, rel=0.005)


def test_a_second_prepare_is_a_cache_hit_and_a_changed_stem_makes_a_new_variant(library,
                                                                                 tmp_path):
    folder = song(library, "transpose = -2")
    config = Config(cache=tmp_path / "cache")
    assert not prepare_song(load_song(folder, Problems()), config)
    first = cache_files(config)
    assert len(first) == 1
    said: list[float] = []
    assert not prepare_song(load_song(folder, Problems()), config, progress=said.append)
    assert cache_files(config) == first and said == [1.0]      # nothing made again
    write_stem(folder, "a.wav", sine(SECONDS, 330.0), RATE)     # new content, new mtime
    assert not prepare_song(load_song(folder, Problems()), config)
    made = set(cache_files(config)) - set(first)
    assert len(made) == 1
    data, _ = sf.read(str(config.cache / made.pop()))
    assert peak_hz(data) == pytest.approx(330 * 2 ** (-2 / 12), rel=0.005)


def test_the_engine_missing_is_named_and_the_song_plays_as_written(library, tmp_path,
                                                                  monkeypatch):
    folder = song(library, "transpose = -2")
    monkeypatch.setenv("PATH", str(tmp_path / "no-engine"))
    monkeypatch.setattr(stretch, "_version", None)      # asked of the engine again
    r = run_cli("prepare", folder)
    assert r.code == 1
    assert f"{folder / 'song.toml'}: stems at transpose -2: the key/tempo engine is missing: " \
           "the program 'rubberband' (Rubber Band) is not installed" in r.err
    problems = Problems()
    checked = validate_song(folder, Config(cache=tmp_path / "cache"), problems)
    assert checked.song.transpose == 0 and checked.song.tempo.factor == 1
    assert [str(p) for p in problems] == [
        f"{folder / 'song.toml'}: warning: stems at transpose -2 cannot be prepared: the "
        "key/tempo engine is missing: the program 'rubberband' (Rubber Band) is not "
        "installed; install it with sudo apt install rubberband-cli (deploy/dev.sh and "
        "deploy/install.sh install it); it plays at its written key and tempo"]
    out = tmp_path / "r.wav"
    r = run_cli("render", folder, "-o", out, "--tempo", "0.9")
    assert r.code == 1 and "the key/tempo engine is missing" in r.err and not out.exists()


def test_a_full_cache_disk_is_named_and_the_song_plays_as_written(library, tmp_path,
                                                                 tiny_disk):
    folder = song(library, "tempo_factor = 0.9", channels=2)
    config = Config(cache=tiny_disk("1m"))
    failed = prepare_song(load_song(folder, Problems()), config)
    assert [str(p) for p in failed] == [
        f"{folder / 'song.toml'}: stem[1].file: 'a.wav' at tempo 0.9: needs 1.2 MB, the "
        "cache's disk has 1.0 MB free; it plays at its written key and tempo"]
    problems = Problems()
    checked = validate_song(folder, config, problems)
    assert checked.song.tempo.factor == 1 and checked.frames == SECONDS * RATE
    assert "stems at tempo 0.9 are not prepared yet" in str(problems[0])
    assert not list(config.cache.iterdir())          # nothing half-written left


def wait_for(check, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_the_preparer_newest_request_wins_and_progress_goes_to_1(library, tmp_path):
    slow = song(library, name="slow", seconds=30, channels=2)
    quick = song(library, name="quick", seconds=12, channels=2)     # long enough to watch
    config = Config(cache=tmp_path / "cache")
    with Preparer(config) as preparer:
        preparer.request(slow, Fraction(-2), Fraction(1))
        wait_for(lambda: preparer.progress.song == "slow" and preparer.progress.fraction > 0)
        seen: list[float] = []
        preparer.request(quick, Fraction(0), F)
        wait_for(lambda: preparer.progress.song == "quick" and (
            seen.append(preparer.progress.fraction) or preparer.progress.done))
        assert seen[0] < 0.5 and seen[-1] == 1.0 and seen == sorted(seen)
        assert preparer.progress.error == "" and preparer.progress.tempo == F
        assert preparer.ready(quick, Fraction(0), F)
        assert not preparer.ready(slow, Fraction(-2), Fraction(1))      # cancelled
        assert [p.name for p in config.cache.iterdir()] == list(cache_files(config))
        problems = Problems()
        checked = validate_song(slow, config, problems, transpose=Fraction(-2), preparing=True)
        assert checked is None and "stems at transpose -2 are being prepared" in str(problems[0])


def test_a_failing_job_reports_its_error_and_the_preparer_lives_on(library, tmp_path):
    folder = song(library)
    with Preparer(Config(cache=tmp_path / "cache")) as preparer:
        preparer.request(library / "songs" / "gone", Fraction(2), Fraction(1))
        wait_for(lambda: preparer.progress.error != "")
        assert "gone" in preparer.progress.error and not preparer.progress.done
        preparer.request(folder, Fraction(2), Fraction(1))
        wait_for(lambda: preparer.progress.song == "s" and preparer.progress.done)
        assert preparer.ready(folder, Fraction(2), Fraction(1))


def test_background_work_runs_at_sched_idle():
    import os
    import subprocess
    from appliance.audio.threads.priority import idle
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert os.sched_getscheduler(child.pid) != os.SCHED_IDLE
        assert idle(child.pid) == "SCHED_IDLE"
        assert os.sched_getscheduler(child.pid) == os.SCHED_IDLE
    finally:
        child.kill()
        child.wait()


def no_engine(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-engine"))
    monkeypatch.setattr(stretch, "_version", None)      # asked of the engine again


def test_each_failed_preparation_says_what_it_means_where_it_failed(library, tmp_path,
                                                                    monkeypatch):
    folder = song(library)                              # song.toml asks no key or tempo
    no_engine(tmp_path, monkeypatch)
    out = tmp_path / "r.wav"
    r = run_cli("render", folder, "-o", out, "--tempo", "0.9")
    assert r.code == 1 and not out.exists()
    assert r.err.rstrip().endswith("the key/tempo engine is missing: the program 'rubberband' "
                                   "(Rubber Band) is not installed; install it with sudo apt "
                                   "install rubberband-cli (deploy/dev.sh and deploy/install.sh "
                                   "install it); nothing is rendered")
    assert "written key" not in r.err
    r = run_cli("prepare", folder, "--tempo", "0.9")       # the box's song is untouched
    assert r.code == 1 and r.err.rstrip().endswith("install it)") and "written key" not in r.err
    asking = song(library, "tempo_factor = 0.9", name="asking")
    r = run_cli("prepare", asking)                         # what the box then does with it
    assert r.code == 1
    assert r.err.rstrip().endswith("install it); it plays at its written key and tempo")


def test_the_preparer_says_what_failed_and_not_what_plays(library, tmp_path, monkeypatch):
    folder = song(library, "transpose = -3")      # a live change: the song stays as it plays
    no_engine(tmp_path, monkeypatch)
    with Preparer(Config(cache=tmp_path / "cache")) as preparer:
        preparer.request(folder, Fraction(2), Fraction(1))
        wait_for(lambda: preparer.progress.error != "")
        assert preparer.progress.error.endswith("install it)")
        assert "written key" not in preparer.progress.error


def test_prepare_without_a_key_or_tempo_change_still_measures_the_loudness(library):
    folder = song(library)
    r = run_cli("prepare", folder)
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["s: no key or tempo change: its stems play as recorded",
                                  "s: loudness: -15.8 LUFS, true peak -12.0 dBTP, gain -0.2 dB"]
    assert (folder / "loudness.toml").is_file()


def test_check_says_each_song_whose_variants_are_missing_in_one_line(library):
    for name, extra in (("slower", "tempo_factor = 0.9"), ("lower", "transpose = -2")):
        song(library, extra, name=name, stem='\n[[stem]]\nfile = "b.wav"\n')
        write_stem(library / "songs" / name, "b.wav", sine(SECONDS, 220.0), RATE)
    r = run_cli("check", library)
    assert r.code == 0, r.err
    said = [line for line in r.err.splitlines() if "not prepared" in line]
    assert said == [
        f"{library / 'songs' / 'lower' / 'song.toml'}: warning: stems at transpose -2 are not "
        "prepared yet: run backline prepare; it plays at its written key and tempo",
        f"{library / 'songs' / 'slower' / 'song.toml'}: warning: stems at tempo 0.9 are not "
        "prepared yet: run backline prepare; it plays at its written key and tempo"]
