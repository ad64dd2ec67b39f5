"""The voice: the built-in words, a user's words replacing them, and the spoken count-in
as `backline render` (what the box plays) puts it on the cue output."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from appliance.audio.disk.voice import (WordError, _built_in, load_words, read_word, shape,
                                         voiced_rms_db)
from appliance.errors import Problems
from appliance.timeline import grid
from appliance.timeline.cues import BUILT_IN
from appliance.timeline.song import load_song
from conftest import make_song, run_cli, write_config

RATE = 48000
CUE = 2                                   # the cue output's channel (0-based) in CONFIG
CONFIG = "[audio]\nrate = 48000\nchannels = 3\n[outputs]\nfoh = [1]\nclick = [2]\ncue = [3]\n"


def onsets(x: np.ndarray, threshold: float = 0.003, silence: int = RATE // 10) -> list[int]:
    """Frames where sound starts after at least `silence` frames of quiet."""
    loud = np.flatnonzero(np.abs(x) > threshold)
    if not loud.size:
        return []
    return [int(loud[0])] + [int(b) for a, b in zip(loud, loud[1:]) if b - a > silence]


def render(folder: Path, tmp_path: Path, config: str = CONFIG) -> np.ndarray:
    cfg = write_config(tmp_path / "config.toml", config +
                       f'[library]\ncache = "{tmp_path / "cache"}"\npath = "{folder.parent.parent}"\n')
    r = run_cli("render", folder, "-o", tmp_path / "out.wav", "--config", cfg)
    assert r.code == 0, r.err
    return sf.read(str(tmp_path / "out.wav"), always_2d=True)[0]


@pytest.mark.parametrize("meter, bars, bpm, words", [
    ("4/4", 1, 120, 4), ("3/4", 1, 90, 3), ("6/8", 1, 100, 2), ("7/8", 1, 60, 7), ("3/4", 2, 120, 6),
])
def test_count_in_words_start_on_the_count_in_beats(library, tmp_path, meter, bars, bpm, words):
    folder = make_song(library, "s", f'count_in = {bars}\ncount_in_voice = true\nlength_bars = 2\n'
                                     f'[[tempo]]\nbar = 1\nbpm = {bpm}\nmeter = "{meter}"\n')
    out = render(folder, tmp_path)
    ci = grid.count_in(load_song(folder, Problems()), RATE)
    beats = [b.frame for b in ci.beats]
    got = onsets(out[: ci.frames + RATE // 2, CUE])
    assert len(beats) == words and len(got) == words
    assert max(abs(a - b) for a, b in zip(got, beats)) <= RATE // 100      # within 10 ms
    assert np.abs(out[:, CUE]).max() > 0.1 and not out[:, 0].any()      # nothing in FOH


def test_the_last_count_in_word_rings_on_into_the_song(library, tmp_path):
    folder = make_song(library, "s", 'count_in = 1\ncount_in_voice = true\nlength_bars = 2\n'
                                     '[[tempo]]\nbar = 1\nbpm = 240\n')
    out = render(folder, tmp_path)
    ci = grid.count_in(load_song(folder, Problems()), RATE)
    four = _built_in("four", RATE)
    start = ci.beats[-1].frame
    assert ci.frames - start < len(four)                  # "four" is longer than its beat
    song = ci.frames - start                              # its part after bar 1 begins
    assert np.allclose(out[ci.frames: start + len(four), CUE], four[song:], atol=1e-4)


def test_no_cue_output_sends_the_voice_to_the_click_output(library, tmp_path):
    folder = make_song(library, "s", 'count_in = 1\ncount_in_voice = true\nlength_bars = 1\n'
                                     '[click]\nenabled = false\n[[tempo]]\nbar = 1\nbpm = 120\n')
    out = render(folder, tmp_path, "[audio]\nrate = 48000\nchannels = 2\n")   # foh [1], click [2]
    assert not out[:, 0].any() and len(onsets(out[:, 1], 0.05)) >= 4


def test_the_box_default_counts_aloud_unless_the_song_says_no(library, tmp_path):
    toml = 'count_in = 1\nlength_bars = 1\n[[tempo]]\nbar = 1\nbpm = 120\n'
    box = CONFIG + "[voice]\ncount_in = true\n"
    assert len(onsets(render(make_song(library, "a", toml), tmp_path, box)[:, CUE])) == 4
    silent = render(make_song(library, "b", "count_in_voice = false\n" + toml), tmp_path, box)
    assert not silent[:, CUE].any()


def test_the_built_in_words_sit_within_1_db_and_start_on_their_first_frame():
    levels = [voiced_rms_db(_built_in(k, RATE), RATE) for k in BUILT_IN]
    assert max(levels) - min(levels) <= 1.0
    for k in BUILT_IN:
        w = _built_in(k, RATE)
        assert len(w) < 0.8 * RATE and np.abs(w[:48]).max() > 0.002 * np.abs(w).max()


def test_a_user_word_replaces_the_built_in_resampled_trimmed_and_levelled(library):
    t = np.arange(int(0.3 * 44100)) / 44100
    tone = np.concatenate([np.zeros(4410), 0.05 * np.sin(2 * np.pi * 440 * t)])
    (library / "voice").mkdir()
    sf.write(str(library / "voice" / "last-time.wav"), tone, 44100)
    problems = Problems()
    words = load_words({"last-time", "chorus"}, library, RATE, library / "song.toml", problems)
    assert not list(problems)
    w = words["last-time"]
    assert abs(len(w) - 0.3 * RATE) < 50 and np.abs(w[:5]).max() < 0.05     # onset: frame 0
    spectrum = np.abs(np.fft.rfft(w))
    assert abs(np.argmax(spectrum) * RATE / len(w) - 440) < 5
    assert abs(voiced_rms_db(w, RATE) - voiced_rms_db(words["chorus"], RATE)) < 0.1
    assert np.array_equal(words["chorus"], _built_in("chorus", RATE))


@pytest.mark.parametrize("content, why", [
    (b"RIFF not really a wave", "is not usable audio"),
    (None, "holds samples that are not numbers"),
    (b"", "is not usable audio"),
])
def test_a_broken_user_word_names_its_file_and_the_built_in_plays(library, content, why):
    (library / "voice").mkdir()
    path = library / "voice" / "four.wav"
    if content is None:
        sf.write(str(path), np.array([0.1, np.nan, 0.2] * 1000, np.float32), RATE, subtype="FLOAT")
    else:
        path.write_bytes(content)
    problems = Problems()
    words = load_words({"four"}, library, RATE, library / "song.toml", problems)
    assert np.array_equal(words["four"], _built_in("four", RATE))
    msg, = [str(p) for p in problems]
    assert str(path) in msg and why in msg and "the built-in word plays" in msg


def test_a_guide_word_with_no_sound_is_a_warning_and_silent(library):
    problems = Problems()
    assert load_words({"horn-hits"}, library, RATE, library / "song.toml", problems) == {}
    assert "no word 'horn-hits'" in str(list(problems)[0])


def test_a_word_too_long_or_silent_is_refused(library):
    with pytest.raises(WordError, match="at most"):
        shape(np.full(3 * RATE, 0.1), RATE)
    sf.write(str(library / "quiet.wav"), np.zeros(100), RATE)
    with pytest.raises(WordError, match="silent"):
        read_word(library / "quiet.wav", RATE)
