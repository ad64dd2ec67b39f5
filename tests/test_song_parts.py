"""A chart song's parts in song.toml (`[[part]]`, `[parts]`, `parts = false`): what each
field means, and every mistake named by file and field while the song still plays."""
from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import event, given

from appliance.errors import Problems
from appliance.timeline.song import SONG_FILE, load_song
from appliance.timeline.song_parts import PART_NAMES

import fuzz_files as ff

CHART = 'chart = """\ntempo: 120\n[A]\n| C | Am7 |\n"""\n'


def song(tmp_path: Path, text: str, *, chart: str = CHART):
    (tmp_path / SONG_FILE).write_text(chart + text)
    problems = Problems()
    return load_song(tmp_path, problems), [str(p) for p in problems]


def test_every_part_plays_with_a_stems_defaults_when_it_has_no_table(tmp_path):
    s, problems = song(tmp_path, "")
    assert problems == []
    assert [p.name for p in s.parts.parts] == list(PART_NAMES)
    assert all(p.route == {"foh": None, "ears": None} and p.gain_db == 0 and not p.muted
               and p.program is None and not p.explicit_route for p in s.parts.parts)
    assert (s.parts.enabled, s.parts.seed, s.parts.intensity) == (True, 0, None)


def test_a_part_table_routes_levels_and_programs_its_part(tmp_path):
    s, problems = song(tmp_path, '[[part]]\nname = "keys"\nroute = { ears = [2] }\n'
                                 'gain_db = -6.5\nmuted = true\nprogram = 16\n'
                                 '[parts]\nseed = 7\nintensity = 0.25\n')
    assert problems == []
    keys = s.parts.parts[2]
    assert (keys.name, keys.route, keys.gain_db, keys.muted, keys.program, keys.explicit_route) \
        == ("keys", {"ears": (2,)}, -6.5, True, 16, True)
    assert s.parts.parts[1].route == {"foh": None, "ears": None}
    assert (s.parts.seed, s.parts.intensity) == (7, 0.25)


def test_parts_false_silences_them_all(tmp_path):
    s, problems = song(tmp_path, "parts = false\n")
    assert problems == [] and s.parts.enabled is False


@pytest.mark.parametrize("text, field, what", [
    ('[[part]]\nname = "piano"\n', "part[1].name", "must be one of 'drums', 'bass', 'keys', not 'piano'"),
    ('[[part]]\nname = "bass"\n[[part]]\nname = "bass"\n', "part[2].name", "'bass' has a [[part]] already"),
    ('[[part]]\nname = "bass"\ngain_db = nan\n', "part[1].gain_db", "must be a finite number, not nan"),
    ('[[part]]\nname = "bass"\ngain_db = 30\n', "part[1].gain_db", "must be at most 24"),
    ('[[part]]\nname = "keys"\nprogram = 128\n', "part[1].program", "must be at most 127"),
    ('[[part]]\nname = "drums"\nprogram = 3\n', "part[1].program", "drums play GM's drum kit"),
    ('[[part]]\nname = "bass"\nroute = ["bad name"]\n', "part[1].route", "output names are"),
    ('[[part]]\nname = "bass"\nvolume = 3\n', "part[1].volume", "unknown key"),
    ('[[part]]\ngain_db = 1\n', "part[1].name", "is required"),
    ('[parts]\nintensity = 1.5\n', "parts.intensity", "must be at most 1"),
    ('[parts]\nintensity = inf\n', "parts.intensity", "must be a finite number, not inf"),
    ('[parts]\nseed = -1\n', "parts.seed", "must be at least 0"),
    ('[parts]\nseed = 4294967296\n', "parts.seed", "must be at most 4294967295"),
    ('parts = 3\n', "parts", "must be a table"),
])
def test_a_bad_part_names_file_and_field_and_the_song_still_loads(tmp_path, text, field, what):
    s, problems = song(tmp_path, text)
    assert s is not None
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path / SONG_FILE}: {field}: "), problems
    assert what in problems[0]


def test_a_broken_part_table_leaves_that_part_silent_and_the_others_as_they_were(tmp_path):
    s, _ = song(tmp_path, '[[part]]\nname = "bass"\ngain_db = "loud"\n')
    drums, bass, keys = s.parts.parts
    assert bass.muted and not drums.muted and not keys.muted


def test_a_stem_named_as_a_part_is_left_out_naming_both(tmp_path):
    (tmp_path / "bass.wav").write_bytes(b"")
    s, problems = song(tmp_path, '[[stem]]\nfile = "bass.wav"\n')
    assert s is not None and s.stems == []
    assert problems == [f"{tmp_path / SONG_FILE}: stem[1].name: 'bass' is the name of the "
                        "chart's bass part; give the stem another name"]


@pytest.mark.parametrize("text, field", [('[[part]]\nname = "bass"\n', "part"),
                                         ('[parts]\nseed = 3\n', "parts"),
                                         ('parts = false\n', "parts")])
def test_parts_in_a_song_without_a_chart_are_an_error_that_says_so(tmp_path, text, field):
    s, problems = song(tmp_path, text + "[[tempo]]\nbar = 1\nbpm = 100\n",
                       chart="length_bars = 2\n")
    assert s is not None and s.parts is None
    assert problems == [f"{tmp_path / SONG_FILE}: {field}: only a chart song has parts "
                        f"(chart.txt or chart = \"...\"); remove {field} or add a chart"]


@given(ff.near_valid_chart_songs.map(ff.toml_text))
def test_fuzzed_part_tables_load_or_say_which_field(text: str) -> None:
    ff.CASES["song.toml: [[part]] and [parts]"] += 1
    folder = Path(tempfile.mkdtemp())
    try:
        (folder / SONG_FILE).write_text(text)
        problems = Problems()
        s = load_song(folder, problems)
        event("refused" if s is None else "loaded")
        for p in problems:
            assert p.file == folder / SONG_FILE and p.field, p
        if s is None:
            assert problems.errors
            return
        assert all(p.field.startswith(("stem[", "part")) for p in problems.errors)
        assert [p.name for p in s.parts.parts] == list(PART_NAMES)
        for p in s.parts.parts:
            assert math.isfinite(p.gain_db) and -120 <= p.gain_db <= 24
            assert p.program is None or 0 <= p.program <= 127
        assert s.parts.intensity is None or 0 <= s.parts.intensity <= 1
        assert 0 <= s.parts.seed < 2 ** 32
    finally:
        shutil.rmtree(folder, ignore_errors=True)
