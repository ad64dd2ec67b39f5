"""Guide cues: placed from the tempo and meter maps (cues.py, pure), and played whole on the
cue output (CueTrack): before a section, never half after a jump, again before each vamp pass."""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from appliance.audio.mix.cue_track import CueTrack
from appliance.errors import Problems
from appliance.timeline.beatmap import BeatMap
from appliance.timeline.cues import Cue, guide_cues, guide_word
from appliance.timeline.song import load_song
from conftest import make_song
from test_voice import CUE, RATE, onsets, render

RAMP = ('[[tempo]]\nbar = 1\nbpm = 100\n[[tempo]]\nbar = 9\nbpm = 140\nramp = true\n')


def test_a_chorus_cue_starts_guide_beats_before_the_chorus_on_a_tempo_ramp(library, tmp_path):
    folder = make_song(library, "s", 'length_bars = 12\n' + RAMP +
                       '[[section]]\nname = "Chorus"\nbar = 7\nguide_beats = 3\n')
    song = load_song(folder, Problems())
    beats = BeatMap(song.tempo, song.meters, RATE, 10 ** 8)
    chorus = beats.bar_frame(7)
    want = beats.frame(beats.index_at(chorus) - 3)            # three beats before, in the ramp
    cue, = guide_cues(song, RATE, {"chorus": 1000})
    assert (cue.frame, cue.word, cue.target) == (want, "chorus", chorus)
    assert chorus - want > 3 * 60 * RATE // 140                # ramping: not the bar-1 tempo
    got = onsets(render(folder, tmp_path)[:, CUE])
    assert len(got) == 1 and abs(got[0] - want) <= RATE // 100


def test_the_default_lead_is_a_bar_of_the_meter_before_the_section(library):
    folder = make_song(library, "s", 'length_bars = 12\n[[tempo]]\nbar = 1\nbpm = 120\n'
                       '[[tempo]]\nbar = 5\nmeter = "6/8"\n'
                       '[[section]]\nname = "verse"\nbar = 3\n[[section]]\nname = "Last Time"\nbar = 7\n'
                       '[[section]]\nname = "Horns"\nbar = 9\n[[section]]\nname = "Bridge"\nbar = 10\n'
                       'guide = ""\n[[section]]\nname = "B"\nbar = 11\nguide = "Key change"\n')
    song = load_song(folder, Problems())
    lengths = {k: 100 for k in ("verse", "last-time", "key-change")}
    got = [(c.word, c.frame) for c in guide_cues(song, RATE, lengths)]
    f = lambda bar: song.tempo.frame_at(song.meters.bar_qn(bar), RATE)   # noqa: E731
    assert got == [("verse", f(2)), ("last-time", f(6)), ("key-change", f(10))]
    assert [guide_word(s) for s in song.sections] == ["verse", "last-time", None, None, "key-change"]


@pytest.mark.parametrize("value, message", [
    ("0", "must be at least 1, not 0"), ("-1", "must be at least 1, not -1"),
    ("nan", "must be a whole number, not nan"), ('"x"', "must be a whole number, not 'x'"),
    ("1000", "must be at most 32, not 1000"), ("2.5", "must be a whole number, not 2.5"),
])
def test_bad_guide_beats_names_the_file_and_field(library, value, message):
    folder = make_song(library, "s", 'length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 120\n'
                       f'[[section]]\nname = "Chorus"\nbar = 3\nguide_beats = {value}\n')
    problems = Problems()
    load_song(folder, problems)
    assert [str(p) for p in problems.errors] == \
        [f"{folder / 'song.toml'}: section[1].guide_beats: {message}"]


def test_a_guide_that_is_not_text_names_the_field(library):
    folder = make_song(library, "s", 'length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 120\n'
                       '[[section]]\nname = "Chorus"\nbar = 3\nguide = 4\n')
    problems = Problems()
    load_song(folder, problems)
    assert "section[1].guide: must be a string, not 4" in str(problems.errors[0])


WORD = np.linspace(1.0, 0.5, 300, dtype=np.float32)       # every frame tells where it is


def play(track: CueTrack, reads: list[tuple[int, int]]) -> np.ndarray:
    """The track read as the playhead reads it: (song frame, frames) in playing order."""
    out = []
    for start, n in reads:
        buf = np.zeros((1, n), np.float32)
        track.read_into(start, buf)
        out.append(buf[0])
    return np.concatenate(out)


def bridge_track() -> CueTrack:
    return CueTrack({"bridge": WORD}, [Cue(1000, "bridge", 1500)], count_in=False)


def test_a_cue_plays_whole_past_its_section_start():
    heard = play(bridge_track(), [(s, 100) for s in range(0, 2000, 100)])
    assert np.array_equal(heard[1000:1300], WORD) and not heard[:1000].any() and not heard[1300:].any()


@pytest.mark.parametrize("land", [900, 1000, 1001, 1150, 1500])
def test_after_a_jump_the_cue_is_heard_whole_before_the_section_or_not_at_all(land):
    heard = play(bridge_track(), [(0, 256), (land, 1000)])       # a jump from 256 to `land`
    if land <= 1000:
        at = 256 + 1000 - land
        assert np.array_equal(heard[at: at + 300], WORD) and np.count_nonzero(heard) == 300
    else:
        assert not heard.any()


def test_a_word_sounding_when_the_song_jumps_plays_to_its_end():
    heard = play(bridge_track(), [(900, 200), (5000, 400)])        # jumps 100 frames into it
    assert np.array_equal(heard[100:400], WORD)


class _Loop:
    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end


def test_a_vamp_says_its_section_again_before_each_pass_and_not_the_next_one():
    track = CueTrack({"bridge": WORD, "outro": WORD[::-1].copy()},
                     [Cue(1000, "bridge", 1500), Cue(2500, "outro", 3000)], count_in=False)
    loop = _Loop(1500, 3000)
    heard = []
    for start, n in [(0, 1500), (1500, 1500), (1500, 1500), (1500, 1500)]:
        track.follow(loop, None)
        heard.append(play(track, [(start, n)]))
    passes = np.concatenate(heard)
    # each pass says "bridge" 500 frames before the loop's end, where the outro would be
    for p in range(1, 4):
        at = 1500 * p + 1000
        assert np.array_equal(passes[at: at + 300], WORD)
    assert np.count_nonzero(passes) == 4 * 300


def test_a_pending_jump_says_its_target_before_it():
    track = bridge_track()

    class Pending:
        kind, frame, to = "jump", 800, 1500
    track.follow(None, Pending)
    heard = play(track, [(0, 800)])
    assert np.array_equal(heard[300:600], WORD)          # 500 frames before the jump lands


@st.composite
def songs(draw):
    meters = draw(st.lists(st.sampled_from(["4/4", "3/4", "6/8", "7/8", "5/4", "12/8"]),
                           min_size=1, max_size=3))
    bpms = draw(st.lists(st.integers(10, 999), min_size=len(meters), max_size=len(meters)))
    text = "length_bars = 40\n"
    for i, (m, bpm) in enumerate(zip(meters, bpms)):
        ramp = "ramp = true\n" if i and draw(st.booleans()) else ""
        text += f'[[tempo]]\nbar = {1 + 6 * i}\nbpm = {bpm}\nmeter = "{m}"\n{ramp}'
    bars = sorted(draw(st.sets(st.integers(1, 39), min_size=1, max_size=8)))
    for bar in bars:
        name = draw(st.sampled_from(["Intro", "Verse", "Chorus", "Pre-chorus", "Riff"]))
        beats = draw(st.one_of(st.none(), st.integers(1, 32)))
        text += f'[[section]]\nname = "{name}"\nbar = {bar}\n' + \
            (f"guide_beats = {beats}\n" if beats else "")
    return text, draw(st.integers(1, 48000))


@settings(max_examples=60, deadline=None)
@given(songs())
def test_cues_never_start_before_frame_0_nor_overlap_and_lead_their_sections(tmp_path_factory, case):
    text, length = case
    folder = tmp_path_factory.mktemp("lib") / "s"
    folder.mkdir()
    (folder / "song.toml").write_text(text)
    problems = Problems()
    song = load_song(folder, problems)
    assert song is not None, list(problems)
    lengths = {"intro": length, "verse": length // 2 + 1, "chorus": length, "pre-chorus": 7}
    cues = guide_cues(song, RATE, lengths)
    for c in cues:
        assert 0 <= c.frame < c.target
    for a, b in zip(cues, cues[1:]):
        assert a.frame + lengths[a.word] <= b.frame
    # what is left out is only what is clipped (before 0) or would overlap a word kept
    kept = {c.target for c in cues}
    for s in song.sections:
        target = song.tempo.frame_at(s.qn, RATE)
        if guide_word(s) in lengths and target not in kept:
            alone = guide_cues(_only(song, s), RATE, lengths)
            assert not alone or any(c.frame <= alone[0].frame < c.frame + lengths[c.word]
                                    for c in cues)


def _only(song, section):
    import dataclasses
    return dataclasses.replace(song, sections=[section])
