"""The chart's parts made sound (issue 19, part 3): FluidSynth through pyfluidsynth, real
SoundFonts, the parts read as stems are. Pitches by FFT, onsets by frame, samples compared."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.audio.disk.streaming import CAPACITY as LAG
from appliance.audio.disk.streaming import SongStream
from appliance.audio.synth.errors import SynthError
from appliance.audio.synth.fluid import BLOCK, Fluid
from appliance.audio.synth.parts import PartsSynth
from appliance.audio.synth.plan import PartsPlan, Settings
from appliance.audio.synth.soundfont import check, choose

from synth_rig import (A_CHART, BASS, DRUMS, KEYS, RATE, TIMGM, bar_frame, chart, envelope,
                       first_sound, peak_hz, pitch_class, read, read_all, synth)


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


def test_before_bar_1_and_after_the_end_is_silence():
    ch = chart("| A | A |")
    s = synth(ch)
    before = read(s, KEYS, -4800, 9600)
    assert not before[:4800].any() and before[4800:].any()
    end = bar_frame(ch, 3) + 2 * RATE                   # the last bar, then a 2 s tail
    tail = read(s, KEYS, end - 4800, 9600)
    assert not tail[4800:].any() and not np.isnan(tail).any()
    assert not read(s, DRUMS, end + RATE * 60, 4800).any()


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


@pytest.mark.parametrize("raises, says", [
    ('ImportError("Couldn\'t find the FluidSynth library.")',
     "FluidSynth cannot be loaded (Couldn't find the FluidSynth library.): "
     "apt install libfluidsynth3"),
    ('OSError("libfluidsynth.so.3: wrong ELF class: ELFCLASS32")',
     "FluidSynth cannot be loaded (libfluidsynth.so.3: wrong ELF class: ELFCLASS32): "
     "apt install --reinstall libfluidsynth3"),
])
def test_without_fluidsynth_the_message_says_what_to_install(tmp_path, raises, says):
    """A child process where pyfluidsynth cannot load the library: its own module is
    shadowed by one that raises what pyfluidsynth (or ctypes under it) raises then."""
    (tmp_path / "fluidsynth.py").write_text(f"raise {raises}\n")
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
    assert done.stdout.strip() == f"libfluidsynth: {says}"


# -- any chunking, the same samples -------------------------------------------------------
SHORT = chart("| A | D7 | E | A |", tempo=200, style="rock")
SEQUENTIAL = read_all(synth(SHORT, intensity=0.9), -2000, bar_frame(SHORT, 5) + 3 * RATE,
                      chunk=1 << 14)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(steps=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 40000)), min_size=1,
                      max_size=60))
def test_any_chunking_of_a_run_reads_the_same_samples(steps):
    """The parts read in any order and any sizes (each in sequence, none more than a stream's
    ring ahead of the others) give the samples of one sequential read."""
    s = synth(SHORT, intensity=0.9)
    start, total = -2000, SEQUENTIAL[0].shape[0]
    done = [0, 0, 0]
    for part, size in steps:
        n = min(size, total - done[part], min(done) + LAG - done[part])
        if n <= 0:
            part = done.index(min(done))          # the stream reads the part furthest behind
            n = min(size, total - done[part])
        if n == 0:
            continue
        out = read(s, part, start + done[part], n)
        assert not np.isnan(out).any()
        assert np.array_equal(out, SEQUENTIAL[part][done[part]:done[part] + n])
        done[part] += n


def test_programs_choose_each_parts_sound_and_are_checked():
    ch = chart("| A | A |")
    organ = PartsSynth(ch, PartsPlan(Settings(ch.tempo, 0, 0.2)), RATE, soundfont=TIMGM,
                       programs={"keys": 19})             # church organ: it holds, no decay
    piano = synth(ch, intensity=0.2)
    held = read_all(organ, 0, bar_frame(ch, 2))[KEYS]
    assert not np.array_equal(held, read_all(piano, 0, bar_frame(ch, 2))[KEYS])
    for programs, error, says in (({"guitar": 3}, ValueError, "no part is called 'guitar'"),
                                  ({"bass": 128}, ValueError, "0 to 127, not 128"),
                                  ({"bass": "33"}, TypeError, "whole number, not '33'")):
        with pytest.raises(error, match=says):
            PartsSynth(ch, PartsPlan(Settings(ch.tempo)), RATE, soundfont=TIMGM,
                       programs=programs)


def test_the_soundfont_is_the_musicians_else_fluidr3_else_timgm6mb(tmp_path):
    mine = tmp_path / "mine.sf2"
    mine.write_bytes(TIMGM.read_bytes())
    gone = tmp_path / "FluidR3_GM.sf2"
    assert choose(mine, installed=(gone, TIMGM)) == mine
    assert choose(None, installed=(gone, TIMGM)) == TIMGM
    assert choose(None, installed=(mine, TIMGM)) == mine
    with pytest.raises(SynthError, match="no General MIDI SoundFont is installed: "
                                         "apt install timgm6mb-soundfont$"):
        choose(None, installed=(gone, tmp_path / "TimGM6mb.sf2"))


# -- read through a stem stream, as a song's parts will be ---------------------------------
def stream_play(stream: SongStream, start: int, n: int, period: int = 1024) -> np.ndarray:
    """The mixer's side: `n` frames from `start`, a period at a time, the disk thread's fill
    run between periods (rows: drums L R, bass L R, keys L R)."""
    out = np.zeros((stream.channels, n), dtype=np.float32)
    for at in range(0, n, period):
        while stream.fill():
            pass
        stream.read_into(start + at, out[:, at:at + period])
    return out


def test_a_stream_plays_the_parts_from_one_run_and_a_cued_jump_from_a_second():
    ch = chart(A_CHART)
    s = synth(ch)
    stream = SongStream(s.readers)
    stream.blocking = True
    stream.prepare(0)
    played = stream_play(stream, 0, 1 << 17)
    assert s.starts == 1 and s.plan.head >= 1 << 17
    direct = read_all(synth(ch), 0, 1 << 17)
    assert np.array_equal(played, np.concatenate(direct, axis=1).T)
    target = bar_frame(ch, 6)
    stream.cue(target)
    while stream.fill():
        pass
    stream_play(stream, target, 1 << 15)
    assert s.starts == 2


def test_a_context_used_again_sounds_as_a_new_one():
    """More jumps than contexts: each reused FluidSynth is silenced and its block grid started
    again, so a jump sounds as the same jump on a synth never used: the same notes at the same
    frames, within 2 dB every 1024 frames (FluidSynth starts a voice from the state its slot
    was left in: the first moments of an attack are a little apart)."""
    ch = chart("| A | D | E | A | F#m | D | E7 | A |", style="rock")
    s = synth(ch, intensity=0.9)
    read_all(s, 0, 30000)
    beat = bar_frame(ch, 2) // 4
    for target in (bar_frame(ch, 5) + 777, bar_frame(ch, 2) + beat // 3, bar_frame(ch, 7) - 5,
                   bar_frame(ch, 3) + 2 * beat + 1, bar_frame(ch, 6)):
        again = read_all(s, target, 20000, chunk=7000)
        fresh = read_all(synth(ch, intensity=0.9), target, 20000, chunk=7000)
        for a, b in zip(again, fresh):
            heard, expected = envelope(a), envelope(b)
            loud = expected > 1e-3
            assert np.array_equal(heard > 1e-3, loud)       # sound and silence where they were
            assert np.abs(20 * np.log10(heard[loud] / expected[loud])).max() < 2.0
    assert s.starts == 6


def test_a_program_the_soundfont_lacks_silences_that_part_alone():
    ch = chart("| A | A |")
    s = PartsSynth(ch, PartsPlan(Settings(ch.tempo)), RATE, soundfont=TIMGM,
                   programs={"drums": 127})
    assert s.readers[DRUMS].failed == "drums: TimGM6mb.sf2 has no drum kit 127 (bank 128)"
    assert s.readers[DRUMS].failed_at == 0
    drums, bass, keys = read_all(s, 0, bar_frame(ch, 3))
    assert not drums.any() and bass.any() and keys.any()


@settings(max_examples=200, deadline=None, derandomize=True)
@given(head=st.sampled_from([b"", b"RIFF", b"RIFX", b"sfbk"]),
       size=st.integers(0, (1 << 32) - 1), form=st.sampled_from([b"sfbk", b"WAVE", b"sfb"]),
       rest=st.binary(max_size=64))
def test_any_file_given_as_a_soundfont_is_taken_whole_or_refused_by_name(tmp_path_factory,
                                                                          head, size, form, rest):
    path = tmp_path_factory.mktemp("sf") / "any.sf2"
    data = head + size.to_bytes(4, "little") + form + rest
    path.write_bytes(data)
    whole = head == b"RIFF" and form == b"sfbk" and size + 8 <= len(data)
    try:
        assert check(path) == path and whole
    except SynthError as exc:
        assert not whole and str(exc).startswith(f"{path}: ")
