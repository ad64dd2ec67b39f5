"""The chart's parts made sound (issue 19, part 3): FluidSynth through pyfluidsynth, real
SoundFonts, the parts read as stems are. Pitches by FFT, onsets by frame, samples compared."""
from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from appliance.audio.synth.errors import SynthError
from appliance.audio.synth.fluid import BLOCK, Fluid
from appliance.audio.synth.notes import PartNotes
from appliance.timeline.tempo import TempoMap, TempoPoint

from synth_rig import (BASS, DRUMS, KEYS, RATE, TIMGM, bar_frame, chart, first_sound, peak_hz,
                       pitch_class, read, read_all, rms, synth)

A_CHART = "| N.C. | A | A | A | A | A | A | A |"


def test_a4_on_the_keys_sounds_at_440_hz():
    fluid = Fluid(RATE, TIMGM, groups=1, polyphony=16, gain=0.5)
    try:
        assert fluid.select(0, 4) is None              # GM electric piano
        fluid.note_on(0, 69, 100)
        rows = np.zeros((2, 1 << 15), dtype=np.float32)
        fluid.render(rows, 0, rows.shape[1])
    finally:
        fluid.close()
    assert abs(peak_hz(rows.T[4800:]) - 440.0) < 1.0


def test_the_bass_plays_each_chords_root():
    ch = chart("| N.C. | A | D | F | E |")
    s = synth(ch, intensity=0.2)
    bass = read_all(s, 0, bar_frame(ch, 6))[BASS]
    roots = [pitch_class(peak_hz(bass[bar_frame(ch, b) + 2400: bar_frame(ch, b) + 26400]))
             for b in (2, 3, 4, 5)]
    assert roots == [9, 2, 5, 4]
    assert not bass[:bar_frame(ch, 2)].any()          # bar 1 is N.C.: the bass rests


def test_a_note_sounds_at_the_first_block_boundary_at_or_after_its_frame():
    """tempo 110: bar 2 falls on frame 104727, 41 frames before FluidSynth's next block: the
    note sounds then, the same waveform a run started at its very frame plays."""
    ch = chart(A_CHART, tempo=110)
    frame = bar_frame(ch, 2)
    assert frame % BLOCK != 0
    late = -frame % BLOCK
    run = read_all(synth(ch, intensity=0.2), 0, frame + 8192)[BASS]
    exact = read(synth(ch, intensity=0.2), BASS, frame, 8192)
    assert not run[:frame + late].any()
    assert np.array_equal(run[frame + late:], exact[:8192 - late])
    assert first_sound(exact) < BLOCK                # the sample's own attack, no more


def test_the_same_seed_gives_the_same_samples():
    ch = chart("| A | D | E7 | A |", style="rock")
    one = read_all(synth(ch, seed=7), 0, bar_frame(ch, 5))
    two = read_all(synth(ch, seed=7), 0, bar_frame(ch, 5))
    for a, b in zip(one, two):
        assert a.any() and np.array_equal(a, b)


def test_a_transposition_at_bar_5_moves_bass_and_keys_from_its_frame_on():
    ch = chart(A_CHART)
    five = bar_frame(ch, 5)
    plain = read_all(synth(ch, intensity=0.2), 0, bar_frame(ch, 7))
    playing = synth(ch, intensity=0.2)
    first = read_all(playing, 0, 1 << 14)             # the run has begun: then the change
    playing.plan.change(five, transpose=2)
    rest = read_all(playing, 1 << 14, bar_frame(ch, 7) - (1 << 14))
    moved = [np.concatenate(pair) for pair in zip(first, rest)]
    assert np.array_equal(moved[DRUMS], plain[DRUMS])             # drums never move
    for part in (BASS, KEYS):
        assert np.array_equal(moved[part][:five], plain[part][:five])
        changed = np.flatnonzero(np.abs(moved[part] - plain[part]).max(axis=1) > 0)
        assert five <= changed[0] < five + BLOCK
    bar = bar_frame(ch, 2) - bar_frame(ch, 1)
    assert pitch_class(peak_hz(moved[BASS][five - bar + 2400: five - 2400])) == 9      # A
    assert pitch_class(peak_hz(moved[BASS][five + 2400: five + bar - 2400])) == 11     # B


def test_a_context_started_after_a_switch_has_the_new_key_from_its_first_frame():
    ch = chart(A_CHART)
    s = synth(ch, intensity=0.2)
    s.plan.change(bar_frame(ch, 5), transpose=-4)       # a jump back to bar 3 comes after it
    three = bar_frame(ch, 3)
    bass = read(s, BASS, three, bar_frame(ch, 4) - three)
    assert first_sound(bass) < BLOCK
    assert pitch_class(peak_hz(bass[2400:-2400])) == 5                                # F


def test_a_jump_into_a_held_chord_sounds_it_and_waits_for_the_drums_next_hit():
    ch = chart("| A | A | A | A |")
    s = synth(ch, intensity=0.2)
    beat = bar_frame(ch, 2) // 4
    jump = bar_frame(ch, 2) + 2 * beat + beat // 2        # bar 2, half way through beat 3
    drums, bass, keys = read_all(s, jump, beat * 4)
    assert first_sound(keys) < BLOCK and first_sound(bass) < BLOCK
    assert pitch_class(peak_hz(bass[:beat])) == 9
    assert pitch_class(peak_hz(keys[:beat])) in (9, 1, 4)          # A, C#, E
    assert first_sound(drums) >= beat // 2 - 1                    # beat 4: no drum re-struck


def test_softer_plays_fewer_notes_and_quieter():
    ch = chart("| A | D | E | A | F#m | D | E7 | A |", style="rock")
    notes = PartNotes(ch, 0, 0.2)
    soft, loud = notes.at(0.2), notes.at(0.9)
    assert sum(len(n.starts) for n in soft) < sum(len(n.starts) for n in loud)
    n = bar_frame(ch, 9)
    quiet = sum(read_all(synth(ch, intensity=0.2), 0, n))
    strong = sum(read_all(synth(ch, intensity=0.9), 0, n))
    assert rms(quiet) < 0.7 * rms(strong)


def test_a_new_tempo_map_times_a_new_context_and_leaves_the_running_one():
    ch = chart("| N.C. | A | A | A |")
    s = synth(ch, intensity=0.2)
    running = read(s, BASS, 0, 48000)                   # the context playing, at 120 BPM
    s.plan.change(48000, tempo=TempoMap([TempoPoint(Fraction(0), Fraction(60))]))
    running = read(s, BASS, 48000, 96000 + 4800)
    assert 48000 <= first_sound(running) < 48000 + 2 * BLOCK      # bar 2 at 120 BPM: 2 s
    fresh = read(s, BASS, 150000, 96000)                 # a jump: a new context, at 60 BPM
    assert 42000 <= first_sound(fresh) < 42000 + 2 * BLOCK       # bar 2 at 60 BPM: 4 s


def test_before_bar_1_and_after_the_end_is_silence():
    ch = chart("| A | A |")
    s = synth(ch)
    before = read(s, KEYS, -4800, 9600)
    assert not before[:4800].any() and before[4800:].any()
    end = bar_frame(ch, 3) + 2 * RATE                   # the last bar, then a 2 s tail
    tail = read(s, KEYS, end - 4800, 9600)
    assert not tail[4800:].any() and not np.isnan(tail).any()
    assert not read(s, DRUMS, end + RATE * 60, 4800).any()


def test_head_follows_the_run_the_transport_plays():
    ch = chart(A_CHART)
    s = synth(ch)
    read_all(s, 0, 40000, chunk=10000)
    assert s.plan.head == 40000
    s.plan.play_from(0)
    read_all(s, bar_frame(ch, 6), 20000)                # a jump target cued far ahead
    assert s.plan.head == 40000                         # ... is not the run playing
    s.plan.play_from(bar_frame(ch, 6))
    read_all(s, bar_frame(ch, 6) + 20000, 1000)
    assert s.plan.head == bar_frame(ch, 6) + 21000


def test_a_failing_render_silences_that_part_from_its_frame_and_the_rest_play(monkeypatch):
    ch = chart(A_CHART)
    s = synth(ch)
    read_all(s, 0, 30000)
    broken = {"left": 1}
    original = Fluid.render

    def render_once_broken(self, rows, start, n):
        if broken["left"]:
            broken["left"] -= 1
            raise RuntimeError("out of voices")
        return original(self, rows, start, n)

    monkeypatch.setattr(Fluid, "render", render_once_broken)
    bass = read(s, BASS, 30000, 10000)
    assert not bass.any()
    assert s.readers[BASS].failed == "bass: cannot be synthesised (out of voices)"
    assert s.readers[BASS].failed_at == 30000
    drums, _, keys = read_all(s, 30000, 96000)
    assert drums.any() and keys.any() and s.readers[KEYS].failed is None
    assert not read(s, BASS, 130000, 1000).any()


# -- what cannot sound: a clear message naming the file ------------------------------------
@pytest.mark.parametrize("content, says", [
    (os.urandom(4096), "is not a SoundFont (.sf2)"),
    (b"these are my chords, not a SoundFont\n", "is not a SoundFont (.sf2)"),
    (TIMGM.read_bytes()[:1 << 20], "SoundFont is truncated: its header promises"),
    (b"RIFF" + (4092).to_bytes(4, "little") + b"sfbk" + os.urandom(4088),
     "is not a usable SoundFont (.sf2): "),
])
def test_a_broken_soundfont_is_named_with_what_is_wrong(tmp_path, content, says):
    path = tmp_path / "mine.sf2"
    path.write_bytes(content)
    with pytest.raises(SynthError) as err:
        synth(chart("| A |"), soundfont=path)
    assert str(err.value).startswith(f"{path}: ")
    assert says in str(err.value)


def test_a_missing_soundfont_is_named(tmp_path):
    with pytest.raises(SynthError, match=f"^{tmp_path}/gone.sf2: SoundFont not found$"):
        synth(chart("| A |"), soundfont=tmp_path / "gone.sf2")


def test_without_fluidsynth_the_message_says_what_to_install(tmp_path):
    """A child process where pyfluidsynth cannot find the library: its own module is shadowed
    by one that raises what pyfluidsynth raises then."""
    (tmp_path / "fluidsynth.py").write_text(
        'raise ImportError("Couldn\'t find the FluidSynth library.")\n')
    code = ("import sys\n"
            "from pathlib import Path\n"
            "from appliance.audio.synth.errors import SynthError\n"
            "from synth_rig import chart, synth\n"
            "try:\n"
            "    synth(chart('| A |'))\n"
            "except SynthError as exc:\n"
            "    print(exc); sys.exit(3)\n")
    here = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path), str(here.parent), str(here)])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 3, done.stderr
    assert done.stdout.strip() == ("libfluidsynth: FluidSynth cannot be loaded (Couldn't find "
                                   "the FluidSynth library.): apt install libfluidsynth3")
