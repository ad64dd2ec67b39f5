"""The parts following what the musician changes live (appliance/audio/synth/plan.py): a key,
an intensity, a tempo map switched at a frame; which run of frames takes it, and from where."""
from __future__ import annotations

import threading
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.audio.synth.fluid import BLOCK
from appliance.audio.synth.levels import PartNotes
from appliance.audio.synth.notes import shift
from appliance.audio.synth.plan import PartsPlan, Settings
from appliance.timeline.parts import generate
from appliance.timeline.tempo import TempoMap, TempoPoint

from conftest import wait_for
from synth_rig import (A_CHART, BASS, RATE, bar, DRUMS, KEYS, bar_frame, chart, first_sound, peak_hz,
                       pitch_class, read, read_all, rms, synth)


def test_a_transposition_at_bar_5_moves_bass_and_keys_from_its_frame_on():
    ch = chart(A_CHART)
    five = bar_frame(ch, 5)
    plain = read_all(synth(ch, intensity=0.2), 0, bar_frame(ch, 7))
    playing = synth(ch, intensity=0.2)
    first = read_all(playing, 0, 1 << 14)             # the run has begun: then the change
    playing.plan.change(bar(5), transpose=2)
    rest = read_all(playing, 1 << 14, bar_frame(ch, 7) - (1 << 14))
    moved = [np.concatenate(pair) for pair in zip(first, rest)]
    assert np.array_equal(moved[DRUMS], plain[DRUMS])             # drums never move
    for part in (BASS, KEYS):
        assert np.array_equal(moved[part][:five], plain[part][:five])
        changed = np.flatnonzero(np.abs(moved[part] - plain[part]).max(axis=1) > 0)
        assert five <= changed[0] < five + BLOCK
    one = bar_frame(ch, 2) - bar_frame(ch, 1)
    assert pitch_class(peak_hz(moved[BASS][five - one + 2400: five - 2400])) == 9      # A
    assert pitch_class(peak_hz(moved[BASS][five + 2400: five + one - 2400])) == 11     # B


def test_louder_at_bar_5_plays_more_notes_from_its_frame_on():
    ch = chart("| A | D | E | A | A | D | E | A |", style="rock")
    five, end = bar_frame(ch, 5), bar_frame(ch, 9)
    plain = read_all(synth(ch, intensity=0.2), 0, end)
    playing = synth(ch, intensity=0.2)
    playing.blocking = True                              # exact: the notes made in place
    first = read_all(playing, 0, 1 << 14)
    playing.plan.change(bar(5), intensity=0.9)
    rest = read_all(playing, 1 << 14, end - (1 << 14))
    for part, (a, b) in enumerate(zip(plain, rest)):
        louder = np.concatenate([first[part], b])
        assert np.array_equal(louder[:five], a[:five])
        assert rms(louder[five:]) > 1.3 * rms(a[five:])


def test_a_ring_cued_ahead_takes_a_switch_from_its_next_frame():
    ch = chart(A_CHART)
    s = synth(ch, intensity=0.2)
    read_all(s, 0, 1 << 14)                              # the run playing
    six = bar_frame(ch, 6)
    cued = read(s, BASS, six, 24000)                     # a jump target, cued ahead
    s.plan.change(bar(3), transpose=2)                   # ... then a change at bar 3
    seven = bar_frame(ch, 7)
    on = read(s, BASS, six + 24000, seven + 48000 - six - 24000)
    assert pitch_class(peak_hz(cued[2400:])) == 9
    assert pitch_class(peak_hz(on[:seven - six - 24000])) == 9     # bar 6's note holds
    assert pitch_class(peak_hz(on[seven - six - 24000 + 2400:])) == 11   # bar 7's is moved


def test_a_context_started_after_a_switch_has_the_new_key_from_its_first_frame():
    ch = chart(A_CHART)
    s = synth(ch, intensity=0.2)
    s.plan.change(None, transpose=-4)                   # in force: a jump back to bar 3
    three = bar_frame(ch, 3)
    bass = read(s, BASS, three, bar_frame(ch, 4) - three)
    assert first_sound(bass) < BLOCK
    assert pitch_class(peak_hz(bass[2400:-2400])) == 5                                # F


def test_softer_plays_fewer_notes_and_quieter():
    ch = chart("| A | D | E | A | F#m | D | E7 | A |", style="rock")
    with PartNotes(ch, 0, 0.2) as notes:
        notes.blocking = True
        soft, loud = notes.at(0.2), notes.at(0.9)
    assert sum(len(n.starts) for n in soft) < sum(len(n.starts) for n in loud)
    n = bar_frame(ch, 9)
    quiet = sum(read_all(synth(ch, intensity=0.2), 0, n))
    strong = sum(read_all(synth(ch, intensity=0.9), 0, n))
    assert rms(quiet) < 0.7 * rms(strong)


def test_between_tenths_the_notes_stay_and_the_velocity_follows():
    ch = chart("| A | D | E | A |", style="rock")
    with PartNotes(ch, 0, 0.6) as notes:
        assert notes.at(0.57) is notes.at(0.63)              # no new chart for a small move
        keys = notes.at(0.6)[KEYS]
    assert [keys.velocity(0, v) for v in (0.56, 0.6, 0.64)] == \
        [round(keys.velocities[0] * x / 1.6) for x in (1.56, 1.6, 1.64)]
    n = bar_frame(ch, 5)
    assert rms(read_all(synth(ch, intensity=0.56), 0, n)[KEYS]) < \
        rms(read_all(synth(ch, intensity=0.64), 0, n)[KEYS])


def test_a_new_tenths_notes_are_made_by_a_helper_while_the_nearest_play():
    ch = chart("| A | D | E | A |", style="rock")
    gate = threading.Event()

    def slow(chart, seed, intensity):
        if intensity != 0.2:
            gate.wait(10)
        return generate(chart, seed, intensity)

    with PartNotes(ch, 0, 0.2, make=slow) as notes:
        soft = notes.at(0.2)
        assert notes.at(0.87) is soft and not notes.ready(0.9)   # asked, not waited for
        assert soft[KEYS].velocity(0, 0.87) > soft[KEYS].velocities[0]   # ... yet louder
        gate.set()
        assert wait_for(lambda: notes.ready(0.9))
        loud = notes.at(0.87)
        assert loud[0].level == 0.9 and len(loud[DRUMS].starts) > len(soft[DRUMS].starts)


def test_a_new_tempo_map_times_a_new_context_and_leaves_the_running_one():
    ch = chart("| N.C. | A | A | A |")
    s = synth(ch, intensity=0.2)
    running = read(s, BASS, 0, 48000)                   # the context playing, at 120 BPM
    s.plan.retempo(TempoMap([TempoPoint(Fraction(0), Fraction(60))]))
    running = read(s, BASS, 48000, 96000 + 4800)
    assert 48000 <= first_sound(running) < 48000 + 2 * BLOCK      # bar 2 at 120 BPM: 2 s
    fresh = read(s, BASS, 150000, 96000)                 # a jump: a new context, at 60 BPM
    assert 42000 <= first_sound(fresh) < 42000 + 2 * BLOCK       # bar 2 at 60 BPM: 4 s


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


def test_a_ring_cued_again_after_a_switch_starts_anew_with_it():
    """A vamp's loop start was cued before a transposition; cued again after it (plan.py),
    the loop sounds in the new key from its first frame."""
    ch = chart(A_CHART)
    s = synth(ch, intensity=0.2)
    read_all(s, 0, 1 << 14)                              # the run playing
    three = bar_frame(ch, 3)
    before = read(s, BASS, three, 24000)                 # the loop start, cued
    s.plan.change(None, transpose=2)
    again = read(s, BASS, three, 24000)                  # ... cued again
    assert pitch_class(peak_hz(before[2400:])) == 9 and pitch_class(peak_hz(again[2400:])) == 11


def test_a_transposition_keeps_each_part_within_a_tritone_of_where_it_was_written():
    assert [shift(t) for t in (-12, -7, -6, -1, 0, 5, 6, 7, 11, 12)] == \
        [0, 5, -6, -1, 0, 5, 6, -5, -1, 0]




# -- several changes waiting at once -----------------------------------------------------
def bass_classes(s, ch, bars) -> list[int]:
    """The bass's pitch class in each of `bars`, read on from the first as one run."""
    start = bar_frame(ch, bars[0])
    bass = read(s, BASS, start, bar_frame(ch, bars[-1] + 1) - start)
    out = []
    for b in bars:
        lo = bar_frame(ch, b) - start
        out.append(pitch_class(peak_hz(bass[lo + 2400: lo + bar_frame(ch, 2) - 2400])))
    return out


def test_two_changes_waiting_each_land_at_their_own_bar():
    ch = chart(A_CHART)
    s = synth(ch, intensity=0.2)
    read_all(s, 0, 1 << 14)
    s.plan.change(bar(4), transpose=2)
    s.plan.change(bar(6), transpose=5)
    s.plan.change(bar(4), intensity=0.3)                 # the same bar as the key: both there
    assert [c.beat for c in s.plan.pending] == [12, 12, 20]
    assert bass_classes(s, ch, [2, 3, 4, 5, 6, 7]) == [9, 9, 11, 11, 2, 2]      # A A B B D D


def test_the_newest_change_wins_from_its_bar_on():
    ch = chart(A_CHART)
    s = synth(ch, intensity=0.2)
    read_all(s, 0, 1 << 14)
    s.plan.change(bar(6), transpose=5)
    s.plan.change(bar(4), transpose=2)                   # asked after: bar 6's key is gone
    assert len(s.plan.pending) == 1 and s.plan.latest.transpose == 2
    assert bass_classes(s, ch, [3, 4, 5, 6, 7]) == [9, 11, 11, 11, 11]


def test_a_run_started_before_a_change_waiting_takes_it_at_its_bar_not_before():
    """The transport re-based on a new tempo (the same beat, a new context): a key waiting
    for bar 5 is heard at bar 5 of the new map, not from the new run's first frame."""
    ch = chart(A_CHART)
    s = synth(ch, intensity=0.2)
    read_all(s, 0, 1 << 14)
    s.plan.change(bar(5), transpose=2)
    slow = TempoMap([TempoPoint(Fraction(0), Fraction(100))])
    s.plan.retempo(slow)
    at = lambda b: slow.frame_at(Fraction(4 * (b - 1)), RATE)     # noqa: E731
    start = at(3) + 12000                                # bar 3, a beat in: the new run
    bass = read(s, BASS, start, at(7) - start)
    four, five, six = (at(b) - start for b in (4, 5, 6))
    assert pitch_class(peak_hz(bass[four + 2400: five - 2400])) == 9             # A
    assert pitch_class(peak_hz(bass[five + 2400: six - 2400])) == 11             # B
    assert s.plan.settings.transpose == 0                # in force once the play reaches it


def test_a_run_started_past_a_change_waiting_has_it_from_its_first_frame():
    ch = chart(A_CHART)
    s = synth(ch, intensity=0.2)
    read_all(s, 0, 1 << 14)
    s.plan.change(bar(4), transpose=2)
    seven = bar_frame(ch, 7)                             # a jump ahead, past bar 4
    bass = read(s, BASS, seven, bar_frame(ch, 8) - seven)
    assert first_sound(bass) < BLOCK
    assert pitch_class(peak_hz(bass[2400:-2400])) == 11


def test_reached_and_settle_make_the_changes_waiting_in_force():
    ch = chart(A_CHART)
    s = synth(ch)
    s.plan.change(bar(3), transpose=2)
    s.plan.change(bar(5), intensity=0.9)
    assert s.plan.reached(8) and s.plan.settings.transpose == 2
    assert not s.plan.reached(8)                          # nothing more there
    assert s.plan.settle() and s.plan.settings.intensity == 0.9 and s.plan.pending == ()


# -- any sequence of asks: the newest is what the musician gets ---------------------------
LIVE_OPS = st.one_of(
    st.tuples(st.just("at"), st.integers(0, 40), st.sampled_from(["transpose", "intensity"]),
              st.integers(-12, 12)),
    st.tuples(st.just("now"), st.sampled_from(["transpose", "intensity"]), st.integers(-12, 12)),
    st.tuples(st.just("reach"), st.integers(0, 40)),
    st.tuples(st.just("settle")))


@settings(max_examples=300, deadline=None)
@given(st.lists(LIVE_OPS, max_size=30))
def test_any_sequence_of_changes_leaves_the_newest_asked_and_settles_to_it(ops):
    plan = PartsPlan(Settings(TempoMap([TempoPoint(Fraction(0), Fraction(120))])))
    asked = {"transpose": 0, "intensity": plan.settings.intensity}
    for op in ops:
        kind = op[0]
        if kind in ("at", "now"):
            name, value = op[-2:]
            value = value if name == "transpose" else (value + 12) / 24
            latest = plan.latest
            if kind == "at":
                plan.change((op[1] * 4, Fraction(op[1] * 4)), **{name: value})
            else:
                plan.change(None, **{name: value})
            asked[name] = value
            assert getattr(plan.latest, name) == value
            other = "intensity" if name == "transpose" else "transpose"
            assert getattr(plan.latest, other) == getattr(latest, other)
        elif kind == "reach":
            before = plan.latest
            plan.reached(op[1] * 4)
            assert all(ch.beat != op[1] * 4 for ch in plan.pending)
            assert plan.latest == before                     # reaching changes nothing asked
        else:
            before = plan.latest
            plan.settle()
            assert plan.pending == () and plan.settings == before
        beats = [(ch.beat, ch.epoch) for ch in plan.pending]
        assert beats == sorted(beats) and all(ch.fields for ch in plan.pending)
        assert (plan.latest.transpose, plan.latest.intensity) == \
            (asked["transpose"], asked["intensity"])


def test_changes_in_force_for_a_jump_still_wait_where_they_were_put():
    plan = PartsPlan(Settings(TempoMap([TempoPoint(Fraction(0), Fraction(120))])))
    plan.change(bar(2), transpose=1)
    plan.change(bar(5), transpose=3)                     # newer, later: both wait
    plan.enforce([plan.pending[1]])                      # a jump before bar 5: in force there
    assert plan.settings.transpose == 3
    assert [ch.beat for ch in plan.pending] == [16]     # bar 2's older key would undo it


def test_an_expression_pedal_asking_many_times_keeps_the_plan_and_the_synth_small():
    ch = chart(A_CHART)
    s = synth(ch, intensity=0.2)
    read_all(s, 0, 1 << 14)
    for i in range(500):                                 # a pedal swept, the parts read on
        s.plan.change(bar(3), intensity=(i % 100) / 100)
        read_all(s, (1 << 14) + 64 * i, 64)
    assert len(s.plan.pending) == 1 and s.plan.latest.intensity == 0.99
    assert all(len(c._seen) <= 1 and len(c._done) <= 1 for c in s._contexts)
