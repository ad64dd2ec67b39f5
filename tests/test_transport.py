"""The transport, period by period: what sounds at every sample after each command."""
from __future__ import annotations

from fractions import Fraction

import mido
import numpy as np
import pytest

from appliance.audio.disk.show import Show
from appliance.vocab import commands as c
from appliance.vocab.names import turn_command
from appliance.vocab.state import TransportState

from conftest import wait_for
from transport_rig import BAR, close, decode, onsets, position_song, rig, run

FADE = 240      # 5 ms at 48 kHz


@pytest.fixture
def song(library):
    return position_song(library, "song", bars=6)


def test_play_from_stopped_plays_every_frame_in_order(song, tmp_path):
    t = rig(Show.of_song(song), tmp_path)
    assert t.state == TransportState.STOPPED
    out = run(t, 2 * BAR, {0: [c.Play()]})
    assert np.array_equal(decode(out), np.arange(2 * BAR))
    assert list(onsets(out)) == list(range(0, 2 * BAR, 24000))
    assert t.snapshot().bar == 3 and t.snapshot().section == "B"
    close(t)


def test_count_in_then_bar_one(library, tmp_path):
    folder = position_song(library, "ci", bars=2, count_in=1)
    t = rig(Show.of_song(folder), tmp_path)
    out = run(t, 2 * BAR, {0: [c.Play()]})
    assert t.state == TransportState.PLAYING
    assert not out[:BAR, 0].any()                          # count-in: click only
    assert list(onsets(out[:BAR])) == [0, 24000, 48000, 72000]
    assert np.array_equal(decode(out[BAR:]), np.arange(BAR))
    close(t)


def test_vamp_plays_the_section_exactly_three_times(song, tmp_path):
    t = rig(Show.of_song(song), tmp_path)
    B = 2 * BAR                                           # section B: bars 3-4
    # vamp asked in the middle of B's first pass, released during the third
    out = run(t, 2 * BAR + 3 * B + 2 * BAR, {0: [c.Play()], 300032: [c.Vamp()],
                                             2 * BAR + 2 * B + 1280: [c.ReleaseVamp()]})
    heard = decode(out)
    assert np.array_equal(heard[:2 * BAR + B], np.arange(2 * BAR + B))      # A, then B once
    for p in (1, 2):                                      # passes 2 and 3, after each loop's fade
        start = 2 * BAR + p * B
        assert np.array_equal(heard[start + FADE: start + B], np.arange(2 * BAR + FADE, 4 * BAR))
    c_start = 2 * BAR + 3 * B                             # then C, with no fade: no jump there
    assert np.array_equal(heard[c_start:], np.arange(4 * BAR, 6 * BAR))
    # the click never skips or doubles a beat across the loops
    assert list(onsets(out)) == list(range(0, len(out), 24000))
    loud = [np.abs(out[f: f + 100, 1]).max() for f in range(0, len(out), 24000)]
    accents = [i for i, v in enumerate(loud) if v > max(loud) * 0.9]
    assert accents == list(range(0, len(loud), 4))
    close(t)


def test_jump_at_next_bar_lands_on_the_bars_first_frame(song, tmp_path):
    t = rig(Show.of_song(song), tmp_path)
    out = run(t, 3 * BAR, {0: [c.Play()], 100096: [c.Jump("c", at=c.At.BAR)]})
    heard = decode(out)
    assert t.snapshot().pending == "" and t.snapshot().section == "C"
    assert np.array_equal(heard[:2 * BAR], np.arange(2 * BAR))
    assert np.array_equal(heard[2 * BAR + FADE: 3 * BAR], np.arange(4 * BAR + FADE, 5 * BAR))
    # inside the crossfade the old position fades out while the new comes in
    mid = out[2 * BAR + FADE // 2, 0] * 2 ** 24
    assert 2 * BAR < mid < 4 * BAR
    close(t)


@pytest.mark.parametrize("at, frame", [(c.At.NOW, 100096), (c.At.BEAT, 120000),
                                       (c.At.SECTION, 2 * BAR)])
def test_quantised_jumps(song, tmp_path, at, frame):
    t = rig(Show.of_song(song), tmp_path)
    run(t, 100096, {0: [c.Play()]})
    t.apply(c.Jump(3, at=at))
    if at is not c.At.NOW:
        assert t.snapshot().pending.startswith("jump to C at bar ")
    out = run(t, 2 * BAR)
    heard = decode(out)
    k = frame - 100096
    assert np.array_equal(heard[:k], np.arange(100096, frame))
    assert np.array_equal(heard[k + FADE: k + FADE + 1000], np.arange(4 * BAR + FADE, 4 * BAR + FADE + 1000))
    close(t)


def test_stop_fades_and_returns_to_the_start(song, tmp_path):
    t = rig(Show.of_song(song), tmp_path)
    out = run(t, 48000, {0: [c.Play()], 24064: [c.Stop()]})
    assert t.state == TransportState.STOPPED and t.pos == 0
    tail = out[24064: 24064 + FADE, 0]
    assert np.all(np.diff(np.abs(tail)) <= 1e-9) and abs(tail[-1]) < abs(tail[0]) / 50
    assert not out[24064 + FADE:].any()
    out = run(t, 1000, {0: [c.Play()]})
    assert decode(out)[0] == 0
    close(t)


def test_pause_and_resume_continue_where_it_paused(song, tmp_path):
    t = rig(Show.of_song(song), tmp_path)
    run(t, 48000, {0: [c.Play()], 30080: [c.Pause()]})
    assert t.state == TransportState.PAUSED and t.pos == 30080
    out = run(t, 1024, {0: [c.Resume()]})
    assert t.state == TransportState.PLAYING
    assert np.array_equal(decode(out)[FADE:], np.arange(30080 + FADE, 30080 + 1024))
    close(t)


def test_seek_while_stopped_then_play_counts_in_at_that_bar(library, tmp_path):
    folder = position_song(library, "s", bars=6, count_in=1)
    t = rig(Show.of_song(folder), tmp_path)
    out = run(t, 2 * BAR, {0: [c.Seek(5), c.Play()]})
    assert t.snapshot().transport == TransportState.PLAYING
    assert list(onsets(out[:BAR])) == [0, 24000, 48000, 72000]
    assert np.array_equal(decode(out[BAR:]), np.arange(4 * BAR, 5 * BAR))
    close(t)


@pytest.mark.parametrize("cmd, reason", [
    (c.Jump("Bridge"), "Jump: no section 'Bridge' (sections: A, B, C)"),
    (c.Jump(7), "Jump: no section 7: this song has 3"),
    (c.Seek(40), "Seek: bar 40 is past the end (the last bar is 6)"),
    (c.NextSong(), "NextSong: this is the last song of the setlist"),
    (c.PreviousSong(), "PreviousSong: this is the first song of the setlist"),
    (c.ReleaseVamp(), "ReleaseVamp: no vamp to release"),
    (c.Play(), "Play: already playing"),
    (c.Mute("bass"), "Mute: no stem 'bass' (this song has pos, click)"),
    (turn_command("level foh bass", 1)[0], "NudgeGain: no stem 'bass' (this song has pos, click)"),
    (c.SetOutputGain("monitors", -3), "SetOutputGain: no output 'monitors' (outputs: foh, click)"),
])
def test_commands_that_make_no_sense_are_rejected_with_a_reason(song, tmp_path, cmd, reason):
    t = rig(Show.of_song(song), tmp_path)
    run(t, 1024, {0: [c.Play()]})
    t.apply(cmd)
    assert t.snapshot().rejected == reason
    out = run(t, 1024)
    assert np.array_equal(decode(out), np.arange(1024, 2048))   # and the music goes on
    close(t)


def _setlist(library, kinds):
    names = []
    for i, kind in enumerate(kinds):
        position_song(library, f"s{i}", bars=1, sign=1 if i % 2 == 0 else -1,
                      sections=(("A", 1),))
        names.append(f"s{i} | {kind}" if kind else f"s{i}")
    path = library / "setlists" / "set.setlist"
    path.write_text("\n".join(names) + "\n")
    from appliance.errors import Problems
    return Show.of_setlist(path, Problems())


def test_gapless_setlist_has_no_gap_sample(library, tmp_path):
    t = rig(_setlist(library, ["gapless", "gapless", ""]), tmp_path)
    out = run(t, 3 * BAR + 1024, {0: [c.Play()]})
    heard = decode(out)
    assert np.array_equal(heard[:BAR], np.arange(BAR))
    assert np.array_equal(heard[BAR:2 * BAR], -np.arange(BAR))
    assert np.array_equal(heard[2 * BAR:3 * BAR], np.arange(BAR))
    assert np.all(out[:3 * BAR, 0] != 0)
    assert t.state == TransportState.STOPPED and not out[3 * BAR:].any()
    assert t.snapshot().index == 3
    close(t)


def test_stop_after_cues_the_next_song(library, tmp_path):
    t = rig(_setlist(library, ["stop", "continue", ""]), tmp_path)
    run(t, BAR + 1024, {0: [c.Play()]})
    s = t.snapshot()
    assert (s.transport, s.index, s.song_name, s.next_song) == (TransportState.STOPPED, 2, "s1", "s2")
    out = run(t, BAR, {0: [c.Play()]})
    assert np.array_equal(decode(out), -np.arange(BAR))
    out = run(t, 1024)
    assert np.array_equal(decode(out), np.arange(1024))        # continue: s2 starts by itself
    close(t)


def test_crossfade_overlaps_the_songs_by_its_length(library, tmp_path):
    t = rig(_setlist(library, ["crossfade 500 ms", ""]), tmp_path)
    out = run(t, 2 * BAR, {0: [c.Play()]})
    overlap = 24000
    start = BAR - overlap
    heard = decode(out)
    assert np.array_equal(heard[:start], np.arange(start))
    assert np.array_equal(heard[BAR:2 * BAR - overlap], -np.arange(overlap, BAR))
    # inside the overlap both play: the mix is the outgoing faded plus the incoming rising
    x = out[start + overlap // 2, 0] * 2 ** 24
    old, new = start + overlap // 2 + 1, overlap // 2 + 1
    r = (overlap // 2 + 1) / overlap                      # the ramps' value at that sample
    assert abs(x - (old * (1 - r) - new * r)) < 0.05
    assert t.snapshot().index == 2
    close(t)


def test_next_song_while_playing_fades_and_cues_it(library, tmp_path):
    t = rig(_setlist(library, ["", ""]), tmp_path)
    out = run(t, 4096, {0: [c.Play()], 1024: [c.NextSong()]})
    assert not out[1024 + FADE:].any()
    s = t.snapshot()
    assert (s.transport, s.index, s.frame) == (TransportState.STOPPED, 2, 0)
    close(t)


def test_level_changes_glide_without_a_step(song, tmp_path):
    t = rig(Show.of_song(song), tmp_path)
    run(t, 1024, {0: [c.Play()]})
    t.apply(c.SetGain("pos", -6.0206))
    out = run(t, 1024)
    gain = out[:, 0] * 2 ** 24 / (np.arange(1024, 2048) + 1)
    assert abs(gain[0] - 1) < 0.01 and abs(gain[-1] - 0.5) < 1e-4
    assert np.all(np.diff(gain[:480]) < 0)                   # a 10 ms glide, not a jump
    assert t.snapshot().mix[0].gain_db == pytest.approx(-6.0206)
    close(t)


def test_a_stems_level_in_one_outputs_mix_from_a_cc(song, tmp_path):
    """`set = "level foh pos"`: the CC's value sets the stem in foh's mix, to the sample."""
    from appliance.config.midi_map import MidiMap, MidiRule, MidiSpec
    m = MidiMap(MidiSpec(rules=(MidiRule("cc", 7, target="level foh pos", low_db=-12.0,
                                         high_db=0.0),)))
    cmds = m.commands(mido.Message("control_change", control=7, value=0))
    t = rig(Show.of_song(song), tmp_path)
    run(t, 1024, {0: [c.Play()]})
    out = run(t, 2048, {0: cmds})
    gain = out[:, 0] * 2 ** 24 / (np.arange(1024, 3072) + 1)
    assert abs(gain[-1] - 10 ** (-12 / 20)) < 1e-4
    level = t.snapshot().mix[0]
    assert (level.name, level.gain_db, level.sends) == ("pos", 0.0, (("foh", -12.0),))
    close(t)


def test_click_level_and_output_levels_persist_across_songs(library, tmp_path):
    t = rig(_setlist(library, ["stop", ""]), tmp_path)
    t.apply(c.SetGain("click", -12.0))
    t.apply(c.SetOutputGain("foh", -6.0))
    t.apply(c.NudgeOutputGain("foh", -1.5))          # an encoder on the master
    t.apply(c.NextSong())
    s = t.snapshot()
    assert dict(s.output_gain_db)["foh"] == -7.5
    assert [m.gain_db for m in s.mix if m.name == "click"] == [-12.0]
    close(t)


def test_state_snapshot_follows_the_music(library, tmp_path):
    folder = position_song(library, "s", bars=6, count_in=1)
    t = rig(Show.of_song(folder), tmp_path)
    run(t, 30080, {0: [c.Play()]})
    s = t.snapshot()
    assert (s.transport, s.bar, s.beat, s.count_in_left) == (TransportState.COUNT_IN, 0, 2, BAR - 30080)
    assert s.beat_phase == pytest.approx((30080 - BAR // 4) / (BAR // 4))
    assert s.sections == ("A", "B", "C")                  # what MIDI learn offers to jump to
    run(t, BAR + 2 * BAR + 24064 - 30080)
    s = t.snapshot()
    assert (s.transport, s.section, s.bar, s.beat, s.bpm, s.meter) == (TransportState.PLAYING, "B", 3, 2, 120.0, "4/4")
    assert s.frame == 2 * BAR + 24064 and s.seconds == pytest.approx(s.frame / 48000)
    assert s.beat_phase == pytest.approx(64 / (BAR // 4))        # what the tempo LED reads
    t.apply(c.Vamp(bars=1))
    assert t.snapshot().vamp == "vamp bars 3-3"
    close(t)


def test_a_stem_that_fails_mid_song_goes_silent_and_the_state_says_which(library, tmp_path):
    import soundfile as sf
    folder = position_song(library, "two", bars=2,
                           extra='[[stem]]\nfile = "other.wav"\nroute = ["click"]\n')
    sf.write(str(folder / "other.wav"), np.full(2 * BAR, 0.25, np.float32), 48000)
    t = rig(Show.of_song(folder), tmp_path)
    before = run(t, 2048, {0: [c.Play()]})
    assert np.all(before[1500:, 1] == 0.25)
    t.song.stream.readers[1].close()        # the file under the disk thread goes away
    out = run(t, 2 * BAR - 2048)
    assert t.snapshot().failed_stems == ("other",)
    assert np.array_equal(decode(out), np.arange(2048, 2 * BAR))    # the rest plays on
    frames = np.arange(2048, 2 * BAR)
    no_click = frames % 24000 > 2000
    stem = out[:, 1]
    # what was already read ahead (at most one ring) plays, then that stem is silent
    assert np.all(stem[no_click & (frames > 70000)] == 0)
    close(t)


def test_a_disk_that_falls_behind_costs_silence_not_time(song, tmp_path):
    from appliance.audio.disk.stems import StemReader
    from appliance.audio.disk.streaming import SongStream
    stream = SongStream([StemReader(song / "pos.wav", 1, 6 * BAR)])
    out = np.ones((1, 128), np.float32)
    stream.read_into(0, out)                 # nothing read ahead yet: silence, counted
    assert not out.any() and stream.underruns == 1
    while stream.fill():
        pass
    stream.read_into(128, out)               # the disk caught up: the stream is on time
    assert np.array_equal(decode(np.vstack([out, out]).T), np.arange(128, 256))
    stream.close()


def test_the_disk_reads_whole_chunks_when_the_engine_wakes_it(song, tmp_path):
    """Small reads every few ms would keep taking the GIL from the audio thread: the disk
    thread reads a chunk at a time, woken once the period that freed one is rendered;
    a restarted ring wakes it too."""
    from appliance.audio.disk.stems import StemReader
    from appliance.audio.disk.streaming import CHUNK, SongStream
    from appliance.audio.threads.wake import Wake
    stream = SongStream([StemReader(song / "pos.wav", 1, 6 * BAR)], capacity=4 * CHUNK)
    wake = Wake()
    stream.attach(wake)
    stream.prepare(BAR)
    assert wake.wait(0) and not wake.wait(0)        # a restarted ring wakes the disk thread
    while stream.fill():
        pass
    out = np.zeros((1, 128), np.float32)
    frame = BAR
    while frame - BAR + 128 <= CHUNK - 128:
        stream.read_into(frame, out)
        frame += 128
    assert not stream.fill()                         # less than a chunk free: no read
    stream.wake_if_due()
    assert not wake.wait(0)
    stream.read_into(frame, out)                     # the block that completes a chunk
    frame += 128
    assert not wake.wait(0)                          # not in the middle of the period's work
    stream.wake_if_due()                             # but once it is rendered
    assert wake.wait(0)
    assert stream.fill() and not stream.fill()       # one whole chunk, then nothing
    while frame < BAR + 3 * CHUNK:
        stream.read_into(frame, out)
        assert np.array_equal(decode(np.vstack([out, out]).T), np.arange(frame, frame + 128))
        frame += 128
    assert stream.underruns == 0
    stream.detach(wake)
    wake.close()
    stream.close()


def test_a_song_is_offered_only_once_its_first_chunk_is_read(song, tmp_path):
    """The first Play of the day starts with sound, not with a block the disk had not read yet."""
    from appliance.audio.disk.show import SongBank
    from appliance.audio.play.transport import Transport
    from appliance.config import Config
    from transport_rig import CONFIG, RATE
    bank = SongBank(Show.of_song(song), Config(cache=tmp_path / "cache", **CONFIG), 128)
    assert bank.load_now(0) is not None                 # real-time: the mixer never waits
    t = Transport(bank, rate=RATE, channels=2, block=128)
    out = run(t, 8 * 128, {0: [c.Play()]})
    assert np.array_equal(decode(out), np.arange(8 * 128))
    assert bank.get(0).underruns == 0
    close(t)


# -- takes following the transport (the recorder's audio-thread side) ----------------------
def _record_run(t, rec, frames, script=None, period=128):
    """Like `run`, with the engine's recorder steps around each period and an input
    whose every sample is its frame number."""
    from appliance.vocab.commands import RECORDING
    script = dict(script or {})
    block = np.zeros((period, 1), np.float32)
    for start in range(0, frames, period):
        was = t.state
        for cmd in script.pop(start, []):
            reason = rec.apply(cmd, start, t) if isinstance(cmd, RECORDING) else t.apply(cmd)
            assert not reason, reason
        rec.follow_transport(start, was, t)
        t.render(np.zeros((period, 2), np.float32))
        block[:, 0] = np.arange(start, start + period)
        rec.keep(start, block)
        rec.ring.consumed = rec.ring.written          # a writer that keeps up


def test_takes_follow_a_gapless_setlist_one_per_song(library, tmp_path):
    from appliance.audio.record.recorder import Recorder, TakeStart, TakeStop
    t = rig(_setlist(library, ["gapless", ""]), tmp_path)
    rec = Recorder({"in": 0}, latency=64)
    rec.attach(1, 48000, 128)
    _record_run(t, rec, 2 * BAR + 1024, {0: [c.RecordArm(True), c.Play()]})
    ev = list(rec.events)
    assert [type(e) for e in ev] == [TakeStart, TakeStop, TakeStart, TakeStop]
    assert (ev[0].frame, ev[0].index, ev[0].song_frame) == (64, 1, 0)
    assert ev[0].song.song.name == "s0" and ev[2].song.song.name == "s1"
    assert ev[1].frame == ev[2].frame == BAR + 64          # s1 starts at BAR: a period boundary
    assert ev[2].song_frame == 0 and ev[3].frame == 2 * BAR + 64      # ended: stopped there
    assert not rec.running and rec.follow                  # armed for the next Play
    close(t)


def test_a_free_take_of_set_length_ends_to_the_sample(song, tmp_path):
    from appliance.audio.record.recorder import Recorder
    t = rig(Show.of_song(song), tmp_path)
    rec = Recorder({"in": 0})
    rec.attach(1, 48000, 128)
    _record_run(t, rec, 2048, {256: [c.Record(True, frames=1000)]})
    start, stop = rec.events
    assert (start.frame, start.song, stop.frame) == (256, None, 1256)
    assert rec.ring.data[1000 % rec.ring.capacity, 0] == 1000    # the ring holds frame n at n
    close(t)


def test_a_writer_that_falls_behind_ends_the_take_without_overwriting_it(song, tmp_path):
    from appliance.audio.record.recorder import CaptureRing, Recorder, TakeStop
    t = rig(Show.of_song(song), tmp_path)
    rec = Recorder({"in": 0})
    rec.attach(1, 48000, 128)
    rec.ring = CaptureRing(1, 1024)                 # a ring of 8 periods, and no writer
    block = np.ones((128, 1), np.float32)
    rec.apply(c.Record(True), 0, t)
    for frame in range(0, 2048, 128):
        rec.follow_transport(frame, t.state, t)
        rec.keep(frame, block * frame)
    stop = rec.events[-1]
    assert isinstance(stop, TakeStop) and stop.frame == 1024
    assert stop.reason == rec.problem == "the disk fell behind: recording stopped"
    assert rec.ring.written == 1024                 # nothing the writer still needs was lost
    assert rec.ring.data[0, 0] == 0 and rec.ring.data[1023, 0] == 896
    close(t)


def test_bar_ones_count_in_is_built_by_the_loader_not_the_audio_thread(library, tmp_path):
    folder = position_song(library, "s", bars=2, count_in=1)
    t = rig(Show.of_song(folder), tmp_path)
    song = t.bank.get(0)
    assert Fraction(0) in song._count_ins                # built when the song was loaded
    built = song._count_ins[Fraction(0)][1]
    run(t, 256, {0: [c.Play()]})
    assert t.count_in.track is built                     # Play used it as it was
    close(t)


def test_another_bars_count_in_is_made_by_the_retimer_while_the_song_rests_there(
        library, tmp_path):
    folder = position_song(library, "s", bars=4, count_in=1)
    t = rig(Show.of_song(folder), tmp_path)
    t.bank.retimer.start()
    song = t.bank.get(0)
    run(t, 128, {0: [c.Seek(3)]})                      # stopped: it rests at bar 3
    three = t.pos
    assert three > 0 and wait_for(lambda: song._count_in_at[1] == three)
    made = song._count_in_at[2]
    run(t, 256, {0: [c.Play()]})
    assert t.count_in.track is made[1] and t.count_in.length == made[0].frames
    assert list(song._count_ins) == [Fraction(0)]        # the Play made none itself
    run(t, 128, {0: [c.Stop()]})
    t.bank.retimer.close()                               # none made ahead: the Play makes it
    run(t, 128, {0: [c.Seek(2)]})
    run(t, 256, {0: [c.Play()]})
    assert t.count_in.length == made[0].frames and len(song._count_ins) == 2
    close(t)


def test_a_writer_that_stalled_between_takes_does_not_shut_the_ring_for_good(song, tmp_path):
    from appliance.audio.record.recorder import CaptureRing, Recorder, TakeStart
    t = rig(Show.of_song(song), tmp_path)
    rec = Recorder({"in": 0})
    rec.attach(1, 48000, 128)
    rec.ring = CaptureRing(1, 1024)
    block = np.ones((128, 1), np.float32)
    for frame in range(0, 4096, 128):               # idle, and the writer is not there
        rec.follow_transport(frame, t.state, t)
        rec.keep(frame, block * frame)
    assert rec.ring.written == 4096                  # kept on going
    rec.ring.consumed = rec.ring.written             # the writer is back
    rec.apply(c.Record(True), 4096, t)
    rec.keep(4096, block)
    assert isinstance(rec.events[-1], TakeStart) and rec.running and not rec.problem
    close(t)


def _counted(library, tmp_path, second: str = ""):
    """Two songs of one bar, each after a one-bar count-in; `second` is added to the second's
    song.toml."""
    for i, extra in enumerate(("", second)):
        position_song(library, f"c{i}", bars=1, count_in=1, sections=(("A", 1),), extra=extra)
    path = library / "setlists" / "counted.setlist"
    path.write_text("c0\nc1\n")
    from appliance.errors import Problems
    return rig(Show.of_setlist(path, Problems()), tmp_path)


def _beat_peaks(out: np.ndarray) -> np.ndarray:
    """The click channel's peak in each beat of the count-in bar."""
    return np.abs(out[:BAR, 1]).reshape(4, BAR // 4).max(axis=1)


def test_the_count_in_follows_the_click_level_now_and_in_the_next_song(library, tmp_path):
    t = _counted(library, tmp_path)
    full = _beat_peaks(run(t, BAR, {0: [c.Play()]}))
    assert np.all(full > 0.1)
    close(t)
    down = 10 ** (-12 / 20)
    t = _counted(library, tmp_path)                  # turned down during the count-in
    heard = _beat_peaks(run(t, BAR, {0: [c.Play()], 12032: [c.NudgeGain("click", -12)]}))
    assert heard[0] == full[0]
    assert heard[1:] / full[1:] == pytest.approx([down] * 3, rel=1e-5)
    run(t, BAR)                                      # the song to its end: the next waits
    assert t.snapshot().song_name == "c1"
    heard = _beat_peaks(run(t, BAR, {0: [c.Play()]}))
    assert heard / full == pytest.approx([down] * 4, rel=1e-5)
    close(t)


def test_a_muted_click_mutes_the_count_in_now_and_in_the_next_song(library, tmp_path):
    t = _counted(library, tmp_path)
    out = run(t, 2 * BAR, {0: [c.Play()], 12032: [c.Mute("click")]})
    assert np.abs(out[:12032, 1]).max() > 0.1       # the first beat, before the mute
    assert not out[24000:, 1].any()                 # then no count-in click, nor the song's
    assert t.snapshot().song_name == "c1"
    out = run(t, 2 * BAR, {0: [c.Play()]})
    assert not out[:, 1].any() and np.array_equal(decode(out[BAR:]), np.arange(BAR))
    t.apply(c.Mute("click", False))
    out = run(t, BAR, {0: [c.Play()]})
    assert np.abs(out[:, 1]).max() > 0.1
    close(t)


def test_a_song_with_its_click_off_still_counts_in_at_the_click_level(library, tmp_path):
    t = _counted(library, tmp_path, second="[click]\nenabled = false\n")
    full = _beat_peaks(run(t, 2 * BAR, {0: [c.Play()]}))      # the first song, click on
    t.apply(c.SetGain("click", -12.0))
    assert t.snapshot().song_name == "c1"
    out = run(t, 2 * BAR, {0: [c.Play()]})
    assert _beat_peaks(out) / full == pytest.approx([10 ** (-12 / 20)] * 4, rel=1e-5)
    assert not out[BAR:, 1].any()                   # the song's own click stays off
    close(t)
