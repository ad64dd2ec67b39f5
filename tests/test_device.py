"""The device interface: the engine runs on any backend module that implements
`appliance.audio.backends.device`, chosen by config or environment the way mido chooses its
backend; ALSA capture is its own class, with no write."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from appliance.audio.backends import ENV
from appliance.audio.backends.alsa import AlsaCapture, AlsaPlayback
from appliance.audio.player import Player
from appliance.config import Config, load_config
from appliance.errors import BacklineError, Problems
from appliance.vocab import commands as c
from appliance.vocab.state import TransportState

import null_backend
from conftest import run_cli, wait_for
from transport_rig import BAR, CONFIG, position_song


@pytest.fixture(autouse=True)
def no_backend_env(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    null_backend.OPENED.clear()


def test_an_alsa_capture_only_reads():
    assert not issubclass(AlsaCapture, AlsaPlayback)
    assert not hasattr(AlsaCapture, "write") and hasattr(AlsaCapture, "read")
    assert not hasattr(AlsaPlayback, "read") and hasattr(AlsaPlayback, "write")


def config_file(tmp_path: Path, audio: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"[audio]\n{audio}\n")
    return path


def devices(tmp_path: Path, config: Config) -> tuple[object, object]:
    """The playback and capture a player makes for `config` (an idle show, not started)."""
    folder = position_song(tmp_path / "lib", "s", bars=1)
    p = Player.open(folder, config, Problems())
    p.stop()                      # its loader readied the song (disk threads) when it was made
    return p.engine.device, p.engine.capture


def test_the_backend_is_alsa_unless_the_config_or_the_environment_says(tmp_path, monkeypatch):
    config = Config(cache=tmp_path / "cache", input_channels=2, inputs={"mic": 1})
    out, cap = devices(tmp_path, config)
    assert type(out) is AlsaPlayback and type(cap) is AlsaCapture
    config = load_config(config_file(tmp_path, 'backend = "null_backend"\nformat = "FLOAT_LE"\n'
                                               "inputs = 2"))
    assert config.backend == "null_backend"
    out, cap = devices(tmp_path, config)
    assert type(out) is null_backend.NullPlayback and type(cap) is null_backend.NullCapture
    assert not hasattr(cap, "write")
    monkeypatch.setenv(ENV, "appliance.audio.backends.alsa")      # a full module path wins
    out, _ = devices(tmp_path, config)
    assert type(out) is AlsaPlayback


@pytest.mark.parametrize("name, says", [
    ("jack", "no audio backend 'jack'"),
    ("no.such.module", "no audio backend 'no.such.module'"),
    ("", "no audio backend ''"),
    ("json", "'json' is no audio backend: it lacks SAMPLE_FORMATS, playback, capture"),
])
def test_a_bad_backend_in_the_config_names_the_file_the_field_and_what_is_allowed(
        tmp_path, name, says):
    path = config_file(tmp_path, f'backend = "{name}"')
    with pytest.raises(BacklineError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: audio.backend: {says}")
    if "lacks" not in says:
        assert str(err.value).endswith("give one of alsa, or a backend module's full path such "
                                       "as appliance.audio.backends.alsa")


def test_a_bad_backend_in_the_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "pipewire")
    with pytest.raises(BacklineError, match=r"^\$BACKLINE_AUDIO_BACKEND: no audio backend "
                                            r"'pipewire': give one of alsa"):
        load_config(config_file(tmp_path, 'device = "default"'))
    with pytest.raises(BacklineError, match=r"^\$BACKLINE_AUDIO_BACKEND: no audio backend"):
        devices(tmp_path, Config(cache=tmp_path / "cache"))     # no config file: the player says


def test_the_sample_formats_are_the_backends(tmp_path):
    path = config_file(tmp_path, 'backend = "null_backend"\nformat = "S32_LE"')
    with pytest.raises(BacklineError, match="audio.format: must be one of FLOAT_LE, not 'S32_LE'"):
        load_config(path)


def test_the_engine_on_a_pure_python_backend_writes_exactly_the_render(library, tmp_path):
    folder = position_song(library, "s", bars=2, count_in=1)
    config = Config(cache=tmp_path / "cache", backend="null_backend",
                    **{**CONFIG, "format": "FLOAT_LE"})
    p = Player.open(folder, config, Problems())
    p.send(c.Play())
    with p:
        assert wait_for(lambda: p.state.transport == TransportState.STOPPED
                        and p.state.output_frame > 4 * BAR)
    out = p.engine.device
    assert isinstance(out, null_backend.NullPlayback) and null_backend.OPENED == [out]
    assert not out.is_open                                   # stop closed it
    got = out.frames[: min(out.written, null_backend.CAPACITY)]
    cfg = tmp_path / "c.toml"
    cfg.write_text('[outputs]\nfoh = [1]\nclick = [2]\n')
    run_cli("render", folder, "-o", tmp_path / "ref.wav", "--config", cfg)
    ref, _ = sf.read(str(tmp_path / "ref.wav"), dtype="float32")
    d = p.engine.delay                                       # the safety limiter's look-ahead
    assert ref.any() and not got[:d].any()
    assert np.array_equal(got[d: d + len(ref)], ref)
    assert not got[d + len(ref):].any()

