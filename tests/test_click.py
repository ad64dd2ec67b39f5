"""Where the clicks fall: accents, beats, subdivisions, compound meters, count-in."""
from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import numpy as np
import soundfile as sf

from appliance.errors import Problems
from appliance.timeline import grid
from appliance.timeline.grid import ACCENT, BEAT, SUB
from appliance.timeline.song import load_song

from conftest import make_song


def _song(library, toml):
    problems = Problems()
    song = load_song(make_song(library, "c", toml), problems)
    assert not problems.errors, problems
    return song


def _end(song):
    return song.tempo.frame_at(song.end_qn, 48000)


def test_sixteenths_in_four_four(library):
    song = _song(library, 'length_bars = 1\n[[tempo]]\nbar = 1\nbpm = 120\n[click]\nsubdivision = 4\n')
    frames, kinds = grid.click_schedule(song, 48000, 96000)
    assert list(frames) == [i * 6000 for i in range(16)]
    assert list(kinds) == [ACCENT, SUB, SUB, SUB] + [BEAT, SUB, SUB, SUB] * 3


def test_twelve_eight_pulse_and_eighths(library):
    base = 'length_bars = 1\n[[tempo]]\nbar = 1\nbpm = 90\nmeter = "12/8"\n'
    pulse = _song(library, base)
    frames, kinds = grid.click_schedule(pulse, 48000, _end(pulse))
    eighth = 48000 * 60 // 90 // 2
    assert list(frames) == [i * 3 * eighth for i in range(4)]
    assert list(kinds) == [ACCENT, BEAT, BEAT, BEAT]
    eighths = _song(library, base + "[click]\neighths = true\n")
    frames, kinds = grid.click_schedule(eighths, 48000, _end(eighths))
    assert list(frames) == [i * eighth for i in range(12)]
    assert list(kinds) == [ACCENT, SUB, SUB] + [BEAT, SUB, SUB] * 3


def test_seven_eight_clicks_every_eighth(library):
    song = _song(library, 'length_bars = 2\n[[tempo]]\nbar = 1\nbpm = 120\nmeter = "7/8"\n')
    frames, kinds = grid.click_schedule(song, 48000, _end(song))
    assert list(frames) == [i * 12000 for i in range(14)]
    assert list(kinds) == ([ACCENT] + [BEAT] * 6) * 2


def test_subdivisions_follow_a_ramp(library):
    song = _song(library, 'length_bars = 3\n[[tempo]]\nbar = 1\nbpm = 60\n'
                          '[[tempo]]\nbar = 3\nbpm = 120\nramp = true\n[click]\nsubdivision = 2\n')
    frames, _ = grid.click_schedule(song, 48000, _end(song))
    gaps = np.diff(frames[:17])
    assert all(b < a for a, b in zip(gaps, gaps[1:]))     # every eighth shorter than the last
    # bars 1-2 (8 quarters) glide 60 -> 120: mean 90 bpm, so bar 3 starts at 16/3 s exactly
    assert frames[16] == song.tempo.frame_at(Fraction(8), 48000) == 256000


def test_count_in_uses_the_start_positions_tempo_and_meter(library):
    song = _song(library, 'count_in = 2\nlength_bars = 8\n[[tempo]]\nbar = 1\nbpm = 100\n'
                          '[[tempo]]\nbar = 5\nbpm = 150\nmeter = "3/4"\n')
    ci = grid.count_in(song, 48000)
    assert ci.frames == 8 * 28800 and [b.bar for b in ci.beats] == [-1] * 4 + [0] * 4
    ci = grid.count_in(song, 48000, song.meters.bar_qn(5))
    assert ci.frames == 6 * 19200
    assert [(b.bar, b.beat, b.frame) for b in ci.beats[:4]] == [
        (3, 1, 0), (3, 2, 19200), (3, 3, 38400), (4, 1, 57600)]


def test_disabled_click_still_counts_in(library, tmp_path):
    folder = make_song(library, "quiet", 'count_in = 1\nlength_bars = 2\n[[tempo]]\nbar = 1\n'
                                         'bpm = 120\n[click]\nenabled = false\n')
    subprocess.run([sys.executable, "-m", "appliance", "render", str(folder), "-o",
                    str(tmp_path / "q.wav")], check=True, capture_output=True)
    x, _ = sf.read(str(tmp_path / "q.wav"))
    assert len(x) == 3 * 96000
    assert np.abs(x[:96000]).max() > 0.1 and not x[96000:].any()
