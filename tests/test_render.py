"""`backline render` equals an independent numpy mix, to the sample."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from appliance.audio.mix.click import click_sounds
from appliance.audio.disk.loaded import load
from appliance.audio.render import RenderRange, render
from appliance.config import load_config
from appliance.errors import Problems
from appliance.timeline.grid import ACCENT, BEAT

from conftest import RATE, beats_csv, make_song, run_cli, tone, write_config

CONFIG = '''
[audio]
channels = 8

[outputs]
foh = [1, 2]
ears = [3, 4]
click = [5, 3, 4]
cue = [6]
'''

SONG = '''
title = "Reference"
count_in = 1

[[tempo]]
bar = 1
bpm = 100
meter = "4/4"

[[tempo]]
bar = 3
bpm = 137
meter = "3/4"

[click]
level_db = -10

[[stem]]
file = "drums.wav"

[[stem]]
file = "keys.flac"
gain_db = -6
route = { foh = [1, 2] }

[[stem]]
file = "bass.aiff"
route = ["foh", "cue"]
gain_db = 3.5

[[stem]]
file = "pad.wav"
route = { ears = [2] }
gain_db = -2

[[stem]]
file = "muted.wav"
muted = true
'''

# stem file -> (seconds, rate, channels, subtype)
STEMS = {
    "drums.wav": (7.0, 48000, 1, "FLOAT"),
    "keys.flac": (6.2, 44100, 2, "PCM_24"),
    "bass.aiff": (5.5, 44100, 1, "PCM_24"),
    "pad.wav": (7.4, 48000, 2, "PCM_16"),
    "muted.wav": (3.0, 48000, 1, "FLOAT"),
}
# what each stem's channels reach: (file channel, device channel, extra gain)
ROUTES = {
    "drums.wav": [(0, 0, 1), (0, 1, 1), (0, 2, 1), (0, 3, 1)],
    "keys.flac": [(0, 0, 1), (1, 1, 1)],
    "bass.aiff": [(0, 0, 1), (0, 1, 1), (0, 5, 1)],
    "pad.wav": [(1, 2, 1), (1, 3, 1)],
    "muted.wav": [],
}
GAINS_DB = {"drums.wav": 0, "keys.flac": -6, "bass.aiff": 3.5, "pad.wav": -2, "muted.wav": 0}


@pytest.fixture
def song(library: Path, tmp_path: Path) -> tuple[Path, Path]:
    folder = library / "songs" / "reference"
    folder.mkdir(parents=True)
    (folder / "song.toml").write_text(SONG)
    for i, (name, (secs, rate, ch, subtype)) in enumerate(STEMS.items()):
        sf.write(str(folder / name), tone(secs, rate, 110 * (i + 1), ch, seed=i), rate,
                 subtype=subtype)
    cfg = write_config(tmp_path / "config.toml",
                       CONFIG + f'\n[library]\ncache = "{tmp_path / "cache"}"\n')
    return folder, cfg


def reference_mix(folder: Path, cfg: Path, count_in: bool = True) -> np.ndarray:
    stems = {}
    for name in STEMS:
        x, rate = sf.read(str(folder / name), dtype="float32", always_2d=True)
        if rate != RATE:
            x = soxr.resample(x, rate, RATE, quality="HQ")
        stems[name] = x.astype(np.float64)
    length = max(len(x) for x in stems.values())
    rows = beats_csv(run_cli("beats", folder, "--config", cfg,
                             *(["--count-in"] if count_in else [])).out)
    offset = int(rows[4]["frame"]) if count_in else 0     # one 4/4 count-in bar
    out = np.zeros((offset + length + RATE, 8))
    for name, x in stems.items():
        g = 10 ** (GAINS_DB[name] / 20)
        for src, dst, extra in ROUTES[name]:
            out[offset: offset + len(x), dst] += x[:, src] * g * extra
    sounds = click_sounds(RATE, -10)
    for row in rows:
        f = int(row["frame"])
        s = sounds[ACCENT if row["beat"] == "1" else BEAT].astype(np.float64)
        for dst in (4, 2, 3):
            out[f: f + len(s), dst] += s
    return out[: offset + length]


def test_render_equals_reference_mix(song, tmp_path):
    folder, cfg = song                  # the mix is checked here; the song is loud (+0.2 dBTP)
    cfg.write_text(cfg.read_text() + "[limiter]\non = false\n")   # so no safety limiter
    r = run_cli("render", folder, "-o", tmp_path / "out.wav", "--config", cfg)
    assert r.code == 0, r.err
    got, rate = sf.read(str(tmp_path / "out.wav"), dtype="float64", always_2d=True)
    want = reference_mix(folder, cfg)
    assert rate == RATE and got.shape == want.shape
    assert np.abs(got - want).max() < 1e-6
    assert np.abs(got[:, 4]).max() > 0.1           # the click is there
    assert not got[:, 6:].any()                     # unrouted channels stay silent


def test_count_in_is_click_only_then_stems_start_at_bar_one(song, tmp_path):
    folder, cfg = song
    run_cli("render", folder, "-o", tmp_path / "out.wav", "--config", cfg)
    got, _ = sf.read(str(tmp_path / "out.wav"), always_2d=True)
    bar_one = 4 * 60 * RATE // 100
    assert not got[:bar_one, [0, 1, 5]].any()
    assert np.abs(got[bar_one: bar_one + 100, 0]).max() > 0


def test_render_from_a_bar_matches_the_full_render(song, tmp_path):
    folder, cfg = song
    run_cli("render", folder, "-o", tmp_path / "full.wav", "--config", cfg, "--no-count-in")
    r = run_cli("render", folder, "-o", tmp_path / "part.wav", "--config", cfg,
                "--from", "3", "--bars", "1")
    assert r.code == 0, r.err
    full, _ = sf.read(str(tmp_path / "full.wav"), dtype="float32", always_2d=True)
    part, _ = sf.read(str(tmp_path / "part.wav"), dtype="float32", always_2d=True)
    bar3 = 8 * 60 * RATE // 100                      # two 4/4 bars at 100
    bar4 = bar3 + round(3 * 60 * RATE / 137)         # one 3/4 bar at 137
    ci = round(3 * 60 * RATE / 137)                  # count-in: one bar of 3/4 at 137
    assert len(part) == ci + bar4 - bar3
    assert not part[:ci, [0, 1]].any()               # count-in: click only
    assert np.abs(part[:ci, 4]).max() > 0.1
    # the same samples; only float32 rounding may differ where blocks fall differently
    assert np.abs(part[ci:] - full[bar3:bar4]).max() < 1e-6


def test_render_seconds_and_24_bit(song, tmp_path):
    folder, cfg = song
    run_cli("render", folder, "-o", tmp_path / "f.wav", "--config", cfg, "--seconds", "2.5")
    run_cli("render", folder, "-o", tmp_path / "i.wav", "--config", cfg, "--seconds", "2.5",
            "--format", "24")
    f, _ = sf.read(str(tmp_path / "f.wav"), always_2d=True)
    i, _ = sf.read(str(tmp_path / "i.wav"), always_2d=True)
    assert sf.info(str(tmp_path / "i.wav")).subtype == "PCM_24"
    assert len(f) == len(i) == 4 * 60 * RATE // 100 + int(2.5 * RATE)
    assert np.abs(f - i).max() <= 2.0 ** -23 + 1e-12


def test_output_does_not_depend_on_block_size(song, tmp_path):
    folder, cfg = song
    config = load_config(cfg)
    outs = []
    for block in (4096, 127):
        problems = Problems()
        loaded = load(folder, config, problems, block=block)
        render(loaded, tmp_path / f"b{block}.wav", RenderRange())
        loaded.close()
        outs.append(sf.read(str(tmp_path / f"b{block}.wav"), dtype="float32")[0])
    assert outs[0].shape == outs[1].shape
    assert np.abs(outs[0] - outs[1]).max() < 1e-6


def test_solo_and_output_level(song, tmp_path):
    folder, cfg = song
    loaded = load(folder, load_config(cfg), Problems(), block=1024)
    loaded.mixer.input("keys").solo = True
    loaded.mixer.output_gain_db["foh"] = -6.0
    loaded.mixer.update(glide=False)
    out = np.zeros((1024, 8), np.float32)
    loaded.start(blocking=True)
    loaded.mixer.mix_into(out, 48000)
    keys, _ = sf.read(str(folder / "keys.flac"), dtype="float32", always_2d=True)
    keys = soxr.resample(keys, 44100, RATE, quality="HQ")[48000:49024]
    g = 10 ** (-6 / 20) * 10 ** (-6 / 20)
    assert np.abs(out[:, :2] - keys * g).max() < 1e-6
    assert not out[:, 5].any()                      # bass (not soloed) is gone from cue
    loaded.close()


def test_broken_stem_renders_the_rest_and_warns(song, tmp_path):
    folder, cfg = song
    (folder / "bass.aiff").write_bytes(b"FORM....not really")
    r = run_cli("render", folder, "-o", tmp_path / "out.wav", "--config", cfg)
    assert r.code == 0
    assert "song.toml: stem[3].file: 'bass.aiff' is not usable audio" in r.err
    got, _ = sf.read(str(tmp_path / "out.wav"), always_2d=True)
    assert not got[:, 5].any()                      # the cue only had bass
    assert np.abs(got[:, 0]).max() > 0.1


def test_resampling_happens_once_into_the_cache(song, tmp_path):
    folder, cfg = song
    config = load_config(cfg)
    load(folder, config, Problems(), block=256).close()
    cached = sorted((tmp_path / "cache").iterdir())
    assert [p.name.split("-")[0] for p in cached] == ["bass", "keys"]
    stamps = [p.stat().st_mtime_ns for p in cached]
    load(folder, config, Problems(), block=256).close()
    assert [p.stat().st_mtime_ns for p in sorted((tmp_path / "cache").iterdir())] == stamps
    # a changed stem gets a new cache entry
    sf.write(str(folder / "keys.flac"), tone(1.0, 44100, 300, 2), 44100, subtype="PCM_24")
    load(folder, config, Problems(), block=256).close()
    assert len(list((tmp_path / "cache").iterdir())) == 3


def test_click_only_song_renders_its_length(library, tmp_path):
    folder = make_song(library, "click", 'length_bars = 2\n[[tempo]]\nbar = 1\nbpm = 120\n'
                                         'meter = "6/8"\n[click]\neighths = true\n')
    r = run_cli("render", folder, "-o", tmp_path / "c.wav")
    assert r.code == 0, r.err
    got, _ = sf.read(str(tmp_path / "c.wav"), always_2d=True)
    assert len(got) == 2 * 3 * RATE // 2            # two bars of 6/8 at quarter = 120
    assert not got[:, 0].any()                       # the click is on channel 2 only
    onsets = np.flatnonzero(np.abs(got[:, 1]) > 0)
    starts = [onsets[0]] + [b for a, b in zip(onsets, onsets[1:]) if b - a > 100]
    assert starts == [i * RATE // 4 for i in range(12)]   # every eighth clicks
    loud = [np.abs(got[s: s + 500, 1]).max() for s in starts]
    assert loud[0] > loud[3] > loud[1]               # accent, pulse, eighth


def test_render_from_outside_the_song(song, tmp_path):
    folder, cfg = song
    r = run_cli("render", folder, "-o", tmp_path / "x.wav", "--config", cfg, "--from", "99")
    assert r.code == 1
    assert "--from: bar 99 is outside the song (bars 1 to " in r.err


def test_render_into_a_folder_that_does_not_exist_says_so(song, tmp_path):
    folder, cfg = song
    r = run_cli("render", folder, "-o", tmp_path / "nowhere" / "x.wav", "--config", cfg)
    assert r.code == 1
    assert r.err.strip().splitlines()[-1] == \
        f"{tmp_path / 'nowhere' / 'x.wav'}: the folder {tmp_path / 'nowhere'} does not exist"
    assert "Traceback" not in r.err


def test_a_disk_that_fills_during_a_render_leaves_no_file_under_its_name(song, tmp_path,
                                                                         tiny_disk):
    folder, cfg = song
    disk = tiny_disk("300k")                 # 8 channels of float: full in under a second
    out = disk / "x.wav"
    out.write_bytes(b"the previous render")
    r = run_cli("render", folder, "-o", out, "--config", cfg)
    assert r.code == 1
    assert r.err.strip().splitlines()[-1] == f"{out}: cannot write: the disk is full"
    assert "Traceback" not in r.err
    assert [p.name for p in disk.iterdir()] == ["x.wav"]    # no temporary file left
    assert out.read_bytes() == b"the previous render"       # nor half a render in its place
    r = run_cli("render", folder, "-o", out, "--config", cfg, "--seconds", "0.1",
                "--no-count-in")
    assert r.code == 0, r.err                # the temporary name does not get in the way
    assert [p.name for p in disk.iterdir()] == ["x.wav"]
    assert sf.info(str(out)).frames == RATE // 10

