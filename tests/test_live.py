"""A chart song played live (issue 19): tap tempo and BPM nudges at the next beat (the click
and MIDI clock follow, vamps and jumps keep their beats), the parts' key and dynamics at
the next bar, and a song with stems saying its tempo changes at the next stop."""
from __future__ import annotations

import threading
from fractions import Fraction

import mido
import numpy as np
import pytest

from gpiozero.pins.mock import MockFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.audio.disk.parts import SYNTH_CHUNK
from appliance.audio.disk.show import Show, SongBank
from appliance.audio.play.taps import Taps
from appliance.audio.play.transport import Transport
from appliance.config import Config, load_config
from appliance.config.midi_map import MidiMap, MidiRule, MidiSpec
from appliance.control.gestures import Gestures
from appliance.control.gpio import Footswitches
from appliance.control.midi_out import TICKS, ClockPlanner
from appliance.errors import BacklineError
from appliance.service.panel import Panel
from appliance.sim.hands import Hands
from appliance.vocab import commands as c
from appliance.vocab.names import command_name, parse_command, turn_command
from appliance.vocab.segments import SegmentLog
from appliance.vocab.state import TransportState

from conftest import wait_for, write_config
from transport_rig import CONFIG, RATE, onsets, position_song

BEAT_120 = RATE // 2          # a beat at 120 BPM
BEAT_100 = RATE * 6 // 10     # and at 100: 28800 frames, 225 periods of 128
PERIOD = 128
CHART = """tempo: 120
meter: 4/4
key: C major
[Intro]
| C | G |
[Verse] x2
| Am | F | C | G |
[Bridge]
| Dm | G |
[Outro]
| C | C | C | C |
"""   # bars: Intro 1-2, Verse 3-10, Bridge 11-12, Outro 13-16


def chart_song(library, name: str = "live", *, parts: bool = False, count_in: int = 0) -> object:
    """The chart as a song; without `parts`, its click alone (`parts = false`)."""
    folder = library / "songs" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "song.toml").write_text(f'title = "Live"\ncount_in = {count_in}\n' +
                                      ("" if parts else "parts = false\n"))
    (folder / "chart.txt").write_text(CHART)
    return folder


def live_rig(folder, tmp) -> Transport:
    """A transport over a loaded bank whose retimer thread runs (as the daemon's does)."""
    bank = SongBank(Show.of_song(folder), Config(cache=tmp / "cache", **CONFIG), PERIOD,
                    blocking=True)
    assert bank.load_now(0) is not None, bank.problems
    bank.retimer.start()
    return Transport(bank, rate=RATE, channels=2, block=PERIOD)


@pytest.fixture
def live(library, tmp_path):
    """A transport on the chart song's click alone, its retimer running."""
    t = live_rig(chart_song(library), tmp_path)
    yield t
    t.bank.stop()


def settle(t: Transport) -> None:
    """Wait until the retimer has answered the newest request (the daemon's audio thread
    would take the answer a few periods later; here the next period takes it)."""
    r = t.bank.retimer
    done = threading.Event()
    for _ in range(2000):
        if r.answered == r.asks:
            return
        done.wait(0.005)
    raise AssertionError("the retimer did not answer")


def drive(t: Transport, frames: int, script: dict[int, list[c.Command]] | None = None,
          log: SegmentLog | None = None) -> np.ndarray:
    """Render `frames` a period at a time; the commands in `script` are taken at the period
    starting at that output frame (the engine's clock), the retimer's answer waited for."""
    out = np.zeros((frames, t.channels), dtype=np.float32)
    script = dict(script or {})
    for start in range(0, frames, PERIOD):
        t.clock = start
        cmds = script.pop(start, [])
        for cmd in cmds:
            t.apply(cmd)
        if cmds:
            settle(t)
        t.render(out[start: start + PERIOD], log, start)
    assert not script, f"script frames not on a period boundary: {sorted(script)}"
    return out


def taps(first: int, interval: int, n: int = 4) -> dict[int, list[c.Command]]:
    return {first + k * interval: [c.TapTempo()] for k in range(n)}


# -- the vocabulary --------------------------------------------------------------------
@pytest.mark.parametrize("text, cmd", [
    ("tap", c.TapTempo()), ("bpm 96", c.SetBpm(96)), ("bpm +1", c.NudgeBpm(1)),
    ("bpm-up", c.NudgeBpm(1)), ("bpm-down", c.NudgeBpm(-1)), ("bpm -2.5", c.NudgeBpm(-2.5)),
    ("intensity 0.8", c.SetIntensity(0.8)), ("intensity -0.2", c.NudgeIntensity(-0.2)),
    ("softer", c.NudgeIntensity(-0.1)), ("louder", c.NudgeIntensity(0.1))])
def test_live_commands_parse_and_spell_back(text, cmd):
    assert parse_command(text) == cmd
    assert parse_command(command_name(cmd)) == cmd


@pytest.mark.parametrize("make, error, says", [
    (lambda: c.SetBpm(5), ValueError, "SetBpm.bpm must be 10 to 999, not 5"),
    (lambda: c.SetBpm(float("nan")), ValueError, "SetBpm.bpm must be a finite number"),
    (lambda: c.SetBpm("fast"), TypeError, "SetBpm.bpm must be a number"),
    (lambda: c.SetIntensity(1.5), ValueError, "SetIntensity.level must be 0 to 1, not 1.5"),
    (lambda: c.NudgeIntensity(True), TypeError, "NudgeIntensity.step must be a number"),
    (lambda: parse_command("bpm fast"), ValueError, "'bpm' needs a number, not 'fast'"),
    (lambda: parse_command("bpm inf"), ValueError, "SetBpm.bpm must be a finite number"),
    (lambda: parse_command("intensity"), ValueError, "'intensity' needs an argument"),
    (lambda: parse_command("tap 3"), ValueError, "'tap' takes no argument"),
])
def test_bad_live_commands_say_what_is_allowed(make, error, says):
    with pytest.raises(error, match=says):
        make()


def test_ccs_and_encoders_set_the_bpm_and_the_intensity_and_a_note_taps():
    m = MidiMap(MidiSpec(rules=(MidiRule("cc", 11, target="intensity"),
                                MidiRule("cc", 12, target="bpm"),
                                MidiRule("note", 60, command=parse_command("tap")))))
    cc = lambda n, v: mido.Message("control_change", control=n, value=v)  # noqa: E731
    assert m.commands(cc(11, 0)) == [c.SetIntensity(0.0)]
    assert m.commands(cc(11, 127)) == [c.SetIntensity(1.0)]
    assert m.commands(cc(11, 64)) == [c.SetIntensity(64 / 127)]
    assert m.commands(cc(12, 40)) == [c.SetBpm(100)]
    assert m.commands(mido.Message("note_on", note=60, velocity=90)) == [c.TapTempo()]
    assert turn_command("bpm", -2) == [c.NudgeBpm(-2)]
    assert turn_command("intensity", 3) == [c.NudgeIntensity(0.15)]
    assert turn_command("intensity", 40) == [c.NudgeIntensity(1.0)]


TAP_PANEL = """
[[switch]]
name = "tap"
pin = 17
perform = { press = "tap" }

[[encoder]]
name = "tempo"
a = 16
b = 26
perform = { turn = "bpm" }

[[encoder]]
name = "pedal"
a = 5
b = 6
perform = { turn = "intensity" }
"""


def test_a_footswitch_taps_on_its_down_edge_and_encoders_turn_bpm_and_intensity(tmp_path):
    factory = MockFactory()
    config = load_config(write_config(tmp_path / "config.toml", TAP_PANEL))
    sent: list[c.Command] = []
    panel = Panel(config.controls, send=sent.append, box=lambda cmd: None, songs=lambda: [],
                  setlists=lambda: [], outputs=tuple(config.outputs))
    switches = Footswitches(config.controls, on_gesture=panel.gesture, on_turn=panel.turn,
                            pin_factory=factory)
    try:
        Hands(factory).tap(17)
        assert wait_for(lambda: sent == [c.TapTempo()], 2)
        Hands(factory).turn(16, 26, 2)
        Hands(factory).turn(5, 6, -1)
        assert wait_for(lambda: sent[1:] == [c.NudgeBpm(1), c.NudgeBpm(1),
                                             c.NudgeIntensity(-0.05)], 2), sent
    finally:
        switches.close()
        factory.reset()
    g = Gestures({"tap": {"press"}})             # press alone: the tap is the down edge
    assert g.edge("tap", True, 10.0) == [("tap", "press")]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_any_bpm_or_intensity_argument_is_a_command_in_range_or_a_value_error(arg):
    for word in ("bpm", "intensity"):
        try:
            cmd = parse_command(f"{word} {arg}")
        except ValueError:
            continue
        if isinstance(cmd, c.SetBpm):
            assert c.MIN_BPM <= cmd.bpm <= c.MAX_BPM
        elif isinstance(cmd, c.SetIntensity):
            assert 0 <= cmd.level <= 1
        else:
            value = cmd.bpm if isinstance(cmd, c.NudgeBpm) else cmd.step
            assert np.isfinite(value)
        assert parse_command(command_name(cmd)) == cmd


@pytest.mark.parametrize("value, says", [
    ("nan", "parts.expression_db: must be a finite number"),
    ("41", "parts.expression_db: must be at most 40"),
    ("-1", "parts.expression_db: must be at least 0"),
    ('"loud"', "parts.expression_db: must be")])
def test_a_bad_expression_db_names_the_file_and_field(tmp_path, value, says):
    cfg = write_config(tmp_path / "config.toml", f"[parts]\nexpression_db = {value}\n")
    with pytest.raises(BacklineError, match=says):
        load_config(cfg)
    ok = write_config(tmp_path / "ok.toml", "[parts]\nexpression_db = 20\n")
    assert load_config(ok).expression_db == 20.0


# -- taps --------------------------------------------------------------------------
def test_a_frame_moves_to_the_same_place_in_its_beat_in_the_new_map(live):
    from appliance.audio.disk.retime import timing
    before = live.song.positions
    for factor in (Fraction(5, 6), Fraction(3, 2)):
        t = timing(live.song, factor)

        @settings(max_examples=200, deadline=None)
        @given(st.integers(0, live.song.frames - 1), st.integers(0, live.song.frames - 1))
        def moves(a: int, b: int) -> None:
            a, b = min(a, b), max(a, b)
            assert t.frame(before, a) <= t.frame(before, b)           # never out of order
            i = before.beats.index_at(a)
            assert t.frame(before, before.beats.frame(i)) == t.positions.beats.frame(i)
            assert t.positions.beats.index_at(t.frame(before, a)) == i   # the same beat
        moves()
        assert t.frames == round(live.song.frames / factor)


def test_a_state_of_a_moment_before_a_new_tempo_is_all_of_the_old_map(live):
    """A reader builds its State from the moment published, on its own thread: one made
    before a retiming and read after it is of the old map whole (bar, BPM, length)."""
    t = live
    drive(t, BAR_120 + 10 * PERIOD, {0: [c.Play()]})
    before, frames = t.moment, t.song.frames
    drive(t, 2 * BAR_120, {0: [c.SetBpm(100)]})
    assert t.snapshot().bpm == 100 and t.song.frames != frames
    old = t.snapshot(before)
    assert (old.bpm, old.bar, old.beat, old.song_frames) == (120, 2, 1, frames)


def test_taps_give_the_mean_interval_from_the_fourth_and_a_pause_starts_again():
    taps_ = Taps(RATE)
    assert [taps_.tap(f) for f in (0, 28800, 57600)] == [None, None, None]
    assert taps_.tap(86400) == 28800
    assert taps_.tap(86400 + 28000) == Fraction(86400 + 28000, 4)   # refined by the fifth
    later = 86400 + 28000 + 2 * RATE + 1                            # over 2 s: a new run
    assert [taps_.tap(later + k * 24000) for k in range(4)] == [None, None, None, 24000]


def test_four_taps_at_100_bpm_play_100_from_the_next_beat_and_the_click_follows(live):
    t = live
    first = 4 * BEAT_120 + 3 * PERIOD        # bar 3, a little after its first beat
    fourth = first + 3 * BEAT_100
    out = drive(t, fourth + 10 * BEAT_100, {0: [c.Play()], **taps(first, BEAT_100)})
    clicks = np.diff(onsets(out))
    change = int(onsets(out)[np.argmax(clicks != BEAT_120)])   # the first 100-BPM beat
    assert set(clicks) == {BEAT_120, BEAT_100}                  # nothing skipped, doubled
    assert np.all(clicks[np.flatnonzero(clicks == BEAT_100)[0]:] == BEAT_100)
    next_beat = -(-fourth // BEAT_120) * BEAT_120                # at or after the 4th tap
    assert change == next_beat
    s = t.snapshot()
    assert abs(s.bpm - 100) <= 0.5 and s.key_tempo.tempo == pytest.approx(100 / 120)
    assert s.rejected == ""


def test_three_taps_change_nothing(live):
    t = live
    out = drive(t, 12 * BEAT_120, {0: [c.Play()], **taps(2 * BEAT_120, BEAT_100, 3)})
    assert set(np.diff(onsets(out))) == {BEAT_120}
    assert t.snapshot().bpm == 120


def test_a_bpm_nudge_and_a_set_bpm_take_effect_at_the_next_beat(live):
    t = live
    at = 2 * BEAT_120 + 5 * PERIOD
    out = drive(t, 8 * BEAT_120, {0: [c.Play()], at: [c.NudgeBpm(1), c.NudgeBpm(1)]})
    beat_122 = round(RATE * 60 / 122)
    clicks = np.diff(onsets(out))
    assert list(clicks[:3]) == [BEAT_120] * 3
    assert all(abs(d - beat_122) <= 1 for d in clicks[3:])     # 122: two nudges add up
    assert t.snapshot().bpm == pytest.approx(122)
    drive(t, PERIOD, {0: [c.SetBpm(90)]})
    drive(t, RATE)
    assert t.snapshot().bpm == pytest.approx(90)
    drive(t, PERIOD, {0: [c.SetBpm(250)]})
    assert "250.0 BPM is out of range" in t.snapshot().rejected
    assert "50% to 200% of the written 120" in t.snapshot().rejected


def test_stopped_the_new_tempo_is_there_at_once_and_the_song_starts_at_it(live):
    t = live
    drive(t, PERIOD, {0: [c.SetBpm(100)]})
    assert t.state == TransportState.STOPPED and t.snapshot().bpm == 100
    assert t.song.frames == 16 * 4 * BEAT_100          # the song's length follows
    out = drive(t, 4 * BEAT_100, {0: [c.Play()]})
    assert set(np.diff(onsets(out))) == {BEAT_100}


def test_a_tempo_set_while_stopped_counts_the_song_in_at_it(library, tmp_path):
    t = live_rig(chart_song(library, count_in=1), tmp_path)
    try:
        out = drive(t, 8 * BEAT_100, {0: [c.SetBpm(100)], PERIOD: [c.Play()]})
        clicks = onsets(out)
        assert clicks[0] == PERIOD and set(np.diff(clicks)) == {BEAT_100}   # count-in too
        assert (t.snapshot().bar, t.snapshot().beat) == (1, 4)    # a bar of count-in, then bar 1
    finally:
        t.bank.stop()


def test_a_vamp_keeps_its_section_in_the_new_tempo_and_a_pending_jump_its_target(live):
    t = live
    verse, bridge = 2 * 4 * BEAT_120, 10 * 4 * BEAT_120
    drive(t, verse + BEAT_120, {0: [c.Play()]})
    drive(t, PERIOD, {0: [c.Vamp()]})
    assert t.loop.start == verse and t.loop.end == bridge
    drive(t, PERIOD, {0: [c.SetBpm(100)]})
    drive(t, BEAT_120)
    new_verse, new_bridge = 2 * 4 * BEAT_100, 10 * 4 * BEAT_100
    assert (t.loop.start, t.loop.end) == (new_verse, new_bridge)   # the Verse, exactly
    assert t.pos < new_bridge
    drive(t, PERIOD, {0: [c.Jump("Outro")]})
    assert t.pending.to == 12 * 4 * BEAT_100


def test_a_song_with_stems_says_its_tempo_changes_at_the_next_stop(library, tmp_path):
    folder = position_song(library, "stems", 4)
    bank = SongBank(Show.of_song(folder), Config(cache=tmp_path / "cache", **CONFIG), PERIOD,
                    blocking=True)
    assert bank.load_now(0) is not None
    t = Transport(bank, rate=RATE, channels=2, block=PERIOD)
    try:
        drive(t, 2 * PERIOD, {0: [c.Play()], PERIOD: [c.NudgeBpm(-12)]})
        s = t.snapshot()
        assert s.rejected == "NudgeBpm: this song has stems: its tempo changes at the next stop"
        assert (s.key_tempo.tempo, s.key_tempo.wanted_tempo) == (1.0, 0.9)   # 108 of 120
        assert bank.keys.wanted == {0: (Fraction(0), Fraction(9, 10))}
        assert bank.retimer.asks == 0
    finally:
        bank.stop()


def test_midi_clock_ticks_follow_the_new_tempo_from_its_beat_with_no_stop(live):
    t = live
    log = SegmentLog(capacity=1 << 16)
    at = 4 * BEAT_120 - 3 * PERIOD
    jump = 4 * BEAT_120 + 6 * BEAT_100 + PERIOD        # in bar 3, at the new tempo
    drive(t, jump + 4 * BEAT_100, {0: [c.Play()], at: [c.SetBpm(100)],
                                    jump: [c.Jump("Bridge")]}, log)
    planner = ClockPlanner(lambda i: None, RATE, live=t.live_song)
    _, rows = log.rows(0)
    msgs = [m for row in rows for m in planner.plan(row)]
    kinds = [m.type for _, m in msgs]
    assert kinds[0] == "start"
    moved = [(f, m) for f, m in msgs if m.type in ("stop", "songpos", "continue")]
    bar_4 = 4 * BEAT_120 + 8 * BEAT_100                # where the jump happens
    assert [m.type for _, m in moved] == ["stop", "songpos", "continue"]   # the jump only
    assert {f for f, _ in moved} == {bar_4}
    assert moved[1][1].pos == 10 * 4 * 4               # the Bridge, bar 11: sixteenths
    ticks = np.array([f for f, m in msgs if m.type == "clock" and f < bar_4])
    change = 4 * BEAT_120                              # the next beat after the SetBpm
    before, after = ticks[ticks < change], ticks[ticks >= change]
    assert len(before) == 4 * TICKS                    # four beats of 24 ticks
    assert after[0] == change                          # the beat itself ticks once
    assert set(np.diff(before)) == {BEAT_120 // TICKS}
    assert set(np.diff(after)) == {BEAT_100 // TICKS}


# -- the parts' key and dynamics: the plan, at the next bar -----------------------------
BAR_120 = 4 * BEAT_120


def test_a_key_asked_during_bar_4_switches_the_parts_at_bar_5_and_shows_at_once(
        library, tmp_path):
    t = live_rig(chart_song(library, parts=True), tmp_path)
    try:
        drive(t, 3 * BAR_120 + 10 * PERIOD, {0: [c.Play()]})       # in bar 4
        drive(t, PERIOD, {0: [c.SetKey(3)]})
        plan = t.song.plan
        assert [(ch.beat, ch.fields) for ch in plan.pending] == [(16, (("transpose", 3),))]
        assert t.plan_switch == 4 * BAR_120 and plan.settings.transpose == 0   # bar 5
        assert t.snapshot().key_tempo.transpose == 3.0              # the display: at once
        assert t.bank.keys.wanted == {0: (Fraction(3), Fraction(1))}   # kept for tonight
        assert t.bank.keys.asked is None                            # ... no variant asked
        # the synth is ahead: said by the test, so the synth thread must not say otherwise
        # meanwhile; its ring full, it is stopped (the ring holds the few periods driven next)
        parts = t.song.stream.parts
        ring = parts._rings[parts._active]
        assert wait_for(lambda: ring.available() > ring.capacity - SYNTH_CHUNK, 10)
        t.song.stop()
        t.song.plan.rendered(5 * BAR_120 + 100)
        drive(t, PERIOD, {0: [c.NudgeKey(-5)]})
        assert [(ch.beat, ch.fields) for ch in plan.pending] == \
            [(16, (("transpose", 3),)), (24, (("transpose", -2),))]    # bar 5, then bar 7
        drive(t, PERIOD, {0: [c.NudgeKey(-24)]})
        assert plan.latest.transpose == -12                        # kept within -12..12
        drive(t, PERIOD, {0: [c.SetKey(-12)]})
        assert t.snapshot().rejected == "SetKey: already there"
    finally:
        t.bank.stop()


def test_stopped_a_key_or_an_intensity_is_the_plans_from_here(library, tmp_path):
    t = live_rig(chart_song(library, parts=True), tmp_path)
    try:
        drive(t, PERIOD, {0: [c.SetKey(-2), c.SetIntensity(0.25)]})
        s = t.song.plan
        assert (s.pending, s.settings.transpose, s.settings.intensity) == ((), -2, 0.25)
        assert t.snapshot().key_tempo.intensity == 0.25
    finally:
        t.bank.stop()


def test_intensity_sets_the_parts_level_at_once_and_their_notes_at_the_next_bar(
        library, tmp_path):
    t = live_rig(chart_song(library, parts=True), tmp_path)
    try:
        drive(t, BAR_120 + 3 * PERIOD, {0: [c.Play()]})
        drive(t, PERIOD, {0: [c.SetIntensity(0.0)]})
        assert t.song.mixer.expression_db == -12.0                 # [parts] expression_db
        assert t.plan_switch == 2 * BAR_120
        drive(t, PERIOD, {0: [c.NudgeIntensity(0.25), c.NudgeIntensity(0.25)]})
        assert t.song.plan.latest.intensity == 0.5
        assert t.song.mixer.expression_db == -6.0
        assert t.snapshot().key_tempo.intensity == 0.5
        drive(t, 2 * PERIOD, {0: [c.NudgeIntensity(1.0)], PERIOD: [c.NudgeIntensity(1.0)]})
        assert t.snapshot().rejected == "NudgeIntensity: already there"
    finally:
        t.bank.stop()


def test_a_key_on_a_song_with_neither_stems_nor_parts_says_there_is_nothing_to_transpose(live):
    drive(live, 2 * PERIOD, {0: [c.SetKey(2)], PERIOD: [c.NudgeKey(1)]})
    assert live.snapshot().rejected == \
        "NudgeKey: this song has no stems and no parts: there is nothing to transpose"
    assert live.bank.keys.wanted == {} and live.snapshot().key_tempo.transpose == 0


def test_a_song_without_parts_says_so(library, tmp_path):
    t = live_rig(position_song(library, "stems", 2), tmp_path)
    try:
        drive(t, PERIOD, {0: [c.SetIntensity(0.3)]})
        assert t.snapshot().rejected == \
            "SetIntensity: this song has no parts to play softer or louder"
        assert t.snapshot().key_tempo.intensity is None
    finally:
        t.bank.stop()


# -- with sound: the parts synthesised by FluidSynth, through the transport's mixer --------
BASS_CHART = '''title = "Bass"
count_in = 0
loudness = false
chart = """
tempo: 240
[A] x2
| E | E | E | E |
"""
[[part]]
name = "bass"
route = ["bass"]
[[part]]
name = "drums"
route = ["bass"]
muted = %s
[[part]]
name = "keys"
muted = true
'''
SECOND = RATE                 # a bar at 240 BPM
SOUND = dict(rate=RATE, channels=3, period=PERIOD,
             outputs={"foh": (1,), "click": (2,), "bass": (3,)})


def sound_rig(library, tmp, *, drums: bool = False, bars: str = "| E | E | E | E |") -> Transport:
    folder = library / "songs" / "bass"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "song.toml").write_text(BASS_CHART.replace("| E | E | E | E |", bars) %
                                      ("false" if drums else "true"))
    bank = SongBank(Show.of_song(folder), Config(cache=tmp / "cache", **SOUND), PERIOD,
                    blocking=True)
    assert bank.load_now(0) is not None, bank.problems
    assert bank.get(0).plan is not None, "FluidSynth and a SoundFont play the parts"
    return Transport(bank, rate=RATE, channels=3, block=PERIOD)


def note_onsets(x: np.ndarray, block: int = 480) -> np.ndarray:
    """Frames (to a 10 ms block) where a part's level jumps: its notes' starts."""
    env = np.maximum.reduceat(np.abs(x), np.arange(0, len(x), block))
    rises = np.flatnonzero(env[1:] > 2.5 * env[:-1] + 1e-4) + 1
    firsts = rises[np.concatenate([[True], np.diff(rises) > 3])]    # an attack over blocks: one
    return firsts * block


def pitch_class(x: np.ndarray) -> int:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    band = (freqs >= 25) & (freqs <= 400)
    return round(12 * np.log2(freqs[band][np.argmax(spectrum[band])] / 440) + 69) % 12


def test_a_transpose_asked_during_bar_4_moves_the_bass_at_bar_5s_frame_not_before(
        library, tmp_path):
    t = sound_rig(library, tmp_path)
    try:
        asked = 3 * SECOND + 300 * PERIOD               # 0.8 s into bar 4
        out = drive(t, 6 * SECOND, {0: [c.Play()], asked: [c.SetKey(3)]})[:, 2]
        assert t.song.plan.pending == () and t.song.plan.settings.transpose == 3   # reached
        window = SECOND // 4
        assert pitch_class(out[3 * SECOND + window: 3 * SECOND + 2 * window]) == 4   # E
        assert pitch_class(out[4 * SECOND - window: 4 * SECOND]) == 4      # to the end of bar 4
        assert pitch_class(out[4 * SECOND + 600: 4 * SECOND + window]) == 7   # G from bar 5
        assert pitch_class(out[5 * SECOND: 5 * SECOND + window]) == 7
    finally:
        t.bank.stop()


def test_intensity_0_lowers_the_parts_by_expression_db_and_plays_fewer_notes(library, tmp_path):
    t = sound_rig(library, tmp_path, drums=True)
    try:
        drums = t.song.mixer.input("drums")
        first = drive(t, 2 * SECOND + 10 * PERIOD, {0: [c.Play(), c.SetIntensity(1.0)]})
        loud = drums.matrix.copy()
        rest = drive(t, 5 * SECOND - 10 * PERIOD, {0: [c.SetIntensity(0.0)]})
        soft = drums.matrix
        out = np.concatenate([first, rest])[:, 2]
        assert t.song.mixer.expression_db == -12.0
        level = 20 * np.log10(np.abs(soft).sum() / np.abs(loud).sum())
        assert level == pytest.approx(-12.0, abs=1e-4)            # the mixer's part, exactly

        def rms(bar: int) -> float:
            x = out[bar * SECOND: (bar + 1) * SECOND].astype(np.float64)
            return float(np.sqrt(np.mean(x * x)))

        def onsets_in(bar: int) -> int:
            return len(note_onsets(out[bar * SECOND: (bar + 1) * SECOND]))
        drop = 20 * np.log10(rms(4) / rms(1))
        assert drop <= -12.0 + 1.0                       # the level, and fewer notes besides
        assert onsets_in(4) < onsets_in(1)
    finally:
        t.bank.stop()


# -- structure: vamp, jump and "last time" (releasing the vamp) on chart sections ---------
def timeline(log: SegmentLog) -> np.ndarray:
    """The song frame heard at each logged stretch's start, in order: where play went."""
    from appliance.vocab.segments import LENGTH, TIMELINE
    _, rows = log.rows(0)
    return rows[:, [TIMELINE, LENGTH]]


def jumps(log: SegmentLog) -> list[tuple[int, int]]:
    """(from, to) song frames of every discontinuity in what was played."""
    rows = timeline(log)
    ends = rows[:-1, 0] + rows[:-1, 1]
    return [(int(a), int(b)) for a, b in zip(ends, rows[1:, 0]) if a != b]


def test_a_vamp_of_the_verse_plays_its_bars_again_until_released_then_goes_on(live):
    t = live
    log = SegmentLog(capacity=1 << 16)
    verse, bridge = 2 * BAR_120, 10 * BAR_120
    vamp_at = verse + 2 * BEAT_120
    release = vamp_at + 2 * (bridge - verse)       # in the third time round
    frames = release + (bridge - verse) + BAR_120
    drive(t, frames, {0: [c.Play()], vamp_at: [c.Vamp()], release: [c.ReleaseVamp()]}, log)
    assert jumps(log) == [(bridge, verse), (bridge, verse)]    # twice more, bar for bar
    end = timeline(log)[-1].sum()
    assert end == frames - 2 * (bridge - verse) and end > bridge   # then into the Bridge


def test_a_jump_to_the_bridge_lands_on_its_first_beat(live):
    t = live
    log = SegmentLog(capacity=1 << 16)
    at = BAR_120 + 5 * PERIOD
    out = drive(t, 3 * BAR_120, {0: [c.Play()], at: [c.Jump("Bridge")]}, log)
    assert jumps(log) == [(2 * BAR_120, 10 * BAR_120)]        # at the next bar
    assert 2 * BAR_120 in onsets(out)                          # the Bridge's beat 1 clicks
    assert set(np.diff(onsets(out))) == {BEAT_120}            # and the click goes on


def test_after_a_tempo_change_the_vamp_loops_exactly_its_section_in_the_new_map(live):
    t = live
    log = SegmentLog(capacity=1 << 16)
    verse = 2 * BAR_120
    vamp_at, bpm_at = verse + 2 * BEAT_120, verse + 2 * BAR_120 + 3 * PERIOD
    frames = bpm_at + 10 * BAR_120
    out = drive(t, frames, {0: [c.Play()], vamp_at: [c.Vamp()],
                            bpm_at: [c.SetBpm(100)]}, log)
    change = bpm_at + BEAT_120 - bpm_at % BEAT_120 if bpm_at % BEAT_120 else bpm_at
    moved = jumps(log)
    beat = change // BEAT_120                        # the beat the tempo changed on
    assert moved[0] == (change, beat * BEAT_100)     # the same beat in the new map
    assert moved[1] == (10 * 4 * BEAT_100, 2 * 4 * BEAT_100)   # the Verse, in the new map
    assert set(np.diff(onsets(out))) == {BEAT_120, BEAT_100}


def test_a_jump_before_the_tempo_changes_beat_lands_on_its_target_in_the_new_map(live):
    t = live
    log = SegmentLog(capacity=1 << 16)
    at = BAR_120 + 5 * PERIOD
    out = drive(t, at + 6 * BEAT_100, {0: [c.Play()], at: [c.SetBpm(100)],
                                      at + PERIOD: [c.Jump("Bridge", at=c.At.NOW)]}, log)
    assert jumps(log) == [(at + PERIOD, 10 * 4 * BEAT_100)]     # the Bridge, new map
    assert t.retiming is None and t.snapshot().bpm == 100
    after = onsets(out)[onsets(out) > at + PERIOD]
    assert set(np.diff(after)) == {BEAT_100}


def test_a_key_change_while_a_vamp_is_cued_plays_the_loop_again_in_the_new_key(
        library, tmp_path):
    t = sound_rig(library, tmp_path)
    try:
        loop_at, asked = 2 * SECOND + 20 * PERIOD, 2 * SECOND + 100 * PERIOD
        out = drive(t, 5 * SECOND, {0: [c.Play()], loop_at: [c.Vamp(2)],   # bars 3-4
                                   asked: [c.SetKey(3)]})[:, 2]
        assert t.song.plan.pending == () and t.song.plan.settings.transpose == 3   # reached
        window = SECOND // 4
        assert pitch_class(out[3 * SECOND - window: 3 * SECOND]) == 4        # bar 3: E
        assert pitch_class(out[3 * SECOND + 600: 3 * SECOND + window]) == 7  # bar 4: G
        # the loop's start, read ahead in E when the vamp began, sounds in G
        assert pitch_class(out[4 * SECOND + 600: 4 * SECOND + window]) == 7
    finally:
        t.bank.stop()


def test_the_parts_follow_a_new_tempo_from_its_beat(library, tmp_path):
    t = sound_rig(library, tmp_path)
    t.bank.retimer.start()
    try:
        asked = SECOND + 10 * PERIOD                            # early in bar 2, at 240
        out = drive(t, 8 * SECOND, {0: [c.Play()], asked: [c.SetBpm(120)]})[:, 2]
        change = t.timings[-1][0]                               # the beat it changed on
        assert change % (SECOND // 4) == 0 and SECOND < change <= 2 * SECOND
        notes = note_onsets(out)
        before = notes[notes < SECOND]
        later = notes[notes >= change + SECOND]                # the strong beats at 120
        assert list(np.diff(before)) == [SECOND // 2]            # beats 1 and 3 at 240 BPM
        assert len(later) >= 4 and np.all(np.abs(np.diff(later) - SECOND) <= 480)
    finally:
        t.bank.stop()


def test_a_count_in_the_retimer_cannot_make_is_logged_and_the_play_makes_it(
        library, tmp_path, monkeypatch, caplog):
    t = live_rig(chart_song(library, count_in=1), tmp_path)
    try:
        def broken(frame):
            raise ValueError("no count-in here")
        monkeypatch.setattr(t.song, "make_count_in", broken)
        drive(t, PERIOD, {0: [c.Seek(3)]})                   # it rests at bar 3
        assert wait_for(lambda: "count-in of live at frame" in caplog.text)
        assert "no count-in here" in caplog.text and t.bank.retimer.is_alive()
        drive(t, PERIOD, {0: [c.Play()]})
        assert t.state == TransportState.COUNT_IN and t.count_in.length == BAR_120
    finally:
        t.bank.stop()


def test_a_retiming_that_fails_is_logged_and_the_song_plays_on_at_its_tempo(
        live, monkeypatch, caplog):
    from appliance.audio.disk import retime
    made = retime.timing
    calls = []

    def once_broken(song, factor, asked=0):
        calls.append(factor)
        if len(calls) == 1:
            raise MemoryError("no room for the click map")
        return made(song, factor, asked)
    monkeypatch.setattr(retime, "timing", once_broken)
    t = live
    out = drive(t, 4 * BEAT_120, {0: [c.Play()], PERIOD: [c.SetBpm(100)]})
    assert set(np.diff(onsets(out))) == {BEAT_120}            # on at 120
    assert "tempo change of live to 83.3333%: no room for the click map; it plays on " \
           "as it was" in caplog.text
    drive(t, 2 * BEAT_120, {0: [c.NudgeBpm(1)]})
    assert t.snapshot().bpm == 121 and t.bank.retimer.is_alive()   # 120 + 1, not 101


def test_faster_the_parts_play_on_from_the_same_beat_in_the_new_map(library, tmp_path):
    """Speeding up puts the same beat at an earlier frame, which the old run has just
    played: the parts must start a run in the new map there, not serve the old one."""
    t = sound_rig(library, tmp_path, bars="| E | G | C | G |")
    t.bank.retimer.start()
    try:
        out = drive(t, 6 * SECOND, {0: [c.Play()], 2 * SECOND + 10 * PERIOD: [c.SetBpm(300)]})
        change = t.timings[-1][0]
        assert change == 2 * SECOND + SECOND // 4             # bar 3 beat 2, at 240
        bar = SECOND * 240 // 300                              # a bar at 300: 0.8 s
        bar_4 = change + 3 * bar // 4                          # 3 beats on

        def heard(at: float, length: float = 0.2) -> int:
            return pitch_class(out[int(bar_4 + at * bar): int(bar_4 + (at + length) * bar)][:, 2])
        assert heard(0.2) == 7                                 # bar 4: G
        assert heard(1.15) in (4, 11)                          # bar 5: E (at 240 still G)
        assert heard(2.2) == 7                                 # bar 6: G (at 240: E)
    finally:
        t.bank.stop()


def test_taps_through_the_engine_are_timed_by_its_output_clock(library, tmp_path, monkeypatch):
    """The real engine on JACK's dummy server (paced as a card): four taps a musician's 0.6 s
    apart set about 100 BPM, timed by the frames the engine had written when it took them
    (the transport's own tests time them exactly)."""
    from alsa_doubles import Jack, jack_pcm, use_config
    from appliance.audio.player import Player
    from appliance.errors import Problems
    folder = chart_song(library)
    with Jack():
        use_config(monkeypatch, tmp_path, jack_pcm("jackhat", 2))
        config = Config(cache=tmp_path / "cache", **{**CONFIG, "format": "FLOAT_LE"})
        p = Player.open(folder, config, Problems(), device="jackhat")
        p.send(c.Play())
        with p:
            assert wait_for(lambda: p.state.bar >= 2, 5)
            hand = threading.Event()
            for _ in range(4):
                p.send(c.TapTempo())
                hand.wait(0.6)                     # the musician's hand, not the box's clock
            assert wait_for(lambda: abs(p.state.bpm - 100) < 3, 3), p.state.bpm
            assert p.state.key_tempo.tempo == pytest.approx(p.state.bpm / 120)


# -- several live changes in flight: each where it was asked, "the next bar played" ------
WINDOW = SECOND // 4


def heard(out: np.ndarray, at: int, length: int = WINDOW) -> int:
    return pitch_class(out[at: at + length])


def test_a_key_waiting_for_bar_5_then_a_new_tempo_moves_with_the_bar_not_sooner(
        library, tmp_path):
    t = sound_rig(library, tmp_path)
    t.bank.retimer.start()
    try:
        asked = 3 * SECOND + 100 * PERIOD                       # early in bar 4, at 240
        out = drive(t, 6 * SECOND, {0: [c.Play()], asked: [c.SetKey(3)],
                                    asked + 10 * PERIOD: [c.SetBpm(200)]})[:, 2]
        change = t.timings[-1][0]                               # the beat the tempo took
        beat = SECOND // 4
        assert change % beat == 0 and asked < change < 4 * SECOND
        five = change + (16 - change // beat) * (RATE * 60 // 200)   # bar 5, at 200
        assert heard(out, five - WINDOW) == 4                   # E to the end of bar 4
        assert heard(out, five + 600) == 7                      # G from bar 5 on
        assert t.song.plan.settings.transpose == 3 and t.song.plan.pending == ()
    finally:
        t.bank.stop()


def test_a_key_and_an_intensity_asked_in_one_bar_both_land_on_the_next(library, tmp_path):
    t = sound_rig(library, tmp_path)
    try:
        asked = 3 * SECOND + 100 * PERIOD
        drive(t, asked + 20 * PERIOD, {0: [c.Play()], asked: [c.SetKey(3)],
                                       asked + 10 * PERIOD: [c.SetIntensity(0.2)]})
        plan = t.song.plan
        assert [(ch.beat, ch.fields) for ch in plan.pending] == \
            [(16, (("transpose", 3),)), (16, (("intensity", 0.2),))]
        out = drive(t, 2 * SECOND)[:, 2]
        assert (plan.settings.transpose, plan.settings.intensity, plan.pending) == (3, 0.2, ())
        bar_5 = 4 * SECOND - asked - 20 * PERIOD
        assert heard(out, bar_5 - WINDOW) == 4 and heard(out, bar_5 + 600) == 7
    finally:
        t.bank.stop()


def test_a_stop_with_a_key_waiting_makes_it_the_songs_and_the_next_play_has_it(
        library, tmp_path):
    t = sound_rig(library, tmp_path)
    try:
        asked = 3 * SECOND + 100 * PERIOD
        again = asked + 200 * PERIOD
        out = drive(t, again + SECOND, {0: [c.Play()], asked: [c.SetKey(3)],
                                        asked + 10 * PERIOD: [c.Stop()],
                                        again: [c.Play()]})[:, 2]
        assert t.song.plan.settings.transpose == 3 and t.song.plan.pending == ()
        assert t.snapshot().key_tempo.transpose == 3.0
        assert heard(out, again + 600) == 7                     # bar 1 again, in G
    finally:
        t.bank.stop()


def test_a_vamp_asked_after_a_key_plays_its_loop_in_the_new_key(library, tmp_path):
    """The key was to come at bar 5; the vamp (bars 3-4) goes back before it: the next bar
    played is bar 3, and it has the key."""
    t = sound_rig(library, tmp_path)
    try:
        asked = 3 * SECOND + 100 * PERIOD
        out = drive(t, 6 * SECOND, {0: [c.Play()], asked: [c.SetKey(3)],
                                    asked + 10 * PERIOD: [c.Vamp(2)]})[:, 2]
        assert heard(out, 4 * SECOND - WINDOW) == 4             # bar 4 still E
        assert heard(out, 4 * SECOND + 600) == 7                # bar 3 again: G
        assert heard(out, 5 * SECOND + 600) == 7                # bar 4 again: G
    finally:
        t.bank.stop()


@pytest.mark.parametrize("before, first, second", [
    (SECOND // 5, 7, 7),        # 0.2 s before the loop's end: its start made again, in G
    (SECOND // 25, 4, 7),       # 40 ms: too near to make it again; the loop's next bar has it
])
def test_a_key_asked_in_a_loops_last_bar_comes_at_the_next_bar_played(
        library, tmp_path, before, first, second):
    t = sound_rig(library, tmp_path)
    try:
        asked = 4 * SECOND - before
        out = drive(t, 6 * SECOND, {0: [c.Play()], 2 * SECOND + 20 * PERIOD: [c.Vamp(2)],
                                    asked: [c.SetKey(3)]})[:, 2]
        assert heard(out, 4 * SECOND - WINDOW // 2, WINDOW // 2) == 4   # the loop's end: E
        assert heard(out, 4 * SECOND + 600) == first                   # bar 3 again
        assert heard(out, 5 * SECOND + 600) == second                  # bar 4 again
    finally:
        t.bank.stop()


# -- a chart song remembers what the band set: song changes and back ----------------------
def test_a_chart_song_left_and_come_back_to_plays_as_the_band_left_it(library, tmp_path):
    from appliance.audio.disk.show import ShowEntry
    from appliance.timeline.setlist import Transition
    folders = (chart_song(library, "one", parts=True), position_song(library, "two", 2),
               position_song(library, "three", 2))
    show = Show("gig", tuple(ShowEntry(f, Transition()) for f in folders))
    bank = SongBank(show, Config(cache=tmp_path / "cache", **CONFIG), PERIOD, blocking=True)
    assert bank.load_now(0) is not None, bank.problems
    t = Transport(bank, rate=RATE, channels=2, block=PERIOD)
    bank.start()                                          # the loader and the retimer
    try:
        drive(t, PERIOD, {0: [c.SetKey(3), c.SetIntensity(0.3), c.SetBpm(110)]})
        first = t.song
        assert t.snapshot().bpm == 110
        drive(t, PERIOD, {0: [c.NextSong()]})
        assert t.setlist.index == 1
        assert wait_for(lambda: bank.get(0) is None)      # no longer kept: closed
        drive(t, PERIOD, {0: [c.PreviousSong()]})
        assert wait_for(lambda: bank.get(0) is not None)  # loaded again
        drive(t, PERIOD)
        song = t.song
        assert t.setlist.index == 0 and song is not first
        assert (song.plan.settings.transpose, song.plan.settings.intensity) == (3, 0.3)
        assert song.song.tempo.factor == Fraction(110, 120) and song.plan.pending == ()
        assert song.plan.settings.tempo is song.song.tempo            # the parts at 110 too
        s = t.snapshot()
        assert (s.bpm, s.key_tempo.transpose, s.key_tempo.intensity) == (110, 3.0, 0.3)
        assert song.mixer.expression_db == pytest.approx(-0.7 * 12)
        out = drive(t, 3 * BEAT_120, {0: [c.Play()]})
        assert all(abs(d - RATE * 60 / 110) < 1 for d in np.diff(onsets(out)))   # at 110
    finally:
        bank.stop()


def test_a_kept_setting_that_cannot_be_is_said_and_the_song_plays_as_written(library, tmp_path):
    bank = SongBank(Show.of_song(chart_song(library, parts=True)),
                    Config(cache=tmp_path / "cache", **CONFIG), PERIOD, blocking=True)
    try:
        bank.keys.want(0, (Fraction(20), Fraction(1)))
        song = bank.load_now(0)
        assert song is not None and song.plan.settings.transpose == 0
        said = [str(p) for p in bank.problems[0]]
        assert any("song.toml: warning: cannot play it as left tonight (transpose must be -12 "
                   "to 12 semitones, not 20); it plays as written" in s for s in said), said
    finally:
        bank.stop()
