"""The click found on asking (grid.click_map, ClickTrack) plays what listing every click with
grid.click_schedule played, sample for sample, through jumps, and stays small for any song."""
import tracemalloc
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.audio.mix.click import LENGTH_S, MEMO, ClickTrack, click_sounds
from appliance.audio.disk.loaded import load
from appliance.audio.render import RenderRange, mixed
from appliance.config import Config
from appliance.errors import Problems
from appliance.timeline import grid
from appliance.timeline.beatmap import BeatMap
from appliance.timeline.meter import Meter, MeterMap
from appliance.timeline.song import ClickSpec

from conftest import make_song
from test_beatmap import CASES, _map, tempo_and_meters

F = Fraction
SOUNDS = click_sounds(48000, -6.0)
SPECS = {"beats": ClickSpec(), "eighths": ClickSpec(subdivision=2),
         "triplets, compound eighths": ClickSpec(subdivision=3, eighths=True),
         "sixteenths": ClickSpec(subdivision=4)}


def _song(tempo, meters, spec):
    return SimpleNamespace(tempo=tempo, meters=meters, click=spec)


def _heard(frames, kinds, total: int) -> np.ndarray:
    """The listed clicks, each sound added whole in order: what the click must play."""
    out = np.zeros(total + int(48000 * LENGTH_S), np.float32)
    for f, k in zip(frames.tolist(), kinds.tolist()):
        out[f:f + len(SOUNDS[k])] += SOUNDS[k]
    return out[:total]


def _played(track: ClickTrack, blocks) -> list[np.ndarray]:
    """`track` read block by block: (start, length) each."""
    got = []
    for start, n in blocks:
        out = np.full((1, n), 9.0, np.float32)          # every frame must be written
        track.read_into(start, out)
        got.append(out[0].copy())
    return got


def assert_plays_the_schedule(song, rate: int, end: int, jumps: list[int]) -> None:
    """The map's clicks are the listed ones (frames and kinds), and the track plays them
    block by block, on and through `jumps`, sample for sample."""
    frames, kinds = grid.click_schedule(song, rate, end)
    clicks = grid.click_map(song, rate, end)
    assert clicks.count == len(frames)
    places = [clicks.place(i) for i in range(clicks.count)]
    assert [p[0] for p in places] == frames.tolist()
    assert [grid.click_kind(b, s) for _, b, s in places] == kinds.tolist()
    beats = BeatMap(song.tempo, song.meters, rate, end)      # bars as the beats place them
    assert [clicks.bar_frame(bar) for bar in range(1, beats.last_bar + 2)] == \
        [beats.bar_frame(bar) for bar in range(1, beats.last_bar + 2)]
    for f in (0, 1, end // 3, end // 2, end - 1):
        assert (clicks.bar_at(f), clicks.next_bar(f)) == (beats.bar_at(f), beats.next_bar(f))
    if rate != 48000:
        return
    heard = _heard(frames, kinds, end)
    track = ClickTrack(clicks, SOUNDS)
    sizes = [128, 37, 1000, 4096, 1]
    blocks, pos = [], 0
    for target in [0] + jumps:
        pos = target
        for n in sizes * 3:
            if pos >= end:
                break
            blocks.append((pos, min(n, end - pos)))
            pos += blocks[-1][1]
        sizes = sizes[1:] + sizes[:1]
    for (start, n), got in zip(blocks, _played(track, blocks)):
        assert np.array_equal(got, heard[start:start + n]), f"block at {start}"


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
@pytest.mark.parametrize("points, meters, rate", CASES.values(), ids=CASES.keys())
def test_the_click_plays_the_listed_clicks(points, meters, rate, spec):
    tempo, mm = _map(points), MeterMap.from_bars(meters)
    end = tempo.frame_at(mm.bar_qn(17), rate) + 7
    assert_plays_the_schedule(_song(tempo, mm, spec), rate, end,
                              [end // 2 + 3, 500, end - 3000, end // 3, 0])


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_a_bar_cut_short_by_a_meter_change_cuts_its_subdivisions(spec):
    tempo = _map([(F(0), F(120), False), (F(5), F(150), True), (F(9), F(150), False)])
    mm = MeterMap.from_qn([(F(0), Meter(4, 4)), (F(23, 4), Meter(6, 8)), (F(19, 2), Meter(7, 8))])
    song = _song(tempo, mm, spec)
    assert_plays_the_schedule(song, 48000, tempo.frame_at(F(30), 48000), [100_000])
    if spec.subdivision == 4:     # beat 2 of bar 2 is cut after 3 of its 4 sixteenths
        frames, kinds = grid.click_schedule(song, 48000, tempo.frame_at(F(23, 4), 48000) + 1)
        assert kinds.tolist()[-8:] == [grid.ACCENT, grid.SUB, grid.SUB, grid.SUB,
                                       grid.BEAT, grid.SUB, grid.SUB, grid.ACCENT]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tempo_and_meters(), st.integers(1, 4), st.booleans(),
       st.lists(st.floats(0, 1), max_size=4))
def test_the_click_plays_the_listed_clicks_for_any_map(case, subdivision, eighths, jumps):
    tempo, meters, rate, end_qn = case
    end = tempo.frame_at(end_qn, rate)
    song = _song(tempo, meters, ClickSpec(subdivision=subdivision, eighths=eighths))
    assert_plays_the_schedule(song, rate, end, [int(j * end) for j in jumps])


def test_the_count_in_clicks_its_listed_beats(library):
    problems = Problems()
    folder = make_song(library, "ci", 'count_in = 2\nlength_bars = 8\n[[tempo]]\nbar = 1\n'
                       'bpm = 97.3\n[[tempo]]\nbar = 5\nbpm = 150\nmeter = "7/8"\nramp = true\n'
                       '[click]\nsubdivision = 4\n')
    loaded = load(folder, Config(cache=library / "cache"), problems, block=256)
    assert loaded is not None, problems
    with loaded:
        for start_qn in (F(0), loaded.song.meters.bar_qn(4) + 1, loaded.song.meters.bar_qn(6)):
            ci, track = loaded.count_in(start_qn)
            clicks = track.clicks
            assert [clicks.place(i) for i in range(clicks.count)] == [
                (b.frame, b.beat - 1, 0) for b in ci.beats]          # no subdivisions


def test_the_render_plays_the_listed_count_in_and_clicks(library):
    """The offline render's click output: the count-in's beats, then every listed click."""
    folder = make_song(library, "r", 'count_in = 1\nlength_bars = 6\n[[tempo]]\nbar = 1\n'
                       'bpm = 131.5\n[[tempo]]\nbar = 3\nbpm = 90\nmeter = "6/8"\nramp = true\n'
                       '[[tempo]]\nbar = 5\nmeter = "5/4"\n[click]\nsubdivision = 4\n')
    problems = Problems()
    loaded = load(folder, Config(cache=library / "cache"), problems, block=1000)
    assert loaded is not None, problems
    with loaded:
        r = RenderRange(start_bar=2)
        got = np.concatenate([buf[:, 1].copy() for buf in mixed(loaded, r)])
        song, first = loaded.song, loaded.song.tempo.frame_at(loaded.song.meters.bar_qn(2), 48000)
    ci = grid.count_in(song, 48000, song.meters.bar_qn(2))
    frames, kinds = grid.click_schedule(song, 48000, loaded.frames)
    want = _heard(np.array([b.frame for b in ci.beats]),
                  np.array([grid.click_kind(b.beat - 1, 0) for b in ci.beats]), ci.frames)
    want = np.concatenate([want, _heard(frames, kinds, loaded.frames)[first:]])
    assert np.abs(want).max() > 0.1 and np.array_equal(got, want)


def test_the_longest_song_s_click_stays_small(library):
    """24 h at 999 BPM in sixteenths (5.75 M clicks): kilobytes at load, where listing every
    click took minutes of the loader's CPU and hundreds of MB; its last click in place."""
    bars = 24 * 3600 * 999 // 240
    folder = make_song(library, "long", f'length_bars = {bars}\n[[tempo]]\nbar = 1\nbpm = 999\n'
                       '[click]\nsubdivision = 4\n')
    problems = Problems()
    tracemalloc.start()
    try:
        loaded = load(folder, Config(cache=library / "cache"), problems, block=256)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert loaded is not None, problems
    with loaded:
        clicks = loaded.click.clicks
        assert kept < 1_000_000 and peak < 2_000_000
        assert clicks.count == bars * 16
        last_qn = bars * 4 - F(1, 4)
        assert clicks.place(clicks.count - 1) == (
            loaded.song.tempo.frame_at(last_qn, 48000), 3, 3)


def test_playing_on_keeps_no_memory():
    """Period after period, the track keeps nothing new once its memo of clicks is full, and
    a period's passing objects (a few ints and tuples) stay under 2 kB."""
    tempo, mm = _map([(F(0), F(999), False)]), MeterMap.from_bars([(1, Meter(4, 4))])
    track = ClickTrack(grid.click_map(_song(tempo, mm, SPECS["sixteenths"]), 48000, 10**9),
                       SOUNDS)
    out = np.zeros((1, 128), np.float32)
    periods = iter(range(10**8, 10**9, 128))       # every click index a new int
    tracemalloc.start()
    try:
        for _ in range(2 * MEMO * 720 // 128):    # every memo slot used (a click every 720)
            track.read_into(next(periods), out)
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(5000):
            track.read_into(next(periods), out)
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 100 and peak - before < 2000     # an int in a slot, not a list
