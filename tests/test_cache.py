"""The resampling cache: capped, least recently used entries go first, and a cache disk
without room is refused with the numbers, never a traceback."""
from __future__ import annotations

import numpy as np
import pytest

from appliance.audio.disk.loaded import load
from appliance.config import load_config
from appliance.errors import BacklineError, Problems

from conftest import make_song, run_cli, tone, write_config

SONG = 'length_bars = 2\n[[tempo]]\nbar = 1\nbpm = 120\n[[stem]]\nfile = "{file}"\n'
MB = 1 << 20


def _song(library, name, seconds, rate=44100):
    return make_song(library, name, SONG.format(file=f"{name}.wav"),
                     {f"{name}.wav": (tone(seconds, rate, 200), rate)})


def _entry_bytes(seconds):
    """A mono stem resampled to 48 kHz float, plus the cache's header allowance."""
    return round(seconds * 48000) * 4 + 4096


def _config(tmp_path, cache, cap=None):
    text = f'[library]\ncache = "{cache}"\n' + (f"cache_mb = {cap}\n" if cap else "")
    return write_config(tmp_path / "c.toml", text)


def test_a_cache_disk_without_room_is_refused_with_the_numbers(library, tmp_path, tiny_disk):
    disk = tiny_disk("1m")
    folder = _song(library, "big", 10.0)
    r = run_cli("render", folder, "-o", tmp_path / "o.wav", "--config", _config(tmp_path, disk))
    want = f"{folder / 'song.toml'}: stem[1].file: 'big.wav': needs " \
           f"{_entry_bytes(10.0) / MB:.1f} MB, the cache's disk has 1.0 MB free"
    assert want in r.err, r.err
    assert "Traceback" not in r.err and list(disk.iterdir()) == []


def test_a_stem_bigger_than_the_cap_is_refused(library, tmp_path):
    folder = _song(library, "big", 30.0)
    r = run_cli("render", folder, "-o", tmp_path / "o.wav",
                "--config", _config(tmp_path, tmp_path / "cache", cap=5))
    assert f"stem[1].file: 'big.wav': needs {_entry_bytes(30.0) / MB:.1f} MB, more than the " \
           "cache may hold (5 MB, [library] cache_mb)" in r.err, r.err


def test_the_cache_keeps_to_its_cap_by_removing_the_least_recently_used(library, tmp_path):
    cache = tmp_path / "cache"
    config = load_config(_config(tmp_path, cache, cap=1))     # room for two 2.4 s stems
    songs = {n: _song(library, n, 2.4) for n in "abc"}

    def play(name):
        problems = Problems()
        loaded = load(songs[name], config, problems, block=256)
        assert not problems, problems
        loaded.close()

    def cached():
        return sorted(p.name.split("-")[0] for p in cache.iterdir())

    play("a")
    play("b")
    assert cached() == ["a", "b"]
    play("a")                          # a used again: b is now the least recently used
    play("c")
    assert cached() == ["a", "c"]
    assert sum(p.stat().st_size for p in cache.iterdir()) <= MB


@pytest.mark.parametrize("value, message", [
    ("nan", "c.toml: library.cache_mb: must be a whole number, not nan"),
    ("inf", "c.toml: library.cache_mb: must be a whole number, not inf"),
    ("0", "c.toml: library.cache_mb: must be at least 1, not 0"),
    ("2.5", "c.toml: library.cache_mb: must be a whole number, not 2.5"),
    ('"big"', "c.toml: library.cache_mb: must be a whole number, not 'big'"),
])
def test_a_bad_cache_cap_names_the_file_and_field(tmp_path, value, message):
    with pytest.raises(BacklineError) as err:
        load_config(write_config(tmp_path / "c.toml", f"[library]\ncache_mb = {value}\n"))
    assert message in str(err.value)


def test_the_cache_cap_is_read(tmp_path):
    assert load_config(write_config(tmp_path / "c.toml", "[library]\ncache_mb = 500\n")
                       ).cache_mb == 500
