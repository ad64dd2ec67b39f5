"""Key and tempo changed live (issue 16): the commands, a CC and an encoder making them,
the transport recording the wanted key and tempo, and the switch at the next stop to the
variant a real Preparer made (Rubber Band), never mid-song."""
from __future__ import annotations

import time
from fractions import Fraction

import mido
import numpy as np
import pytest
import soundfile as sf

from appliance.audio.disk.preparer import Preparer
from appliance.audio.disk.show import Show, SongBank
from appliance.audio.play.transport import Transport
from appliance.config import Config
from appliance.config.midi_map import MidiMap, MidiRule, MidiSpec
from appliance.vocab import commands as c
from appliance.vocab.names import command_name, parse_command, turn_command
from appliance.vocab.state import TransportState

from transport_rig import CONFIG, RATE, close, onsets, position_song, rig, run


# -- the vocabulary -----------------------------------------------------------------
@pytest.mark.parametrize("text, cmd", [
    ("key -2", c.SetKey(-2)), ("key +3", c.SetKey(3)), ("key 0", c.SetKey(0)),
    ("key-up", c.NudgeKey(1)), ("key-down", c.NudgeKey(-1)),
    ("tempo 90%", c.SetTempo(90)), ("tempo +1%", c.NudgeTempo(1)),
    ("tempo -5%", c.NudgeTempo(-5)), ("tempo-down", c.NudgeTempo(-1))])
def test_key_and_tempo_commands_parse_and_spell_back(text, cmd):
    assert parse_command(text) == cmd
    assert parse_command(command_name(cmd)) == cmd


@pytest.mark.parametrize("make, error, says", [
    (lambda: c.SetKey(13), ValueError, "SetKey.semitones must be -12 to 12, not 13"),
    (lambda: c.SetKey(-2.0), TypeError, "SetKey.semitones must be int"),
    (lambda: c.SetTempo(49), ValueError, "SetTempo.percent must be 50 to 200, not 49"),
    (lambda: c.SetTempo(True), TypeError, "SetTempo.percent must be int"),
    (lambda: c.NudgeTempo(float("nan")), TypeError, "NudgeTempo.percent must be int"),
    (lambda: parse_command("tempo 90"), ValueError, "needs a percentage"),
    (lambda: parse_command("tempo 5%"), ValueError, "SetTempo.percent must be 50 to 200"),
    (lambda: parse_command("key nan"), ValueError, "'key' needs a whole number"),
])
def test_bad_key_and_tempo_commands_say_what_is_allowed(make, error, says):
    with pytest.raises(error, match=says):
        make()


def test_a_cc_sets_the_key_and_the_tempo_and_an_encoder_turns_them():
    m = MidiMap(MidiSpec(rules=(MidiRule("cc", 21, target="key"),
                                MidiRule("cc", 22, target="tempo"))))
    cc = lambda n, v: mido.Message("control_change", control=n, value=v)  # noqa: E731
    assert m.commands(cc(21, 0)) == [c.SetKey(-12)]
    assert m.commands(cc(21, 64)) == [c.SetKey(0)]
    assert m.commands(cc(21, 127)) == [c.SetKey(12)]
    assert m.commands(cc(22, 54)) == [c.SetTempo(90)]
    assert m.commands(cc(22, 0)) == [c.SetTempo(50)]
    assert turn_command("key", -2) == [c.NudgeKey(-2)]
    assert turn_command("tempo", 3) == [c.NudgeTempo(3)]


# -- the transport --------------------------------------------------------------------
def test_the_transport_records_the_wanted_key_and_tempo_and_the_state_shows_them(
        tmp_path):
    t = rig(Show.of_song(position_song(tmp_path, "s", 2)), tmp_path)
    try:
        run(t, 256, {0: [c.SetKey(-2)], 128: [c.NudgeTempo(-10), c.NudgeTempo(-1)]})
        k = t.snapshot().key_tempo
        assert (k.transpose, k.tempo, k.bpm) == (0.0, 1.0, 120.0)
        assert (k.wanted_transpose, k.wanted_tempo) == (-2.0, 0.89)
        assert t.bank.keys.wanted == {0: (Fraction(-2), Fraction(89, 100))}
        run(t, 128, {0: [c.NudgeKey(24)]})
        assert t.bank.keys.wanted[0][0] == 12                   # kept within -12..+12
        run(t, 128, {0: [c.SetKey(12)]})
        assert t.snapshot().rejected == "SetKey: already there"
    finally:
        close(t)


# -- the switch, with a real Preparer -------------------------------------------------
def sine_song(library, name="sine", seconds=4.0, freq=440.0):
    folder = library / "songs" / name
    folder.mkdir(parents=True)
    n = int(seconds * RATE)
    sf.write(str(folder / "tone.wav"),
             (0.5 * np.sin(2 * np.pi * freq * np.arange(n) / RATE)).astype(np.float32), RATE,
             subtype="FLOAT")
    (folder / "song.toml").write_text('[[tempo]]\nbar = 1\nbpm = 120\n'
                                      '[[stem]]\nfile = "tone.wav"\nroute = ["foh"]\n')
    return folder


def live_rig(tmp_path, folder):
    config = Config(cache=tmp_path / "cache", **CONFIG)
    preparer = Preparer(config)
    bank = SongBank(Show.of_song(folder), config, 128, blocking=True, preparer=preparer)
    assert bank.load_now(0) is not None, bank.problems
    t = Transport(bank, rate=RATE, channels=2, block=128)
    bank.start()
    return t, preparer


def stop_rig(t, preparer):
    t.bank.stop()
    preparer.stop()


def peak_hz(out):
    x = out[:, 0].astype(np.float64) * np.hanning(len(out))
    spectrum = np.abs(np.fft.rfft(x, 8 * len(x)))
    return np.argmax(spectrum) * RATE / (8 * len(x))


def until(t, what, seconds=120.0):
    """Render stopped periods until `what()` holds (the loader works meanwhile)."""
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, t.snapshot().key_tempo
        run(t, 128)
        time.sleep(0.01)


def test_a_key_turned_while_playing_switches_at_the_stop(tmp_path):
    t, preparer = live_rig(tmp_path, sine_song(tmp_path))
    try:
        original = t.song
        run(t, 128, {0: [c.Play(), c.SetKey(-2)]})
        deadline = time.monotonic() + 120
        while t.bank.get(0) is original:           # playing on while it is prepared
            assert time.monotonic() < deadline, t.snapshot().key_tempo
            out = run(t, 4096)
            if t.state != TransportState.PLAYING:
                run(t, 128, {0: [c.Play()]})
            time.sleep(0.005)
        assert t.bank.get(0).song.transpose == -2      # ready in the bank
        out = run(t, 8192)                             # and still the original, mid-song
        assert t.song is original and abs(peak_hz(out) - 440) < 2
        k = t.snapshot().key_tempo
        assert (k.transpose, k.wanted_transpose) == (0.0, -2.0)
        run(t, 2048, {0: [c.Stop()]})
        assert t.song.song.transpose == -2 and t.state == TransportState.STOPPED
        out = run(t, 24576, {0: [c.Play()]})[4096:]
        assert abs(peak_hz(out) - 392.0) < 392 * 0.005
        k = t.snapshot().key_tempo
        assert (k.transpose, k.wanted_transpose, k.preparing) == (-2.0, -2.0, None)
    finally:
        stop_rig(t, preparer)


def test_a_tempo_chosen_while_stopped_plays_at_once_with_the_click_on_the_scaled_beats(
        tmp_path):
    t, preparer = live_rig(tmp_path, sine_song(tmp_path))
    try:
        run(t, 128, {0: [c.SetTempo(90)]})
        until(t, lambda: t.song.song.tempo.factor == Fraction(9, 10))
        out = run(t, 4 * RATE, {0: [c.Play()]})
        beat = Fraction(RATE * 60, 108)                 # 120 BPM at 0.9
        want = [round(i * beat) for i in range(7)]
        assert list(onsets(out)[:7]) == want
        assert t.song.frames == round(4 * RATE / Fraction(9, 10))
    finally:
        stop_rig(t, preparer)


def test_a_tempo_its_stems_are_stretched_to_already_is_taken_mid_song_at_a_beat(tmp_path):
    """Made ahead (`backline prepare --tempo 0.9`): a BPM asked as it plays that rounds to
    90 % is followed at a beat, the stems at the new tempo from the same beat, no gap; a
    tempo not made ahead waits for the next stop and says so."""
    from appliance.audio.disk.variants import prepare_song
    from appliance.errors import Problems
    from appliance.timeline.song import load_song
    folder = sine_song(tmp_path, seconds=8.0)
    written = load_song(folder, Problems())
    assert not prepare_song(written.at(Fraction(9, 10), Fraction(0)),
                            Config(cache=tmp_path / "cache", **CONFIG))
    t, preparer = live_rig(tmp_path, folder)
    try:
        assert {Fraction(9, 10), Fraction(1)} <= t.bank.keys.stretched[0]
        assert Fraction(95, 100) not in t.bank.keys.stretched[0]
        original = t.song
        outs = [run(t, RATE, {0: [c.Play()]})]
        outs.append(run(t, 128, {0: [c.NudgeBpm(-6)]}))          # 114: 95 %, not made
        assert t.snapshot().rejected == \
            "NudgeBpm: this song has stems: its tempo changes at the next stop"
        refused = t.snapshot().refusals
        outs.append(run(t, 128, {0: [c.SetBpm(108)]}))           # 90 %, made ahead
        assert t.snapshot().refusals == refused                  # taken, nothing to say
        deadline = time.monotonic() + 30
        while t.song is original:
            assert time.monotonic() < deadline, t.snapshot().key_tempo
            outs.append(run(t, 4096))
            time.sleep(0.005)
        outs.append(run(t, 2 * RATE))
        out = np.concatenate(outs)
        assert t.state == TransportState.PLAYING and t.song.song.tempo.factor == Fraction(9, 10)
        clicks = np.diff(onsets(out))
        slow = round(RATE * 60 / 108)
        assert set(clicks) <= {RATE // 2, slow - 1, slow, slow + 1}   # nothing skipped, doubled
        switch = np.flatnonzero(clicks != RATE // 2)[0]
        assert np.all(np.abs(clicks[switch:] - slow) <= 1)             # at 108 from a beat on
        at = onsets(out)[switch]                                       # the beat it took
        level = np.sqrt(np.mean(out[at - 4800: at + 4800, 0].reshape(-1, 480) ** 2, axis=1))
        assert level.min() > 0.3                                       # the stems never gap
        assert abs(peak_hz(out[at + RATE // 2: at + RATE // 2 + 8192]) - 440) < 2
    finally:
        stop_rig(t, preparer)


def test_a_failing_preparation_leaves_the_song_as_it_was_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-engine-here"))
    t, preparer = live_rig(tmp_path, sine_song(tmp_path))
    try:
        original = t.song
        run(t, 128, {0: [c.SetKey(-2)]})
        until(t, lambda: t.snapshot().key_tempo.problem, 30)
        k = t.snapshot().key_tempo
        assert "cannot prepare key -2, tempo 100%" in k.problem, k
        assert "rubberband" in k.problem.lower(), k
        out = run(t, 8192, {0: [c.Play()]})[2048:]
        assert t.song is original and abs(peak_hz(out) - 440) < 2
    finally:
        stop_rig(t, preparer)


# -- the menu page and the performance screen ---------------------------------------------
def test_the_key_tempo_page_reads_and_turns_the_songs_key_and_tempo():
    from appliance.ui.menu import Menu
    from appliance.vocab.state import KeyTempo, State
    sent = []
    menu = Menu(sent.append, songs=lambda: [], setlists=lambda: [], outputs=("foh",))
    menu.see(State(key="C", key_tempo=KeyTempo(bpm=120.0)))
    for cmd in (c.OpenMenu(), c.MenuMove(3), c.MenuSelect()):
        menu.apply(cmd)
    assert menu.view().title == "Key/Tempo"
    assert menu.view().items == ("Key 0", "Tempo 100% (120 BPM)")
    menu.apply(c.MenuSelect())                   # turn the key
    menu.apply(c.MenuMove(-2))
    menu.apply(c.MenuSelect())
    menu.apply(c.MenuMove(1))                    # turn the tempo
    menu.apply(c.MenuSelect())
    menu.apply(c.MenuMove(-10))
    menu.apply(c.MenuSelect())                   # done turning
    assert sent == [c.NudgeKey(-2), c.NudgeTempo(-10)]
    menu.see(State(key="C", key_tempo=KeyTempo(wanted_transpose=-2, wanted_tempo=0.9,
                                                bpm=120.0, preparing=0.4)))
    assert menu.view().items == ("Key -2", "Tempo 90% (108 BPM)", "As recorded",
                                 "preparing 40 %")
    menu.apply(c.MenuMove(1))
    menu.apply(c.MenuSelect())                   # back to the recording
    assert sent[-2:] == [c.SetKey(0), c.SetTempo(100)]


def test_the_performance_screen_shows_the_key_played_and_the_one_being_prepared():
    from appliance.ui.screens import coming, screen_key, shifted_key
    from appliance.vocab.state import KeyTempo, State
    assert (shifted_key("C", -2), shifted_key("Am", 3), shifted_key("F#", 1)) == \
        ("Bb -2", "Cm +3", "G +1")
    preparing = State(key="C", key_tempo=KeyTempo(wanted_transpose=-2, preparing=0.4))
    assert coming(preparing) == "preparing Bb -2 ... 40 %"
    ready = State(key="C", key_tempo=KeyTempo(wanted_tempo=0.9, preparing=1.0))
    assert coming(ready) == "90% at the next stop"
    failed = State(key="C", key_tempo=KeyTempo(wanted_transpose=-2, problem="cannot prepare"))
    assert coming(failed) == "cannot prepare"
    assert screen_key(preparing, None, "") != screen_key(ready, None, "")
