"""The audience never hears the click: the default layout, the profiles, and what
`backline check` says about a click routed into FOH or a route the box lacks."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from appliance import config as config_module
from appliance.config import click_in_front, load_config

from conftest import beats_csv, make_song, run_cli, tone

PROFILES = sorted((Path(__file__).parents[1] / "hw" / "profiles").glob("*.toml"))
CLICK_SONG = 'length_bars = 2\n[[tempo]]\nbar = 1\nbpm = 120\n'


def _no_config(monkeypatch, tmp_path):
    monkeypatch.delenv("BACKLINE_CONFIG")
    monkeypatch.setattr(config_module, "SYSTEM_CONFIG", tmp_path / "no-such-config.toml")


def _render(tmp_path, name, *config):
    out = tmp_path / f"{name}.wav"
    r = run_cli("render", "demo", "-o", out, "--bars", "3", *config)
    assert r.code == 0, r.err
    return sf.read(str(out), dtype="float32", always_2d=True)[0]


def test_render_demo_without_a_config_keeps_the_click_off_channel_1(tmp_path, monkeypatch):
    _no_config(monkeypatch, tmp_path)
    got = _render(tmp_path, "default")
    cache = f'[library]\ncache = "{tmp_path / "cache"}"\n'
    tracks_only = tmp_path / "tracks.toml"
    tracks_only.write_text(cache + "[outputs]\nfoh = [1]\n")
    click_only = tmp_path / "click.toml"
    click_only.write_text(cache + "[outputs]\nclick = [2]\n")
    tracks = _render(tmp_path, "tracks", "--config", tracks_only)
    click = _render(tmp_path, "click", "--config", click_only)
    assert got.shape == tracks.shape == click.shape and got.shape[1] == 2
    assert np.array_equal(got[:, 0], tracks[:, 0])     # channel 1: the tracks, no click
    assert np.array_equal(got[:, 1], click[:, 1])      # channel 2: the click, no tracks
    assert not click[:, 0].any() and not tracks[:, 1].any()
    beats = beats_csv(run_cli("beats", "demo", "--count-in").out)
    for b in beats:                                    # every beat clicks on 2 only
        frame = int(b["frame"])
        if frame < len(got):
            assert np.abs(got[frame: frame + 200, 1]).max() > 0.05, b
    count_in = int(next(b["frame"] for b in beats if b["bar"] == "1"))
    assert not got[:count_in, 0].any()                 # the count-in: nothing on FOH at all
    assert np.abs(got[count_in:, 0]).max() > 0.05      # the tracks play on 1


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_every_profile_puts_the_click_in_the_ears_only(profile):
    config = load_config(profile)
    assert "click" in config.outputs and "foh" in config.outputs
    assert click_in_front(config.outputs, "click") == []
    r = run_cli("check", Path(config_module.DEMO_LIBRARY), "--config", profile)
    assert r.code == 0 and "hears" not in r.err, r.err


def test_an_eight_channel_box_without_outputs_has_stereo_foh_and_the_click_on_3(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[audio]\nchannels = 8\n")
    assert load_config(cfg).outputs == {"foh": (1, 2), "click": (3,)}


def test_check_warns_when_the_config_puts_the_click_in_foh(library, tmp_path):
    make_song(library, "s", CLICK_SONG)
    cfg = tmp_path / "c.toml"
    cfg.write_text("[outputs]\nmain = [1, 2]\nclick = [2]\n")
    r = run_cli("check", library, "--config", cfg)
    assert r.code == 0
    assert (f"{cfg}: warning: outputs.click: shares device channels with 'main': "
            "the audience hears the click") in r.err
    assert "0 errors, 1 warnings" in r.err
    assert run_cli("render", library / "songs" / "s", "-o", tmp_path / "o.wav",
                   "--config", cfg).code == 0          # it still plays as configured


def test_check_warns_when_a_song_sends_the_click_to_foh(library):
    song = make_song(library, "s", CLICK_SONG + '[click]\noutput = "foh"\n')
    r = run_cli("check", library)
    assert (f"{song / 'song.toml'}: warning: click.output: the click goes to 'foh', which the "
            "audience hears through 'foh'") in r.err, r.err
    assert "0 errors, 1 warnings" in r.err


def test_check_warns_for_a_song_click_output_that_shares_channels_with_pa(library, tmp_path):
    song = make_song(library, "s", CLICK_SONG + '[click]\noutput = "ears"\n')
    cfg = tmp_path / "c.toml"
    cfg.write_text("[outputs]\npa = [1]\nears = [1, 2]\nclick = [2]\n")
    r = run_cli("check", library, "--config", cfg)
    assert (f"{song / 'song.toml'}: warning: click.output: the click goes to 'ears', which the "
            "audience hears through 'pa'") in r.err, r.err


def test_a_one_channel_box_leaves_the_click_out_and_check_says_so(library, tmp_path):
    make_song(library, "s", CLICK_SONG)
    cfg = tmp_path / "c.toml"
    cfg.write_text("[audio]\nchannels = 1\n")
    assert load_config(cfg).outputs == {"foh": (1,)}
    r = run_cli("check", library, "--config", cfg)
    assert (f"{cfg}: warning: outputs: one channel has no room for the click apart from FOH, "
            "so it is left out; `click = [1]` under [outputs] puts it there") in r.err, r.err
    cfg.write_text("[audio]\nchannels = 1\n[outputs]\nfoh = [1]\nclick = [1]\n")
    r = run_cli("check", library, "--config", cfg)
    assert "outputs.click: shares device channels with 'foh'" in r.err, r.err


def test_check_warns_for_a_route_the_configured_box_lacks_as_render_does(library, tmp_path):
    song = make_song(library, "s", CLICK_SONG + '[[stem]]\nfile = "x.wav"\nroute = ["monitors"]\n',
                     {"x.wav": (tone(1, 48000, 220), 48000)})
    line = (f"{song / 'song.toml'}: warning: x: output 'monitors' is not on this box; "
            "known outputs: foh, click")
    rendered = run_cli("render", song, "-o", tmp_path / "o.wav")
    checked = run_cli("check", library)
    assert line in rendered.err and line in checked.err, (rendered.err, checked.err)
    assert checked.code == 0 and "0 errors, 1 warnings" in checked.err
