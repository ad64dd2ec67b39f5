"""Every jump is clean: crossfaded when its audio is in memory, else a fade-out, a silent
wait and the target from its own first frame; never silence read as the target, no step.

The song has two stems: `pos` (channel 1) says its own frame number (transport_rig), a
1 kHz tone (channel 3) is the material whose own sample-to-sample step no jump may
exceed. The disk is this test: the song's disk thread is stopped, and the rings are
filled between periods unless the test holds the disk (a read that takes its time).
"""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from appliance.audio.disk.show import Show, SongBank
from appliance.audio.disk.streaming import SongStream
from appliance.audio.play.transport import Transport
from appliance.config import Config
from appliance.vocab import commands as c
from appliance.vocab.segments import LENGTH, OUT, TIMELINE, SegmentLog
from appliance.vocab.state import TransportState

from transport_rig import BAR, RATE, SCALE, close, decode, onsets, position_song

FADE = 240                     # 5 ms at 48 kHz
PERIOD = 128
TONE = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(6 * BAR) / RATE).astype(np.float32)
OWN_STEP = float(np.abs(np.diff(TONE)).max())
# a crossfade between two full-level tones moves at most 2 * 0.5 / FADE per sample beyond
# the tones' own step (6 % of it); a pop (a step to or from silence) is up to 7.6 times it
STEP_LIMIT = OWN_STEP + 1.0 / FADE


class Disk:
    """The song's disk, driven by the test: between periods it reads all it can, unless held."""

    def __init__(self, stream: SongStream) -> None:
        self.stream = stream
        self.held = False

    def turn(self) -> None:
        while not self.held and self.stream.fill():
            pass

    def hold(self) -> None:
        self.held = True

    def release(self) -> None:
        self.held = False
        self.turn()


@pytest.fixture
def live(library, tmp_path, request):
    count_in = getattr(request, "param", 0)
    folder = position_song(library, "song", bars=6, count_in=count_in,
                           extra='[[stem]]\nfile = "tone.wav"\nroute = ["tone"]\n')
    sf.write(str(folder / "tone.wav"), TONE, RATE, subtype="FLOAT")
    config = Config(cache=tmp_path / "cache", rate=RATE, channels=3, period=PERIOD,
                    outputs={"foh": (1,), "click": (2,), "tone": (3,)})
    bank = SongBank(Show.of_song(folder), config, PERIOD)      # real-time: no waiting on reads
    song = bank.load_now(0)
    song.stop()                                                 # its disk thread: see Disk
    t = Transport(bank, rate=RATE, channels=3, block=PERIOD)
    yield t, Disk(song.stream.stems)
    close(t)
    song.close()


def play(t: Transport, disk: Disk, frames: int, script: dict | None = None,
         log: SegmentLog | None = None, seen: dict | None = None) -> np.ndarray:
    """Render `frames` a period at a time; `script` holds commands and disk actions (called)
    for the period starting at that frame; `seen` gets the state after each period."""
    out = np.zeros((frames, 3), dtype=np.float32)
    script = dict(script or {})
    for start in range(0, frames, PERIOD):
        for x in script.pop(start, []):
            t.apply(x) if isinstance(x, c.Command) else x()
        t.render(out[start: start + PERIOD], log, start)
        if seen is not None:
            seen[start] = t.snapshot()
        disk.turn()
    assert not script
    return out


def ramp(n: int) -> np.ndarray:
    return np.minimum(np.arange(1, n + 1, dtype=np.float64) / FADE, 1.0)


def assert_clean(out: np.ndarray) -> None:
    steps = np.abs(np.diff(out[:, 2].astype(np.float64)))
    assert steps.max() <= STEP_LIMIT, f"a step of {steps.max():.4f} at {steps.argmax()}"


def assert_waited(out: np.ndarray, jump: int, target: int, start: int) -> None:
    """Contiguous up to the output frame `jump`, the old position fading out over FADE,
    silence (the click too) until `start`, then the target fading in from its first frame."""
    heard = decode(out)
    assert np.array_equal(heard[:jump], np.arange(jump))
    old = out[jump: jump + FADE, 0] * SCALE / (np.arange(jump, jump + FADE) + 1)
    assert np.allclose(old, 1 - ramp(FADE), atol=1e-6)
    assert not out[jump + FADE: start].any()
    new = out[start: start + FADE, 0] * SCALE / (np.arange(target, target + FADE) + 1)
    assert np.allclose(new, ramp(FADE), atol=1e-6)        # its first frame at 1/FADE: none lost
    assert np.array_equal(heard[start + FADE:], np.arange(target + FADE, target + len(out) - start))
    assert_clean(out)


RELEASE = 20 * PERIOD          # the disk takes 53 ms to read the target


@pytest.mark.parametrize("press, cmd, jump, target, what", [
    (100096, c.Jump(3, at=c.At.NOW), 100096, 4 * BAR, "C"),
    (100096, c.Seek(2), 100096, BAR, "bar 2"),
    (100096, c.Restart(), 100096, 0, "bar 1"),
    (2 * BAR - PERIOD, c.Jump(3, at=c.At.BAR), 2 * BAR, 4 * BAR, "C"),     # 2.7 ms before
    (4 * BAR - PERIOD, c.Vamp(), 4 * BAR, 2 * BAR, "bar 3"),               # the loop's end
], ids=["jump-now", "seek", "restart", "bar-jump-late", "vamp-late"])
def test_a_jump_whose_audio_is_late_fades_out_waits_and_starts_at_its_first_frame(
        live, press, cmd, jump, target, what):
    t, disk = live
    log, seen = SegmentLog(), {}
    start = jump + RELEASE
    out = play(t, disk, start + 2 * 24000 + PERIOD,
               {0: [c.Play()], press: [disk.hold, cmd], start: [disk.release]}, log, seen)
    assert_waited(out, jump, target, start)
    wait = seen[start - PERIOD]                            # the state while it waits
    assert (wait.transport, wait.waiting, wait.frame) == (TransportState.PLAYING, f"waiting for {what}", target)
    assert seen[start].waiting == "" and t.song.underruns == 0
    # the click is silent while waiting and comes back on the target's beats (every
    # target is on a beat)
    assert list(onsets(out[start:])) == list(range(0, len(out) - start, 24000))
    # the segment log claims no song frame for the wait, and the target from `start`
    _, rows = log.rows(0)
    for row in rows:
        assert row[OUT] + row[LENGTH] <= jump + FADE or row[OUT] >= start
    after = rows[rows[:, OUT] >= start][0]
    assert (after[OUT], after[TIMELINE]) == (start, target)
    before = rows[rows[:, OUT] < start][-1]
    assert before[OUT] + before[LENGTH] == before[TIMELINE] + before[LENGTH] == jump + FADE


def test_a_disk_that_reads_within_the_fade_leaves_no_gap(live):
    """A bar jump pressed a period before the bar: the old position fades out and the
    target, read meanwhile, fades in straight after."""
    t, disk = live
    out = play(t, disk, 2 * BAR + 4096, {0: [c.Play()], 2 * BAR - PERIOD: [c.Jump(3)]})
    assert_waited(out, 2 * BAR, 4 * BAR, 2 * BAR + FADE)


@pytest.mark.parametrize("script, jump, target", [
    ({100096: [c.Jump(3, at=c.At.BAR)]}, 2 * BAR, 4 * BAR),          # cued a bar ahead
    ({300032: [c.Vamp()]}, 4 * BAR, 2 * BAR),                         # a vamp's loop
], ids=["cued-jump", "vamp"])
def test_a_cued_jump_crossfades_with_no_step_and_loses_nothing(live, script, jump, target):
    t, disk = live
    seen = {}
    out = play(t, disk, jump + 4096, {0: [c.Play()], **script}, seen=seen)
    heard = decode(out)
    assert np.array_equal(heard[:jump], np.arange(jump))
    assert np.array_equal(heard[jump + FADE:], np.arange(target + FADE, target + 4096))
    x = out[jump: jump + FADE, 0].astype(np.float64) * SCALE
    r = ramp(FADE)
    assert np.allclose(x, np.arange(jump + 1, jump + FADE + 1) * (1 - r)
                       + np.arange(target + 1, target + FADE + 1) * r, rtol=1e-6)
    assert_clean(out)
    assert not any(s.waiting for s in seen.values()) and t.song.underruns == 0


def test_play_after_a_seek_while_stopped_waits_for_the_bar_then_plays_it_whole(live):
    t, disk = live
    seen = {}
    out = play(t, disk, 4096, {0: [disk.hold, c.Seek(5), c.Play()], 1024: [disk.release]},
               seen=seen)
    assert seen[896].waiting == "waiting for bar 5" and seen[896].frame == 4 * BAR
    assert not out[:1024].any()
    assert np.array_equal(decode(out[1024:]), np.arange(4 * BAR, 4 * BAR + 3072))  # as any Play
    assert t.song.underruns == 0


def test_resume_after_a_seek_while_paused_waits_then_fades_in_from_the_bar(live):
    t, disk = live
    play(t, disk, 48000, {0: [c.Play()], 30080: [c.Pause()]})
    assert t.state == TransportState.PAUSED
    out = play(t, disk, 4096, {0: [disk.hold, c.Seek(5), c.Resume()], 1024: [disk.release]})
    assert not out[:1024].any()
    new = out[1024: 1024 + FADE, 0] * SCALE / (np.arange(4 * BAR, 4 * BAR + FADE) + 1)
    assert np.allclose(new, ramp(FADE), atol=1e-6)
    assert np.array_equal(decode(out[1024 + FADE:]), np.arange(4 * BAR + FADE, 4 * BAR + 3072))
    assert t.song.underruns == 0


@pytest.mark.parametrize("live", [1], indirect=True)
def test_a_count_in_that_ends_before_the_audio_is_read_waits_for_bar_one(live):
    t, disk = live
    play(t, disk, 2 * BAR, {0: [c.Play()], BAR + 4096: [disk.hold, c.Stop()]})
    assert t.state == TransportState.STOPPED                   # and bar 1 is not read again yet
    out = play(t, disk, BAR + 4096, {0: [c.Play()], BAR + 1024: [disk.release]})
    assert list(onsets(out[:BAR])) == [0, 24000, 48000, 72000]
    assert not out[BAR: BAR + 1024].any()
    assert np.array_equal(decode(out[BAR + 1024:]), np.arange(3072))
    assert t.song.underruns == 0


def test_another_jump_while_waiting_waits_for_its_own_target(live):
    t, disk = live
    seen = {}
    out = play(t, disk, 8192, {0: [c.Play()], 1024: [disk.hold, c.Jump(3, at=c.At.NOW)],
                               2048: [c.Seek(2)], 4096: [disk.release]}, seen=seen)
    assert (seen[1920].waiting, seen[1920].frame) == ("waiting for C", 4 * BAR)
    assert (seen[2048].waiting, seen[2048].frame) == ("waiting for bar 2", BAR)
    assert_waited(out, 1024, BAR, 4096)


def test_stop_and_pause_while_waiting_act_at_once(live):
    t, disk = live
    play(t, disk, 2048, {0: [c.Play()], 1024: [disk.hold, c.Jump(3, at=c.At.NOW)]})
    assert t.snapshot().waiting == "waiting for C"
    play(t, disk, 256, {0: [c.Pause()]})
    s = t.snapshot()
    assert (s.transport, s.frame, s.waiting) == (TransportState.PAUSED, 4 * BAR, "")
    disk.release()
    out = play(t, disk, 1024, {0: [c.Resume()]})
    assert np.array_equal(decode(out[FADE:]), np.arange(4 * BAR + FADE, 4 * BAR + 1024))
    play(t, disk, 256, {0: [disk.hold, c.Jump(1, at=c.At.NOW)]})
    out = play(t, disk, 512, {0: [c.Stop()]})
    assert (t.state, t.pos, t.snapshot().waiting) == (TransportState.STOPPED, 0, "") and not out.any()


def test_a_jump_during_a_stop_fade_lets_the_fade_finish(live):
    t, disk = live
    out = play(t, disk, 4096, {0: [c.Play()], 1024: [c.Stop()], 1152: [c.Seek(5)]})
    assert_clean(out)
    tail = out[1024: 1024 + FADE, 0] * SCALE / (np.arange(1024, 1024 + FADE) + 1)
    assert np.allclose(tail, 1 - ramp(FADE), atol=1e-6)
    assert not out[1024 + FADE:].any()
    assert (t.state, t.pos) == (TransportState.STOPPED, 4 * BAR)
