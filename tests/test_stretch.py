"""The key/tempo engine: pitch by FFT peak, exact lengths, stereo alignment, atomic output,
bad arguments and a missing engine or source (issue 16)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.audio.disk import stretch
from appliance.audio.disk.stretch import StretchCancelled, StretchError, stretch_file

RATE = 48000


def sine(seconds: float, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    x = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.repeat(x[:, None], channels, axis=1).astype(np.float32)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder of its own: the suite's autouse config sits in the test's tmp_path."""
    folder = tmp_path / "stems"
    folder.mkdir()
    return folder


def write(folder: Path, data: np.ndarray, name: str = "src.wav", subtype: str = "FLOAT") -> Path:
    path = folder / name
    sf.write(str(path), data, RATE, subtype=subtype)
    return path


def peak_hz(x: np.ndarray) -> float:
    """The strongest frequency of the middle of `x`, interpolated between FFT bins."""
    mid = x[len(x) // 4: 3 * len(x) // 4]
    spec = np.abs(np.fft.rfft(mid * np.hanning(len(mid)), n=1 << 20))
    k = int(np.argmax(spec))
    a, b, c = np.log(spec[k - 1: k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * RATE / (1 << 20)


@pytest.mark.parametrize("transpose, want", [(-2, 392.0), (12, 880.0), (-12, 220.0), (0.5, 452.893)])
def test_transpose_moves_the_fft_peak(folder, transpose, want):
    src = write(folder, sine(1.5))
    stretch_file(src, folder / "out.wav", transpose=transpose, tempo=1.0)
    out, rate = sf.read(str(folder / "out.wav"), dtype="float32")
    assert rate == RATE
    assert peak_hz(out) == pytest.approx(want, rel=0.005)


@pytest.mark.parametrize("tempo", [0.9, 1.1, 0.5, 2.0])
def test_length_is_exactly_frames_over_tempo(folder, tempo):
    src = write(folder, sine(1.0))
    stretch_file(src, folder / "out.wav", transpose=0, tempo=tempo)
    assert sf.info(str(folder / "out.wav")).frames == round(RATE / tempo)


def test_keep_pitch_changes_only_the_length(folder):
    src = write(folder, sine(1.5))
    stretch_file(src, folder / "out.wav", transpose=5, tempo=0.8, keep_pitch=True)
    out, _ = sf.read(str(folder / "out.wav"), dtype="float32")
    assert len(out) == round(1.5 * RATE / 0.8)
    assert peak_hz(out) == pytest.approx(440.0, rel=0.005)


def test_stereo_stays_stereo_and_aligned(folder):
    rng = np.random.default_rng(1)
    left = np.zeros(RATE, np.float32)
    for onset in range(4000, RATE - 4000, 9000):     # noise bursts: any skew shows
        left[onset: onset + 800] = 0.4 * rng.standard_normal(800)
    src = write(folder, np.stack([left, -0.5 * left], axis=1))
    stretch_file(src, folder / "out.wav", transpose=-3, tempo=0.9)
    out, _ = sf.read(str(folder / "out.wav"), dtype="float32")
    assert out.shape == (round(RATE / 0.9), 2)
    l, r = out[:, 0], out[:, 1]
    lags = np.arange(-64, 65)
    corr = [np.dot(l[64:-64], r[64 + k: len(r) - 64 + k]) for k in lags]
    assert lags[int(np.argmin(corr))] == 0           # the right channel is -0.5 x the left
    assert np.dot(l, r) / np.dot(l, l) == pytest.approx(-0.5, abs=0.01)


def test_a_16_bit_wav_becomes_24_bit_and_flac_works(folder):
    src = write(folder, sine(0.5, channels=2), subtype="PCM_16")
    stretch_file(src, folder / "out.wav", transpose=-2, tempo=1.1)
    stretch_file(src, folder / "out.flac", transpose=-2, tempo=1.1)
    for name in ("out.wav", "out.flac"):
        info = sf.info(str(folder / name))
        assert (info.subtype, info.channels, info.frames) == ("PCM_24", 2, round(RATE * 0.5 / 1.1))
    assert sorted(p.name for p in folder.iterdir()) == ["out.flac", "out.wav", "src.wav"]


def test_progress_rises_to_one(folder):
    src = write(folder, sine(3.0))
    seen: list[float] = []
    stretch_file(src, folder / "out.wav", transpose=2, tempo=1.0, progress=seen.append)
    assert seen[-1] == 1.0 and len(seen) > 10
    assert seen == sorted(seen) and all(0 <= f <= 1 for f in seen)


def test_cancel_mid_way_leaves_no_output(folder):
    src = write(folder, sine(20.0, channels=2))
    seen: list[float] = []
    with pytest.raises(StretchCancelled):
        stretch_file(src, folder / "out.wav", transpose=-2, tempo=0.9, progress=seen.append,
                     cancelled=lambda: bool(seen) and seen[-1] > 0.3)
    assert 0.3 < seen[-1] < 1.0
    assert [p.name for p in folder.iterdir()] == ["src.wav"]


def test_a_cancel_keeps_the_old_output(folder):
    src = write(folder, sine(0.5))
    (folder / "out.wav").write_bytes(b"old")
    with pytest.raises(StretchCancelled):
        stretch_file(src, folder / "out.wav", transpose=1, tempo=1.0, cancelled=lambda: True)
    assert (folder / "out.wav").read_bytes() == b"old"


@pytest.mark.parametrize("kwargs, words", [
    ({"transpose": 13, "tempo": 1.0}, "transpose = 13 is outside -12..12"),
    ({"transpose": -12.5, "tempo": 1.0}, "transpose = -12.5 is outside -12..12"),
    ({"transpose": math.nan, "tempo": 1.0}, "transpose = nan is outside"),
    ({"transpose": 0, "tempo": 0}, "tempo = 0 is outside 0.5..2"),
    ({"transpose": 0, "tempo": 5}, "tempo = 5 is outside 0.5..2"),
    ({"transpose": 0, "tempo": -1.0}, "tempo = -1.0 is outside 0.5..2"),
    ({"transpose": 0, "tempo": math.nan}, "tempo = nan is outside 0.5..2"),
    ({"transpose": 0, "tempo": math.inf}, "tempo = inf is outside 0.5..2"),
])
def test_bad_numbers_are_refused_with_the_range(folder, kwargs, words):
    src = write(folder, sine(0.1))
    with pytest.raises(ValueError, match=words.replace(".", r"\.").replace("+", r"\+")):
        stretch_file(src, folder / "out.wav", **kwargs)
    assert not (folder / "out.wav").exists()


@pytest.mark.parametrize("kwargs", [{"transpose": "2", "tempo": 1.0}, {"transpose": 0, "tempo": None},
                                    {"transpose": True, "tempo": 1.0},
                                    {"transpose": 0, "tempo": 1.0, "keep_pitch": "yes"}])
def test_wrong_types_are_type_errors(folder, kwargs):
    with pytest.raises(TypeError):
        stretch_file(write(folder, sine(0.1)), folder / "out.wav", **kwargs)


def test_an_output_that_is_not_wav_or_flac_is_refused(folder):
    with pytest.raises(ValueError, match=r"out\.mp3: the output must be a \.wav or \.flac"):
        stretch_file(write(folder, sine(0.1)), folder / "out.mp3", transpose=0, tempo=1.0)


def test_a_missing_or_broken_source_is_named(folder):
    with pytest.raises(StretchError, match=r"gone\.wav: cannot read it as audio"):
        stretch_file(folder / "gone.wav", folder / "out.wav", transpose=0, tempo=1.0)
    (folder / "junk.wav").write_bytes(b"RIFF not really")
    with pytest.raises(StretchError, match=r"junk\.wav: cannot read it as audio"):
        stretch_file(folder / "junk.wav", folder / "out.wav", transpose=0, tempo=1.0)
    assert sorted(p.name for p in folder.iterdir()) == ["junk.wav"]


def test_a_missing_engine_says_how_to_install_it(folder, monkeypatch):
    src = write(folder, sine(0.1))
    monkeypatch.setenv("PATH", str(folder / "nothing-here"))
    with pytest.raises(StretchError, match=r"'rubberband'.*not installed.*apt install rubberband-cli"):
        stretch_file(src, folder / "out.wav", transpose=0, tempo=1.0)
    assert [p.name for p in folder.iterdir()] == ["src.wav"]


def test_engine_version_names_engine_version_and_settings():
    version = stretch.ENGINE_VERSION
    assert version.startswith("rubberband 3.") and "--crisp=4" in version and "-F" in version
    assert version == stretch.engine_version()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(transpose=st.floats(-12, 12), tempo=st.floats(0.5, 2.0),
       frames=st.integers(1, 6000), keep_pitch=st.booleans())
def test_any_setting_in_range_gives_the_exact_length_and_finite_audio(
        folder, transpose, tempo, frames, keep_pitch):
    rng = np.random.default_rng(frames)
    src = write(folder, (0.3 * rng.standard_normal((frames, 2))).astype(np.float32), "h.wav")
    stretch_file(src, folder / "h-out.flac", transpose=transpose, tempo=tempo,
                 keep_pitch=keep_pitch)
    out, rate = sf.read(str(folder / "h-out.flac"), dtype="float32", always_2d=True)
    assert (rate, out.shape) == (RATE, (round(frames / tempo), 2))
    assert np.isfinite(out).all()
