"""Plain regression tests for what the fuzz suite (tests/test_fuzz.py) found: each the
exact minimal example, so it keeps failing loudly if it comes back."""
from __future__ import annotations

from pathlib import Path

from appliance.errors import Problems
from appliance.timeline.song import load_song


def _song(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "song"
    folder.mkdir()
    (folder / "song.toml").write_text(text)
    return folder


def test_a_route_listing_something_else_than_names_is_a_field_error(tmp_path):
    folder = _song(tmp_path, 'length_bars = 2\n[[tempo]]\nbar = 1\nbpm = 120\n'
                             '[[stem]]\nfile = "a.wav"\nroute = [[1]]\n')
    problems = Problems()
    song = load_song(folder, problems)      # was: TypeError: unhashable type: 'list'
    assert song is not None and song.stems == []
    assert [str(p) for p in problems] == [
        f"{folder / 'song.toml'}: stem[1].route: must list output names like "
        f"[\"foh\", \"ears\"], not [[1]]"]
