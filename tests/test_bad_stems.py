"""Each kind of broken stem: one line naming song.toml and the stem's field."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from appliance.audio.disk.stems import StemReader
from appliance.vocab.state import clock

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
    data[48000 + 100, 1] = np.nan               # 0:01.002, said as 0:01.0
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
        "vocals.wav: NaN or infinite samples from 0:01.0 on, played as silence"]


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
    from appliance.audio.disk.stems import inspect_stem
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


# -- a FLAC damaged mid-stream: it passes the quick check, so the damage is found as it
# plays; the frames before it play, the stem is silent from its first bad frame on

def _damaged_flac(path, seconds=4.0, at=0.5):
    """A 16-bit FLAC (lossless: the good frames decode exactly) with bytes flipped at
    `at` of its length; returns what the file held before the damage."""
    data = tone(seconds, 48000, 300)
    sf.write(str(path), data, 48000, subtype="PCM_16", format="FLAC")
    clean = sf.read(str(path), dtype="float32", always_2d=True)[0]
    raw = bytearray(path.read_bytes())
    mid = int(len(raw) * at)
    raw[mid:mid + 64] = bytes(b ^ 0xFF for b in raw[mid:mid + 64])
    path.write_bytes(bytes(raw))
    return clean


def _last_good_read(path, step=1024):
    """Where a plain stepwise read of the file first fails (independent of StemReader)."""
    pos = 0
    with sf.SoundFile(str(path)) as f:
        try:
            while f.read(step, dtype="float32").shape[0] == step:
                pos += step
        except sf.LibsndfileError:
            return pos
    raise AssertionError("the damaged file decoded whole")


def test_a_flac_damaged_mid_stream_plays_up_to_its_first_bad_frame(tmp_path):
    path = tmp_path / "bass.flac"
    clean = _damaged_flac(path)
    reader = StemReader(path, 1, len(clean))
    out = np.zeros((len(clean), 1), np.float32)
    for start in range(0, len(clean), 16384):        # as the disk thread reads: chunks
        reader.read_into(start, out[start:start + 16384])
    bad = reader.failed_at
    good = _last_good_read(path)
    assert good <= bad < good + 1024 and bad < len(clean) * 0.6
    assert np.array_equal(out[:bad], clean[:bad])     # every frame before the damage plays
    assert not out[bad:].any()                        # silent from there, never noise
    assert reader.failed == "bass.flac: flac decoder lost sync."


def test_check_passes_a_flac_damaged_mid_stream_and_check_deep_finds_it(library):
    folder = _song(library, "x.flac")
    _damaged_flac(folder / "x.flac", seconds=2.0)
    reader = StemReader(folder / "x.flac", 1, 96000)
    reader.read_into(0, np.zeros((96000, 1), np.float32))
    when = clock(reader.failed_at / 48000)
    assert run_cli("check", folder).code == 0          # the quick check reads only the tail
    r = run_cli("check", "--deep", folder)
    assert r.code == 1
    assert f"{folder / 'song.toml'}: stem[2].file: 'x.flac' cannot be decoded from {when} on: " \
           "flac decoder lost sync." in r.err, r.err
    assert "good.wav" not in r.err and "Traceback" not in r.err


def test_render_says_which_stem_went_silent_and_from_when_and_keeps_the_file(library, tmp_path):
    folder = _song(library, "x.flac", extra='route = ["click"]\n')
    _damaged_flac(folder / "x.flac", seconds=2.0)
    reader = StemReader(folder / "x.flac", 1, 96000)
    reader.read_into(0, np.zeros((96000, 1), np.float32))
    out = tmp_path / "out.wav"
    r = run_cli("render", folder, "-o", out, "--no-count-in")
    assert r.code == 1                                 # written, but a musician must know
    assert f"{out}: x.flac silent from {clock(reader.failed_at / 48000)}: " \
           "flac decoder lost sync." in r.err, r.err
    assert "Traceback" not in r.err
    assert sf.info(str(out)).frames > 0                # the render is kept


def test_the_state_says_which_stem_went_silent_and_from_when(library, tmp_path):
    from appliance.audio.disk.show import Show
    from appliance.ui.trouble import lasting
    from appliance.vocab import commands as c
    from transport_rig import BAR, close, position_song, rig, run

    folder = position_song(library, "dmg", bars=2, extra='[[stem]]\nfile = "x.flac"\n')
    _damaged_flac(folder / "x.flac", seconds=4.0)
    t = rig(Show.of_song(folder), tmp_path)
    try:
        run(t, 2 * BAR, {0: [c.Play()]})
        s = t.snapshot()
    finally:
        close(t)
    bad = t.song.stream.readers[1].failed_at
    assert 0 < bad < 2 * BAR
    problem = f"x.flac silent from {clock(bad / 48000)}"
    assert s.stem_problems == (f"{problem}: flac decoder lost sync.",)
    assert s.failed_stems == ("x",)
    assert lasting(s) == f"STEM FAILED: {problem}"     # what the display shows
