"""The parts' shallow ring beside the stems' deep one: one stream to the mixer and the
transport (SongStreams), a chunk of the ring's own size, the cued ring made again after a
change (recue), the synth thread's published head; and the config's SoundFont."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import soundfile as sf

from appliance.audio.disk.parts import synth_thread
from appliance.audio.disk.song_streams import SongStreams
from appliance.audio.disk.stems import StemReader
from appliance.audio.disk.streaming import SongStream
from appliance.audio.synth.plan import PartsPlan, Settings
from appliance.config import read_config
from appliance.errors import Problems
from appliance.timeline.tempo import TempoMap, TempoPoint

from conftest import wait_for

FRAMES = 1 << 16


def counting(path, scale: float) -> StemReader:
    """A stereo file whose samples say their own frame number (times `scale`)."""
    frames = np.arange(FRAMES, dtype=np.float32) * scale
    sf.write(str(path), np.stack([frames, -frames], 1), 48000, subtype="FLOAT")
    return StemReader(path, 2, FRAMES)


@pytest.fixture
def streams(tmp_path):
    stems = SongStream([counting(tmp_path / "stem.wav", 1.0)])
    parts = SongStream([counting(tmp_path / "bass.wav", 0.5)], 8192, chunk=2048)
    both = SongStreams(stems, parts, PartsPlan(Settings(TempoMap([TempoPoint(Fraction(0),
                                                                              Fraction(120))]))))
    yield both
    both.close()


def fill(stream: SongStream) -> None:
    while stream.fill():
        pass


def test_the_stems_and_the_parts_play_the_same_frames_into_their_rows(streams):
    streams.prepare(1000)
    assert not streams.ready_at(1000)
    fill(streams.stems)
    assert not streams.ready_at(1000)                 # the parts are not there yet
    fill(streams.parts)
    assert streams.ready_at(1000)
    out = np.zeros((4, 128), np.float32)
    streams.read_into(1000, out)
    frames = np.arange(1000, 1128, dtype=np.float32)
    assert np.array_equal(out, np.stack([frames, -frames, frames / 2, -frames / 2]))
    assert streams.underruns == 0 and streams.failed() == []
    assert [r.name for r in streams.readers] == ["stem.wav", "bass.wav"]


def test_the_parts_ring_reads_its_own_chunk_at_a_time(streams):
    parts = streams.parts
    parts.prepare(0)
    assert parts.fill() and parts.ready_at(0)          # a chunk: enough to start
    reads = 1
    while parts.fill():
        reads += 1
    assert reads == 4                                  # full: 8192 frames, 170 ms
    out = np.zeros((2, 2047), np.float32)
    parts.read_into(0, out)
    assert not parts.wake_due and not parts.fill()     # less than a chunk free: no dribble
    parts.read_into(2047, out[:, :1])
    assert parts.wake_due and parts.fill()             # a chunk is free to synthesise


def test_the_plan_is_told_where_each_run_played_starts(streams):
    streams.prepare(0)
    streams.cue(40000)
    fill(streams.stems)
    fill(streams.parts)
    out = np.zeros((4, 128), np.float32)
    streams.read_into(0, out)
    assert streams.plan.playing == 0
    streams.read_into(128, out)
    streams.plan.playing = None
    streams.read_into(256, out)
    assert streams.plan.playing is None                # the same run: nothing to say
    streams.read_into(40000, out)                      # a jump taken
    assert streams.plan.playing == 40000


def test_recue_makes_the_cued_ring_again_from_its_frame(streams):
    streams.prepare(0)
    streams.cue(20000)
    fill(streams.stems)
    fill(streams.parts)
    assert streams.ready_at(20000)
    streams.recue()
    assert not streams.ready_at(20000)               # made before the change: read again
    assert streams.stems.ready_at(20000)             # the stems do not change with it
    fill(streams.parts)
    assert streams.ready_at(20000)
    out = np.zeros((4, 64), np.float32)
    streams.read_into(20000, out)
    assert out[2, 0] == 10000.0                      # the parts' frame 20000, at half scale


def test_a_chunk_larger_than_its_ring_is_refused(tmp_path):
    with pytest.raises(ValueError, match="chunk must be 1 to capacity \\(4096\\) frames, not 8192"):
        SongStream([], 4096, chunk=8192)


def test_the_synth_thread_fills_the_parts_ring_when_woken(streams):
    streams.prepare(5000)
    thread = synth_thread(streams.parts)
    thread.start()
    try:
        assert wait_for(lambda: streams.parts.ready_at(5000))
        assert thread.name == "backline-synth0"
    finally:
        thread.stop()


def test_the_configs_soundfont_is_relative_to_it_and_a_missing_one_is_a_warning(tmp_path):
    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "band.sf2").write_bytes(b"RIFF")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[parts]\nsoundfont = "sounds/band.sf2"\n')
    assert read_config(cfg, Problems()).soundfont == tmp_path / "sounds" / "band.sf2"
    cfg.write_text('[parts]\nsoundfont = "sounds/gone.sf2"\n')
    problems = Problems()
    assert read_config(cfg, problems).soundfont is None
    assert [str(p) for p in problems] == [
        f"{cfg}: warning: parts.soundfont: '{tmp_path / 'sounds' / 'gone.sf2'}' is not a file; the "
        "parts play with the box's own SoundFont"]


def test_a_chart_songs_threads_and_synthesiser_end_with_it(tmp_path):
    import threading

    from appliance.audio.disk.loaded import load
    from appliance.config import DEMO_LIBRARY, Config

    def ours() -> set[str]:
        return {t.name for t in threading.enumerate() if t.name.startswith("backline-")}

    before = ours()
    song = load(DEMO_LIBRARY / "songs" / "demo-chart", Config(cache=tmp_path / "cache"),
                Problems(), block=256)
    with song:
        song.prepare(0)
        song.start()
        assert ours() - before == {"backline-disk0", "backline-synth0"}
        assert wait_for(lambda: song.stream.ready_at(0))
    assert ours() == before
