"""`backline check` tells the truth: it finds what render, play and the daemon refuse or
warn about, through the same code (`validate_song`), naming the file and the field."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf

from appliance.audio.disk.loaded import load
from appliance.audio.disk.show import Show, SongBank
from appliance.config import load_config
from appliance.errors import Problems

from conftest import make_song, run_cli, tone, write_config

TEMPO = '[[tempo]]\nbar = 1\nbpm = 120\n'
CLICK_SONG = 'length_bars = 4\n' + TEMPO


def _lines(text: str) -> list[str]:
    """The problem lines of a command's stderr (not its summary or render's report)."""
    return [line for line in text.splitlines() if "song.toml:" in line or ".setlist:" in line]


def _check(path: Path, *args: object) -> tuple[int, list[str]]:
    r = run_cli("check", path, *args)
    assert "Traceback" not in r.err
    return r.code, _lines(r.err)


def _render(folder: Path, tmp_path: Path, *args: object) -> tuple[int, list[str]]:
    r = run_cli("render", folder, "-o", tmp_path / "out.wav", *args)
    assert "Traceback" not in r.err
    return r.code, _lines(r.err)


def _play_problems(folder: Path, config_path: Path | None = None) -> list[str]:
    """What the play/daemon path (Show, SongBank) reports when it loads the song."""
    config = load_config(config_path)
    with SongBank(Show.of_song(folder), config, block=512, blocking=True) as bank:
        bank.load_now(0)
        return [str(p) for p in bank.problems[0]]


def _marker_midi(path: Path, markers: list[tuple[int, str]], end: int) -> None:
    """A type-0 tempo map at 120 BPM, PPQ 480, with markers at the given ticks."""
    events = [(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120)))]
    events += [(tick, mido.MetaMessage("marker", text=text)) for tick, text in markers]
    events.append((end, mido.MetaMessage("end_of_track")))
    track, last = mido.MidiTrack(), 0
    for tick, msg in sorted(events, key=lambda e: e[0]):
        track.append(msg.copy(time=tick - last))
        last = tick
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    mid.tracks.append(track)
    mid.save(str(path))


# -- sections and markers ------------------------------------------------------------

def test_duplicate_section_names_in_any_case_are_warned_about_by_check_and_render(
        library, tmp_path):
    folder = make_song(library, "s", CLICK_SONG + '[[section]]\nname = "Chorus"\nbar = 1\n'
                                                  '[[section]]\nname = "Verse"\nbar = 2\n'
                                                  '[[section]]\nname = "CHORUS"\nbar = 3\n')
    want = (f"{folder / 'song.toml'}: warning: section[3]: 'CHORUS' has the name of 'Chorus' "
            "(bar 1; names match in any case): a jump by name goes to the first")
    assert _check(folder) == (0, [want])
    assert _render(folder, tmp_path) == (0, [want])
    assert _play_problems(folder) == [want]


def test_sections_past_the_end_are_warned_about_and_left_out(library, tmp_path):
    folder = make_song(library, "s", CLICK_SONG + '[[section]]\nname = "Verse"\nbar = 2\n'
                                                  '[[section]]\nname = "End"\nbar = 5\n'
                                                  '[[section]]\nname = "Coda"\nbar = 9\n')
    f = folder / "song.toml"
    want = [f"{f}: warning: section[2]: 'End' at bar 5 is past the song's end (in bar 4); left out",
            f"{f}: warning: section[3]: 'Coda' at bar 9 is past the song's end (in bar 4); "
            "left out"]
    assert _check(folder) == (0, want)
    assert _render(folder, tmp_path) == (0, want)
    assert _play_problems(folder) == want
    problems = Problems()
    with load(folder, load_config(None), problems, block=512) as loaded:
        # what the transport can jump to: only Verse, at 2 s (bar 2)
        assert [s.name for s in loaded.song.sections] == ["Verse"]
        assert loaded.positions.section_frames.tolist() == [96000]
        assert loaded.frames == 4 * 96000


def test_sections_past_the_end_of_the_longest_stem(library):
    folder = make_song(library, "s", TEMPO + '[[stem]]\nfile = "a.wav"\n'
                                             '[[section]]\nname = "Outro"\nbar = 3\n',
                       {"a.wav": (tone(3.0, 48000, 220), 48000)})      # 1.5 bars at 120
    assert _check(folder) == (0, [f"{folder / 'song.toml'}: warning: section[1]: 'Outro' at "
                                  "bar 3 is past the song's end (in bar 2); left out"])


def test_two_sections_at_one_position(library):
    folder = make_song(library, "s", CLICK_SONG + '[[section]]\nname = "A"\nbar = 2\nbeat = 3\n'
                                                  '[[section]]\nname = "B"\nbar = 2\nbeat = 3\n')
    code, lines = _check(folder)
    assert code == 1
    assert lines == [f"{folder / 'song.toml'}: section[2].bar: 'B' is at the same position as "
                     "'A' (bar 2 beat 3); give each section its own place"]


def test_two_markers_at_one_position_keep_the_first(library, tmp_path):
    folder = make_song(library, "s", 'tempo_map = "song.mid"\n')
    _marker_midi(folder / "song.mid", [(0, "Intro"), (1920, "Verse"), (1920, "Verse 2"),
                                       (3840, "Chorus")], end=4 * 1920)
    want = [f"{folder / 'song.toml'}: warning: tempo_map: marker 'Verse 2' is at the same "
            "position as 'Verse' (bar 2); left out"]
    assert _check(folder) == (0, want)
    assert _render(folder, tmp_path) == (0, want)
    problems = Problems()
    with load(folder, load_config(None), problems, block=512) as loaded:
        assert [s.name for s in loaded.song.sections] == ["Intro", "Verse", "Chorus"]


def test_markers_of_one_name_and_past_the_end_name_the_tempo_map(library):
    folder = make_song(library, "s", 'tempo_map = "song.mid"\n')
    _marker_midi(folder / "song.mid", [(0, "Chorus"), (1920, "chorus"), (4 * 1920, "End")],
                 end=4 * 1920)
    f = folder / "song.toml"
    assert _check(folder) == (0, [
        f"{f}: warning: tempo_map: 'chorus' has the name of 'Chorus' (bar 1; names match in any "
        "case): a jump by name goes to the first",
        f"{f}: warning: tempo_map: 'End' at bar 5 is past the song's end (in bar 4); left out"])


# -- length ------------------------------------------------------------------------

def test_a_song_whose_stems_all_fail_and_has_no_length_cannot_play(library, tmp_path):
    folder = make_song(library, "s", TEMPO + '[[stem]]\nfile = "gone.wav"\n')
    f = folder / "song.toml"
    want = [f"{f}: stem[1].file: 'gone.wav' not found",
            f"{f}: length_bars: the song has no length: no stem can play and there is no "
            "length_bars"]
    assert _check(folder) == (1, want)
    assert _render(folder, tmp_path) == (1, want)
    assert _play_problems(folder) == want


def test_a_tempo_map_that_ends_where_it_starts_is_a_song_of_no_length(library, tmp_path):
    folder = make_song(library, "s", 'tempo_map = "song.mid"\n')
    _marker_midi(folder / "song.mid", [], end=0)
    want = [f"{folder / 'song.toml'}: length_bars: the song has no length: its tempo_map ends "
            "where it starts"]
    assert _check(folder) == (1, want)
    assert _render(folder, tmp_path) == (1, want)
    assert run_cli("beats", folder).code == 1


# -- routing -----------------------------------------------------------------------

def test_a_64_channel_stem_onto_a_stereo_output_check_says_what_render_says(library, tmp_path):
    folder = make_song(library, "s", CLICK_SONG + '[[stem]]\nfile = "wide.wav"\n'
                                                  'route = ["foh"]\n')
    sf.write(str(folder / "wide.wav"), np.full((4800, 64), 0.01, np.float32), 48000)
    cfg = write_config(tmp_path / "stereo.toml", "[audio]\nchannels = 3\n"
                                                 "[outputs]\nfoh = [1, 2]\nclick = [3]\n")
    want = [f"{folder / 'song.toml'}: warning: wide.route.foh: 64 channels cannot go onto 2; "
            "choose 2 of them in the route"]
    assert _check(folder, "--config", cfg) == (0, want)
    assert _render(folder, tmp_path, "--config", cfg) == (0, want)
    assert _play_problems(folder, cfg) == want


def test_check_render_and_play_give_the_same_warnings_once(library, tmp_path):
    """Routing, a click in front, sections: each warned about once, the same by all three."""
    folder = make_song(library, "s", CLICK_SONG + '[click]\noutput = "foh"\n'
                                                  '[[section]]\nname = "X"\nbar = 1\n'
                                                  '[[section]]\nname = "x"\nbar = 7\n'
                                                  '[[stem]]\nfile = "a.wav"\n'
                                                  'route = ["foh", "monitors"]\n',
                       {"a.wav": (tone(1, 48000, 220), 48000)})
    code, checked = _check(folder)
    assert code == 0 and len(checked) == 4 and len(set(checked)) == 4, checked
    assert sorted(_render(folder, tmp_path)[1]) == sorted(checked)
    assert sorted(_play_problems(folder)) == sorted(checked)


def test_the_play_path_logs_what_check_says(library, caplog):
    """`play` and the daemon say a loaded song's warnings (stderr, the journal), not only
    its errors."""
    folder = make_song(library, "s", CLICK_SONG + '[[stem]]\nfile = "a.wav"\n'
                                                  'route = ["foh", "monitors"]\n',
                       {"a.wav": (tone(1, 48000, 220), 48000)})
    with caplog.at_level("WARNING", logger="backline"):
        said = _play_problems(folder)
    assert said and [r.getMessage() for r in caplog.records] == said


# -- files that are not regular files ------------------------------------------------

def _no_file(path: Path, kind: str) -> None:
    if kind == "folder":
        path.mkdir()
    elif kind == "FIFO":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/null")
    elif kind == "symlink loop":
        path.symlink_to(path.name)
    elif kind == "broken symlink":
        path.symlink_to(path.parent / "nothing-here")


KINDS = ["folder", "FIFO", "device", "symlink loop", "broken symlink"]


def _unblocking(path: Path, run) -> None:
    """Run `run` in a thread; should it hang opening the FIFO `path`, free it and fail."""
    done = threading.Thread(target=run, daemon=True)
    done.start()
    done.join(15)
    if done.is_alive():
        if path.is_fifo():
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))   # EOF for the reader
        done.join(5)
        pytest.fail(f"hung on {path}")


@pytest.mark.parametrize("kind", KINDS)
def test_a_song_toml_that_is_no_file_says_what_it_is(library, kind):
    folder = library / "songs" / "s"
    folder.mkdir()
    _no_file(folder / "song.toml", kind)
    out: list = []
    _unblocking(folder / "song.toml", lambda: out.append(_check(library)))
    assert out == [(1, [f"{folder / 'song.toml'}: is a {kind}"])]
    out.clear()                  # the song folder itself, as `check FOLDER`
    _unblocking(folder / "song.toml", lambda: out.append(_check(folder)))
    assert out == [(1, [f"{folder / 'song.toml'}: is a {kind}"])]


@pytest.mark.parametrize("kind", KINDS)
def test_a_stem_that_is_no_file_says_what_it_is(library, tmp_path, kind):
    folder = make_song(library, "s", CLICK_SONG + '[[stem]]\nfile = "x.wav"\n')
    _no_file(folder / "x.wav", kind)
    want = [f"{folder / 'song.toml'}: stem[1].file: 'x.wav' is a {kind}"]
    out: list = []
    _unblocking(folder / "x.wav", lambda: out.append((_check(folder),
                                                      _render(folder, tmp_path))))
    assert out == [((1, want), (0, want))]


@pytest.mark.parametrize("kind", KINDS)
def test_a_setlist_that_is_no_file_says_what_it_is(library, kind):
    make_song(library, "s", CLICK_SONG)
    path = library / "setlists" / "gig.setlist"
    _no_file(path, kind)
    out: list = []
    _unblocking(path, lambda: out.append(_check(library)))
    assert out == [(1, [f"{path}: is a {kind}"])]


def test_a_midi_file_that_is_a_fifo_does_not_hang_the_loader(library):
    folder = make_song(library, "s", 'midi_file = "lights.mid"\n' + CLICK_SONG)
    os.mkfifo(folder / "lights.mid")
    out: list = []
    _unblocking(folder / "lights.mid", lambda: out.append(_check(folder)))
    assert out == [(0, [f"{folder / 'song.toml'}: warning: midi_file: lights.mid: is a FIFO; "
                        "not sent"])]


@pytest.mark.parametrize("kind, message", [
    ("FIFO", "is a FIFO"), ("file", "is a file, not a library or a song folder"),
    ("symlink loop", "is a symlink loop")])
def test_check_of_something_that_is_no_folder_says_what_it_is(tmp_path, kind, message):
    path = tmp_path / "x"
    if kind == "file":
        path.write_text("")
    else:
        _no_file(path, kind)
    r = run_cli("check", path)
    assert r.code == 1 and f"{path}: {message}" in r.err


# -- setlists ----------------------------------------------------------------------

def test_lists_no_songs_is_said_after_an_earlier_setlist_had_errors(library):
    make_song(library, "fine", CLICK_SONG)
    (library / "setlists" / "a.setlist").write_text("nosuch\n")
    (library / "setlists" / "b.setlist").write_text("# nothing yet\n")
    code, lines = _check(library)
    assert code == 1
    assert lines == [
        f"{library / 'setlists' / 'a.setlist'}: line 1: song 'nosuch' is not in the library",
        f"{library / 'setlists' / 'b.setlist'}: warning: lists no songs"]
