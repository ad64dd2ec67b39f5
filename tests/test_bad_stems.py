"""Each kind of broken stem: one line naming song.toml and the stem's field."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from appliance.audio.stems import StemReader

from conftest import make_song, run_cli, tone

SONG = 'length_bars = 2\n[[tempo]]\nbar = 1\nbpm = 120\n[[stem]]\nfile = "good.wav"\n' \
       '[[stem]]\nfile = "{file}"\n{extra}'


def _song(library, file, extra=""):
    folder = make_song(library, "s", SONG.format(file=file, extra=extra),
                       {"good.wav": (tone(2, 48000, 200), 48000)})
    return folder


def _truncate(path, keep):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _write(folder, name, channels=1, fmt=None, subtype="PCM_24"):
    sf.write(str(folder / name), tone(2, 48000, 300, channels), 48000, subtype=subtype, format=fmt)


CASES = {
    "missing": (lambda f: None, "stem[2].file: 'x.wav' not found"),
    "empty": (lambda f: (f / "x.wav").write_bytes(b""),
              "stem[2].file: 'x.wav' is not usable audio: empty file"),
    "not audio": (lambda f: (f / "x.wav").write_text("just some text, no audio"),
                  "stem[2].file: 'x.wav' is not usable audio: Format not recognised"),
    "zero frames": (lambda f: sf.write(str(f / "x.wav"), np.zeros((0, 1)), 48000),
                    "stem[2].file: 'x.wav' holds no audio (0 frames)"),
    "truncated wav": (lambda f: (_write(f, "x.wav"), _truncate(f / "x.wav", 0.5)),
                      "stem[2].file: 'x.wav' is truncated: its header promises 96000 frames, "
                      "the file holds 47"),
}


@pytest.mark.parametrize("case", CASES)
def test_broken_stem(library, case):
    make, message = CASES[case]
    folder = _song(library, "x.wav")
    make(folder)
    r = run_cli("check", folder)
    assert r.code == 1
    assert f"{folder / 'song.toml'}: {message}" in r.err, r.err
    assert "good.wav" not in r.err and "Traceback" not in r.err
    # and the song still renders with the good stem
    out = folder.parent.parent / "out.wav"
    r = run_cli("render", folder, "-o", out)
    assert r.code == 0
    assert np.abs(sf.read(str(out))[0]).max() > 0.1


def test_truncated_flac(library):
    folder = _song(library, "x.flac")
    _write(folder, "x.flac", fmt="FLAC", subtype="PCM_16")
    _truncate(folder / "x.flac", 0.6)
    r = run_cli("check", folder)
    assert r.code == 1
    assert "stem[2].file: 'x.flac' is damaged near its end:" in r.err


def test_truncated_aiff(library):
    folder = _song(library, "x.aiff")
    _write(folder, "x.aiff", fmt="AIFF")
    _truncate(folder / "x.aiff", 0.5)
    r = run_cli("check", folder)
    assert "stem[2].file: 'x.aiff' is truncated: its header promises 96000 frames" in r.err


def test_channel_map_beyond_the_file(library):
    folder = _song(library, "x.wav", extra="route = { foh = [1, 3] }\n")
    _write(folder, "x.wav", channels=2)
    r = run_cli("check", folder)
    assert r.code == 1
    assert "song.toml: stem[2].route.foh: channel 3 does not exist: 'x.wav' has 2" in r.err


def test_bad_stem_fields(library):
    folder = _song(library, "x.wav", extra='gain_db = "loud"\nroute = { foh = "all" }\nmute = true\n')
    _write(folder, "x.wav")
    r = run_cli("check", folder)
    assert "stem[2].gain_db: must be a number, not 'loud'" in r.err
    assert "stem[2].route.foh: must be a list of file channel numbers from 1, not 'all'" in r.err
    assert "stem[2].mute: unknown key" in r.err


def test_many_channels_onto_a_stereo_output_warns_and_the_rest_renders(library, tmp_path):
    folder = _song(library, "x.wav", extra='route = ["foh"]\n')
    _write(folder, "x.wav", channels=4)
    cfg = tmp_path / "stereo-foh.toml"
    cfg.write_text("[outputs]\nfoh = [1, 2]\nclick = [2]\n")
    r = run_cli("render", folder, "-o", tmp_path / "o.wav", "--config", cfg)
    assert r.code == 0
    assert "warning: x.route.foh: 4 channels cannot go onto 2; choose 2 of them in the route" in r.err


def test_route_to_an_output_the_box_lacks_warns(library, tmp_path):
    folder = _song(library, "x.wav", extra='route = ["monitors"]\n')
    _write(folder, "x.wav")
    r = run_cli("render", folder, "-o", tmp_path / "o.wav")
    assert r.code == 0
    assert "warning: x: output 'monitors' is not on this box; known outputs: foh, click" in r.err


def test_stem_that_becomes_unreadable_goes_silent(tmp_path):
    path = tmp_path / "s.wav"
    sf.write(str(path), tone(1, 48000, 200), 48000, subtype="FLOAT")
    reader = StemReader(path, 1, 48000)
    out = np.zeros((256, 1), np.float32)
    reader.read_into(0, out)
    assert np.abs(out).max() > 0
    reader._file.close()          # the file handle dies under the reader (a USB stick pulled)
    out.fill(1.0)
    reader.read_into(1000, out)
    assert not out.any()
    assert reader.failed and reader.failed.startswith("s.wav: ")


def test_nan_and_inf_samples_are_read_as_silence_counted_and_warned_once(tmp_path, caplog):
    path = tmp_path / "s.wav"
    data = np.full((48000 * 3, 2), 0.25, np.float32)
    data[48000 + 100, 1] = np.nan               # 0:01.002
    data[48000 + 101, 0] = np.inf
    data[2 * 48000, :] = -np.inf                # in a later block
    sf.write(str(path), data, 48000, subtype="FLOAT")
    reader = StemReader(path, 2, len(data), name="vocals.wav")
    out = np.empty((4096, 2), np.float32)
    with caplog.at_level("WARNING", logger="backline"):
        for start in range(0, len(data), 4096):
            reader.read_into(start, out)
            n = min(4096, len(data) - start)
            assert np.isfinite(out).all()
            expect = data[start:start + n].copy()
            expect[~np.isfinite(expect)] = 0.0
            assert np.array_equal(out[:n], expect)
    assert reader.nonfinite == 4
    assert [r.getMessage() for r in caplog.records] == [
        "vocals.wav: NaN or infinite samples from 0:01.002 on, played as silence"]


def test_a_render_of_a_stem_with_nan_samples_is_finite(library, tmp_path):
    data = tone(1, 48000, 220, channels=2)
    data[1000:1100] = np.nan
    folder = make_song(library, "nan", 'length_bars = 2\n[[tempo]]\nbar = 1\nbpm = 120\n'
                                       '[click]\nenabled = false\n[[stem]]\nfile = "a.wav"\n',
                       {"a.wav": (data, 48000)})
    out = tmp_path / "out.wav"
    r = run_cli("render", folder, "-o", out)
    assert r.code == 0, r.err
    rendered, _ = sf.read(str(out), dtype="float32")
    assert np.isfinite(rendered).all()
    assert not rendered[1000:1100].any() and rendered[2000:3000].any()


def test_a_stem_longer_than_24_hours_plays_its_first_24(tmp_path):
    from appliance.audio.stems import inspect_stem
    from appliance.errors import Problems
    from appliance.timeline.song import StemSpec

    path = tmp_path / "long.wav"            # 24 h and 2 s at 1 Hz: a small file
    sf.write(str(path), np.zeros((24 * 3600 + 2, 1), np.float32), 1, subtype="FLOAT")
    problems = Problems()
    info = inspect_stem(StemSpec("long", path, {"foh": None}), 1, 48000, tmp_path / "song.toml",
                        problems)
    assert info.frames == 24 * 3600 * 48000
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'song.toml'}: warning: stem[1].file: 'long.wav' lasts 24.0 hours; "
        "only its first 24 play"]
