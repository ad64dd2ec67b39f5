"""Plain regression tests for what the fuzz suite (tests/test_fuzz.py) found: each the
exact minimal example, so it keeps failing loudly if it comes back."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.errors import BacklineError, Problems
from appliance.service.resume import Resume, load_resume
from appliance.timeline.song import load_song

from conftest import make_song, run_cli


def _song(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "song"
    folder.mkdir()
    (folder / "song.toml").write_text(text)
    return folder


@pytest.mark.parametrize("route", ["[[1]]", "[1]"])
def test_a_route_listing_something_else_than_names_is_a_field_error(tmp_path, route):
    folder = _song(tmp_path, 'length_bars = 2\n[[tempo]]\nbar = 1\nbpm = 120\n'
                             f'[[stem]]\nfile = "a.wav"\nroute = {route}\n')
    problems = Problems()
    song = load_song(folder, problems)
    # was: [[1]] TypeError: unhashable type: 'list'; [1] a problem whose message was None
    assert song is not None and song.stems == []
    assert [str(p) for p in problems] == [
        f"{folder / 'song.toml'}: stem[1].route: must list output names like "
        f"[\"foh\", \"ears\"], not {route}"]


def test_a_stem_file_name_no_disk_can_hold_is_a_field_error_not_a_traceback(library):
    folder = make_song(library, "song", 'length_bars = 2\n[[tempo]]\nbar = 1\nbpm = 120\n'
                       f'[[stem]]\nfile = "{"a" * 300}.wav"\n')
    run = run_cli("check", folder)     # was: OSError [Errno 36] File name too long
    assert run.code == 1
    assert (f"{folder / 'song.toml'}: stem[1].file: a file or folder name is at most 255 "
            f"bytes, not 304 (aaaaaaaaaaaaaaaa...)") in run.err


def test_a_stem_path_with_a_nul_is_refused_naming_the_field(library):
    folder = make_song(library, "song", 'length_bars = 2\n[[tempo]]\nbar = 1\nbpm = 120\n'
                       '[[stem]]\nfile = "a\\u0000b.wav"\n')
    problems = Problems()
    song = load_song(folder, problems)
    assert song is not None and song.stems == []
    assert [str(p) for p in problems] == [
        f"{folder / 'song.toml'}: stem[1].file: a path cannot hold a NUL character, "
        "not 'a\\x00b.wav'"]


@pytest.mark.parametrize("field, value", [
    ("library.path", "x" * 300), ("library.cache", "y/" * 2100),
    ("recording.path", "r\\u0000"), ("box.learned", "l" * 256)])
def test_config_paths_no_file_can_have_are_refused_naming_the_field(tmp_path, field, value):
    table, key = field.split(".")
    path = tmp_path / "config.toml"
    path.write_text(f'[{table}]\n{key} = "{value}"\n')
    with pytest.raises(BacklineError) as err:    # was: accepted, then OSError in Library
        load_config(path)
    assert str(err.value).startswith(f"{path}: {field}: a ")
    run = run_cli("check", "--config", path, tmp_path)
    assert run.code == 1 and f"{path}: {field}: a " in run.err


def test_a_saved_target_no_file_can_have_is_set_aside(tmp_path):
    path = tmp_path / "st.json"
    path.write_text(json.dumps({"target": "a" * 300, "index": 2}))
    problems = Problems()
    resume = load_resume(path, problems)
    assert resume == Resume()
    # was: kept, and start-up's Path(target).exists() raised OSError: File name too long
    assert [str(p) for p in problems] == [
        f"{path}: warning: target: saved state is corrupt (a file or folder name is at most "
        f"255 bytes, not 300 (aaaaaaaaaaaaaaaa...)); set aside as st.json.corrupt, starting fresh"]


def test_an_empty_or_spaced_key_is_named_as_toml_writes_it(tmp_path):
    folder = _song(tmp_path, '"" = []\nlength_bars = 2\n[[tempo]]\nbar = 1\nbpm = 120\n'
                             '[click]\n"level db" = 3\n')
    problems = Problems()
    assert load_song(folder, problems) is None
    # was: "song.toml: unknown key", naming no field at all
    assert [str(p) for p in problems] == [
        f'{folder / "song.toml"}: click."level db": unknown key',
        f'{folder / "song.toml"}: "": unknown key']
