"""Setlists, `backline check` over a whole library, and the config file."""
from __future__ import annotations

import pytest

from appliance.config import Config, load_config
from appliance.errors import BacklineError, Problems
from appliance.timeline.library import Library
from appliance.timeline.setlist import Transition, parse_transition

from conftest import make_song, run_cli, tone, write_config

CLICK_SONG = 'length_bars = 4\n[[tempo]]\nbar = 1\nbpm = 120\n'


def test_setlist_transitions(library):
    for name in ("opener", "second", "ballad", "closer"):
        make_song(library, name, CLICK_SONG)
    (library / "setlists" / "friday.setlist").write_text(
        "# Friday\nopener | gapless\nsecond|continue\n\nballad | crossfade 1500 ms  # into the closer\n"
        "closer\n")
    problems = Problems()
    lib = Library(library)
    sl = lib.setlist(lib.setlist_paths()[0], problems)
    assert not problems
    assert sl.name == "friday"
    assert [(e.song, str(e.transition), e.line) for e in sl.entries] == [
        ("opener", "gapless", 2), ("second", "continue", 3),
        ("ballad", "crossfade 1500 ms", 5), ("closer", "stop", 6)]


@pytest.mark.parametrize("text, want", [
    ("stop", Transition()), ("GAPLESS", Transition("gapless")),
    ("crossfade 250", Transition("crossfade", 250)), ("crossfade  40ms", Transition("crossfade", 40)),
])
def test_transitions(text, want):
    assert parse_transition(text) == want


@pytest.mark.parametrize("text, message", [
    ("fade", "transition must be stop, continue, gapless or 'crossfade N ms', not 'fade'"),
    ("crossfade 0", "crossfade must be 1 to 30000 ms, not 0"),
    ("crossfade -3 ms", "not 'crossfade -3 ms'"),
])
def test_bad_transitions(text, message):
    with pytest.raises(ValueError, match=message):
        parse_transition(text)


def test_check_reports_every_problem_in_the_library(library):
    make_song(library, "fine", CLICK_SONG)
    make_song(library, "no-tempo", "length_bars = 4\n")
    make_song(library, "bad-stem", CLICK_SONG + '[[stem]]\nfile = "gone.wav"\n')
    (library / "songs" / "empty-folder").mkdir()
    (library / "setlists" / "gig.setlist").write_text("fine\nfnie | gapless\nfine | later\n")
    r = run_cli("check", library)
    assert r.code == 1
    lines = [line for line in r.err.splitlines() if not line.startswith("checked")]
    songs = library / "songs"
    assert sorted(lines) == sorted([
        f"{songs / 'bad-stem' / 'song.toml'}: stem[1].file: 'gone.wav' not found",
        f"{songs / 'empty-folder' / 'song.toml'}: file not found",
        f"{songs / 'no-tempo' / 'song.toml'}: tempo: is required: at least one [[tempo]] "
        "with bar = 1 and bpm (or tempo_map)",
        f"{library / 'setlists' / 'gig.setlist'}: line 2: song 'fnie' is not in the library "
        "(did you mean 'fine'?)",
        f"{library / 'setlists' / 'gig.setlist'}: line 3: transition must be stop, continue, "
        "gapless or 'crossfade N ms', not 'later'",
    ])
    assert "checked 4 songs and 1 setlist: 5 errors, 0 warnings" in r.err


def test_check_passes_a_good_library_and_the_demo(library):
    make_song(library, "fine", CLICK_SONG + '[[stem]]\nfile = "a.wav"\n',
              {"a.wav": (tone(1, 44100, 220, 2), 44100)})
    (library / "setlists" / "set.setlist").write_text("fine\n")
    assert run_cli("check", library).code == 0
    assert run_cli("check", Config().library).code == 0


def test_check_of_a_folder_that_is_no_library(tmp_path):
    r = run_cli("check", tmp_path / "nowhere")
    assert r.code == 1 and "nowhere: no such folder" in r.err
    r = run_cli("check", tmp_path)
    assert r.code == 1 and "not a Backline library" in r.err


def test_config_defaults_and_file(tmp_path, monkeypatch):
    monkeypatch.delenv("BACKLINE_CONFIG")
    monkeypatch.setattr("appliance.config.SYSTEM_CONFIG", tmp_path / "absent.toml")
    assert load_config(None) == Config()
    assert (Config().rate, Config().channels) == (48000, 2)
    cfg = write_config(tmp_path / "c.toml", '[audio]\nrate = 44100\nchannels = 4\nperiod = 128\n'
                                            '[outputs]\nfoh = [1, 2]\nears = [3, 4]\n'
                                            '[library]\npath = "lib"\n')
    c = load_config(cfg)
    assert (c.rate, c.channels, c.period) == (44100, 4, 128)
    assert c.outputs == {"foh": (1, 2), "ears": (3, 4)}
    assert c.library == tmp_path / "lib"


@pytest.mark.parametrize("text, message", [
    ("[audio]\nrate = 47000\n", "c.toml: audio.rate: must be one of (22050,"),
    ("[audio]\nchannels = 2\n[outputs]\nfoh = [1, 3]\n",
     "c.toml: outputs.foh: must list device channels from 1 to 2, not [1, 3]"),
    ("[audio]\nperiod = 3\n", "c.toml: audio.period: must be at least 16, not 3"),
    ("[audio]\nsamplerate = 48000\n", "c.toml: audio.samplerate: unknown key"),
    ("[outputs]\nFOH = [1]\n", "c.toml: outputs.FOH: output names are lower-case"),
    ("[audio\n", "c.toml: line 1: TOML syntax:"),
])
def test_bad_config(tmp_path, library, text, message):
    cfg = write_config(tmp_path / "c.toml", text)
    with pytest.raises(BacklineError) as err:
        load_config(cfg)
    assert message in str(err.value)
    folder = make_song(library, "s", CLICK_SONG)
    r = run_cli("render", folder, "-o", tmp_path / "o.wav", "--config", cfg)
    assert r.code == 1 and message in r.err and "Traceback" not in r.err


def test_missing_config_file(tmp_path):
    r = run_cli("beats", "demo", "--config", tmp_path / "none.toml")
    assert r.code == 1 and "none.toml: file not found" in r.err
