"""What the control socket answers about the library: the songs (read with the loader
`check` uses), the setlists, one setlist read, one written through the same lines
`check` reads it with, whole or not at all (`replace_file`). Runs on the socket's request
thread, never the audio thread's; every answer is plain JSON values."""
from __future__ import annotations

from pathlib import Path

from ..audio.disk.loaded import validate_song
from ..config import Config
from ..errors import Problems
from ..files import replace_file
from ..timeline.library import Library
from ..timeline.loudness import Level
from ..timeline.setlist import parse_setlist, parse_transition, setlist_text
from .remote_messages import Refused

MAX_NAME = 100          # characters of a setlist's name
MAX_SONGS = 500         # songs in one saved setlist


def songs(config: Config) -> list[dict]:
    """Every song of the library: name, title, length, tempo at bar 1, key (null when
    song.toml has none), stems; a song that cannot play has its first error instead."""
    library = Library(config.library)
    listing = []
    for name in library.song_names():
        problems = Problems()
        playable = validate_song(library.song_dir(name), config, problems)
        if playable is None:
            errors = problems.errors or problems
            listing.append({"name": name, "problem": str(errors[0]) if errors else "cannot play"})
            continue
        song = playable.song
        listing.append({"name": name, "title": song.title,
                        "seconds": round(playable.frames / config.rate, 3),
                        "bpm": round(float(song.tempo.bpm_at(0)), 3), "key": song.key,
                        "stems": len(song.stems), "sections": [s.name for s in song.sections],
                        "loudness": _loudness(playable.level)})
    return listing


def _loudness(level: Level | None) -> dict | None:
    """The measured loudness and the FOH gain it plays at; null when never measured
    (a silent song's -inf LUFS goes out as null, as every number JSON cannot hold)."""
    if level is None or level.measured is None:
        return None
    return {"lufs": level.measured.integrated_lufs, "gain_db": level.gain_db}


def setlists(config: Config) -> list[str]:
    return [p.stem for p in Library(config.library).setlist_paths()]


def setlist_path(config: Config, name: object) -> Path:
    """The library's setlist of this name; Refused for a name that is not a plain file name."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME or name.startswith(".") \
            or any(ch in name for ch in "/\\\0\n\r"):
        raise Refused(f"name must be a setlist's name (1 to {MAX_NAME} characters, no "
                      f"slash, not starting with a dot), not {name!r}")
    return Library(config.library).setlist_path(name)


def read_setlist(config: Config, name: object) -> dict:
    path = setlist_path(config, name)
    library = Library(config.library)
    problems = Problems()
    setlist = library.setlist(path, problems)
    if setlist is None:
        raise Refused(str(problems[0]))
    return {"name": name, "songs": [e.song for e in setlist.entries],
            "transitions": [str(e.transition) for e in setlist.entries],
            "problems": [str(p) for p in problems]}


def save_setlist(config: Config, name: object, songs_: object, transitions: object) -> dict:
    """Written only when every song is in the library and every transition is one the
    setlist format has; else Refused with every reason (`songs[i]` names the entry)."""
    path = setlist_path(config, name)
    if not isinstance(songs_, list) or not songs_ or len(songs_) > MAX_SONGS or \
            not all(isinstance(s, str) for s in songs_):
        raise Refused(f"songs must be a list of 1 to {MAX_SONGS} song names")
    if transitions is None:
        transitions = ["stop"] * len(songs_)
    if not isinstance(transitions, list) or len(transitions) != len(songs_):
        raise Refused("transitions must be a list with one transition per song "
                      "(stop, continue, gapless, crossfade N ms) or left out (all stop)")
    reasons = []
    for i, (song, transition) in enumerate(zip(songs_, transitions)):
        if not song.strip() or any(ch in song for ch in "#|\n\r"):
            reasons.append(f"songs[{i}]: {song!r} is not a song's name")
        try:
            parse_transition(transition if transition is not None else "stop")
        except (ValueError, AttributeError):
            reasons.append(f"transitions[{i}]: transition must be stop, continue, gapless "
                           f"or 'crossfade N ms', not {transition!r}")
    if reasons:
        raise Refused("; ".join(reasons))
    text = "".join(f"{s} | {t or 'stop'}\n" for s, t in zip(songs_, transitions))
    problems = Problems()
    library = Library(config.library)
    setlist = parse_setlist(path, text, set(library.song_names()), problems)
    if problems.errors:          # line N is songs[N-1]
        raise Refused("; ".join(f"songs[{int(p.field.split()[-1]) - 1}]: {p.message}"
                                if p.field.startswith("line ") else p.message
                                for p in problems.errors))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, setlist_text([(e.song, e.transition) for e in setlist.entries]))
    except OSError as exc:
        raise Refused(f"{path}: not saved: {exc.strerror or exc}") from None
    return {"name": name, "path": str(path)}

