"""The output safety limiter: bit for bit below the ceiling, never above it, no clicks."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import soundfile as sf
import soxr

from appliance.audio.mix.limiter import Limiter, links, true_peak, window_frames
from appliance.config import load_config
from appliance.errors import BacklineError

from conftest import make_song, run_cli, write_config

RATE = 48000
CEILING = 10 ** (-1 / 20)
OUTPUTS = {"foh": (1, 2), "ears": (3, 4)}


def through(lim: Limiter, x: np.ndarray, block: int = 128) -> np.ndarray:
    """`x` through the limiter period by period, with the look-ahead flushed: aligned."""
    out = x.astype(np.float32)
    for i in range(0, len(out), block):
        lim.process(out[i:i + block])
    return np.concatenate([out, lim.flush()])[lim.delay:]


def sine(seconds: float, freq: float, amp) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.asarray(amp) * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_below_the_ceiling_the_output_is_the_input_bit_for_bit_delayed():
    x = np.zeros((RATE, 4), np.float32)
    x[:, 0] = sine(1, 997, 0.88)             # near the ceiling (-1.1 dBFS): the full path runs
    x[:, 1] = sine(1, 50, 0.3)
    x[:, 2] = np.random.default_rng(1).uniform(-0.2, 0.2, RATE)   # far below: only delayed
    lim = Limiter(OUTPUTS, 4, RATE, 128)
    raw = x.copy()
    for i in range(0, RATE, 128):
        lim.process(x[i:i + 128])
    d = lim.delay
    assert d == window_frames(RATE) - 1 + 6 == 69
    assert not x[:d].any()
    assert np.array_equal(x[d:], raw[:-d])     # bit for bit
    assert lim.caught.sum() == 0


def test_a_loud_signal_stays_under_the_ceiling_with_no_step():
    x = np.zeros((RATE, 2), np.float32)
    amp = np.where(np.arange(RATE) < RATE // 4, 0.3, 2.0)[:RATE]   # a sudden +16 dB
    x[:, 0] = sine(1, 1000, amp)
    x[:, 1] = sine(1, 7919, amp * 0.9)         # inter-sample peaks: near the Nyquist
    lim = Limiter({"foh": (1, 2)}, 2, RATE, 128)
    y = through(lim, x)
    assert np.abs(y).max() <= CEILING
    assert true_peak(y) <= CEILING
    over4 = soxr.resample(y.astype(np.float64), RATE, 4 * RATE, quality="VHQ")
    assert 20 * math.log10(np.abs(over4).max() / CEILING) < 0.1   # an independent 4x: 0.1 dB
    at = np.flatnonzero(np.abs(x[:, 0]) > 0.05)
    gain = y[at, 0] / x[at, 0]
    per_frame = np.abs(np.diff(gain)) / np.diff(at)
    assert per_frame.max() <= 1.0 / lim.window + 1e-4      # a glide, not a step
    assert gain.min() < 0.5                    # it did turn down (2.0 -> under 0.89)
    assert lim.caught[0] > RATE * 3 // 4 and -7.2 < lim.caught_by_output()[0][2] < -6.0


def test_a_stereo_output_gets_one_gain_and_unlinked_outputs_keep_theirs():
    x = np.zeros((RATE // 2, 4), np.float32)
    x[:, 0] = sine(0.5, 440, 1.5)              # foh left: loud
    x[:, 1] = sine(0.5, 660, 0.2)              # foh right: quiet, turned down with the left
    x[:, 2] = sine(0.5, 550, 0.2)              # ears: untouched
    y = through(Limiter(OUTPUTS, 4, RATE, 128), x)
    mid = slice(RATE // 8, RATE // 2 - 200)
    assert np.allclose(y[mid, 1] / x[mid, 1], y[mid, 0] / x[mid, 0], rtol=1e-5, atol=1e-6)
    assert np.array_equal(y[:, 2], x[:, 2])


def test_outputs_sharing_a_device_channel_share_one_gain():
    assert links({"foh": (1, 2), "click": (1, 2), "ears": (3, 4)}, 6) == [
        (["foh", "click"], [0, 1]), (["ears"], [2, 3]), ([], [4]), ([], [5])]
    [(names, chans)] = links({"a": (1,), "b": (2,), "c": (1, 2)}, 2)
    assert sorted(names) == ["a", "b", "c"] and chans == [0, 1]


def test_the_period_size_does_not_change_the_output():
    x = np.random.default_rng(3).uniform(-1.6, 1.6, (RATE // 4, 4)).astype(np.float32)
    a = through(Limiter(OUTPUTS, 4, RATE, 128), x, 128)
    b = through(Limiter(OUTPUTS, 4, RATE, 37), x, 37)
    assert np.array_equal(a, b)


def test_nan_and_inf_in_the_audio_do_not_stick():
    lim = Limiter(OUTPUTS, 4, RATE, 128)
    bad = np.full((128, 4), 0.1, np.float32)
    bad[5, 0], bad[9, 2] = np.nan, np.inf
    lim.process(bad)
    quiet = np.tile(sine(4, 300, 0.2)[:, None], (1, 4))    # longer than a 120 dB release
    y = through(lim, quiet)                  # the bad period's frames went out before these
    assert np.isfinite(y).all()
    assert np.array_equal(y[-RATE // 2:], quiet[-RATE // 2:])


@pytest.mark.parametrize("text, message", [
    ("[limiter]\nceiling = nan\n", "c.toml: limiter.ceiling: must be a finite number, not nan"),
    ("[limiter]\nceiling = inf\n", "c.toml: limiter.ceiling: must be a finite number, not inf"),
    ("[limiter]\nceiling = 0.5\n", "c.toml: limiter.ceiling: must be a number of dBTP"),
    ("[limiter]\nceiling = \"-1\"\n", "c.toml: limiter.ceiling: must be a number"),
    ("[limiter]\non = 1\n", "c.toml: limiter.on: must be true or false"),
    ("[limiter]\nlookahead = 2\n", "c.toml: limiter.lookahead: unknown key"),
])
def test_bad_limiter_settings_name_the_file_and_field(tmp_path, text, message):
    with pytest.raises(BacklineError) as err:
        load_config(write_config(tmp_path / "c.toml", text))
    assert message in str(err.value)


def test_limiter_settings(tmp_path):
    c = load_config(write_config(tmp_path / "c.toml", "[limiter]\non = false\nceiling = -3\n"))
    assert (c.limiter, c.ceiling_db) == (False, -3.0)
    assert (load_config(write_config(tmp_path / "d.toml", "")).limiter,
            load_config(tmp_path / "d.toml").ceiling_db) == (True, -1.0)


LOUD_SONG = '''
title = "Loud"
count_in = 0
[[tempo]]
bar = 1
bpm = 120
[click]
level_db = -60
[[stem]]
file = "a.wav"
[[stem]]
file = "b.wav"
'''


@pytest.fixture
def loud(library, tmp_path):
    """Two stems that are each fine and sum to +4 dBFS."""
    t = np.arange(2 * RATE) / RATE
    a = (0.8 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    folder = make_song(library, "loud", LOUD_SONG)
    sf.write(str(folder / "a.wav"), a, RATE, subtype="FLOAT")
    sf.write(str(folder / "b.wav"), a, RATE, subtype="FLOAT")
    return folder


def test_render_24_bit_of_a_loud_song_is_limited_and_says_so(loud, tmp_path):
    cfg = write_config(tmp_path / "c.toml", f'[library]\ncache = "{tmp_path / "cache"}"\n')
    r = run_cli("render", loud, "-o", tmp_path / "o.wav", "--config", cfg, "--format", "24")
    assert r.code == 0, r.err
    y, _ = sf.read(str(tmp_path / "o.wav"), always_2d=True)
    assert len(y) == 2 * RATE                              # aligned: no leading delay
    assert np.abs(y).max() <= CEILING + 2 ** -23
    assert true_peak(y) <= CEILING + 2 ** -23
    assert "limiter: foh: " in r.err                        # the tracks, on channel 1
    assert "limiter: click: " not in r.err                  # the click alone on 2 is not loud
    assert "turned down, by up to 5." in r.err              # 1.6 -> 0.89: 5.1 dB
    assert "clipped" not in r.err


def test_render_with_the_limiter_off_says_what_24_bit_clipped(loud, tmp_path):
    cfg = write_config(tmp_path / "c.toml", f'[library]\ncache = "{tmp_path / "cache"}"\n'
                                            "[limiter]\non = false\n")
    r = run_cli("render", loud, "-o", tmp_path / "o.wav", "--config", cfg, "--format", "24")
    assert r.code == 0, r.err
    assert "limiter: off" in r.err
    clipped = int(r.err.split("o.wav: ")[-1].split(" samples")[0])
    assert clipped > RATE                                   # both channels, half of each cycle


def test_the_state_says_what_the_limiter_caught_per_output(loud, tmp_path, monkeypatch):
    from alsa_doubles import file_pcm, read_raw, use_config
    from appliance.audio.player import Player
    from appliance.config import Config
    from appliance.errors import Problems
    from appliance.vocab import commands as c
    from appliance.vocab.state import TransportState
    from conftest import wait_for

    use_config(monkeypatch, tmp_path, file_pcm("fakehat", tmp_path / "out.raw"))
    config = Config(cache=tmp_path / "cache", format="FLOAT_LE", period=128,
                    outputs={"foh": (1,), "click": (2,)})
    p = Player.open(loud, config, Problems(), device="fakehat")
    p.send(c.Play())
    with p:
        assert wait_for(lambda: p.state.transport == TransportState.STOPPED
                        and p.state.output_frame > 3 * RATE)
    limited = dict(p.state.limited)
    assert limited["foh"] > 1.9 * RATE and limited["click"] == 0
    got = read_raw(tmp_path / "out.raw", 2)
    assert np.abs(got).max() <= CEILING and true_peak(got[:, :1]) <= CEILING


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan, 3e38])
def test_a_bad_sample_does_not_turn_the_gain_down_nor_warn(bad):
    """inf, NaN or an absurd value are silence to the gain: the rest goes out bit for bit,
    and numpy says nothing from the audio thread. (At 0.5 the notch a silenced sample
    leaves cannot ring up to the ceiling through the FIR.)"""
    x = np.zeros((RATE // 2, 4), np.float32)
    x[:, 0] = sine(0.5, 997, 0.5)
    x[:, 1] = x[:, 0]
    x[1000, 0] = x[5000, 1] = x[5003, 1] = bad
    x[3000:3010, 2] = bad                  # a run of them, on an output of its own
    lim = Limiter(OUTPUTS, 4, RATE, 128)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = through(lim, x)
    fine = np.isfinite(x) & (np.abs(x) < 1.0)
    assert np.array_equal(y[fine], x[fine])
    assert lim.caught.sum() == 0


def test_check_deep_says_which_songs_the_limiter_would_turn_down(loud, library, tmp_path):
    t = np.arange(RATE) / RATE
    quiet = make_song(library, "quiet", LOUD_SONG)
    for name in ("a.wav", "b.wav"):
        sf.write(str(quiet / name), (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32),
                 RATE, subtype="FLOAT")
    cfg = write_config(tmp_path / "c.toml", f'[library]\ncache = "{tmp_path / "cache"}"\n')
    deep = run_cli("check", library, "--deep", "--config", cfg)
    assert deep.code == 0, deep.err
    assert (f"{loud / 'song.toml'}: warning: mixed as render would: limiter: foh: "
            in deep.err)
    assert "frames turned down, by up to 5.1 dB" in deep.err        # 1.6 -> 0.89
    assert str(quiet) not in deep.err and "click: " not in deep.err
    assert "0 errors, 1 warnings" in deep.err
    plain = run_cli("check", library, "--config", cfg)            # fast: nothing mixed
    assert plain.code == 0 and "limiter" not in plain.err


def test_check_deep_with_the_limiter_off_mixes_nothing(loud, library, tmp_path):
    cfg = write_config(tmp_path / "c.toml", f'[library]\ncache = "{tmp_path / "cache"}"\n'
                                            "[limiter]\non = false\n")
    r = run_cli("check", library, "--deep", "--config", cfg)
    assert r.code == 0 and "limiter" not in r.err and "0 errors, 0 warnings" in r.err
