"""What a DAW export's file names say: the stem's name and what the track is for.

"01 Kick.wav" is the stem "Kick"; a click or metronome track is not played (the box makes
its own click) but checks the tempo; a guide, cue or count track goes to the `cue` output;
the rest to `foh` and `ears` (song.toml's default route).
"""
from __future__ import annotations

import re
from enum import Enum

AUDIO_SUFFIXES = (".wav", ".flac", ".aif", ".aiff")
MIDI_SUFFIXES = (".mid", ".midi")

# "01 Kick", "01-Kick", "01_Kick", "01. Kick", "1 - Kick", "A1 Kick" is a name, not a number
_TRACK_NUMBER = re.compile(r"^\d{1,3}(?:\s*[-_.]\s*|\s+)(?=\S)")
_CLICK = re.compile(r"\b(click|metronome|metro|clk)\b", re.IGNORECASE)
_CUE = re.compile(r"\b(guide|cue|cues|count|count[- ]?in|countin|vox guide)\b", re.IGNORECASE)


class Role(Enum):
    STEM = "stem"        # to foh and ears
    CLICK = "click"      # not played (muted, to the click output): checks the tempo
    CUE = "cue"          # spoken cues, guide tracks: to the cue output


def stem_name(file_name: str) -> str:
    """The stem's name from its file name: the extension and a leading track number gone."""
    stem = file_name.rsplit(".", 1)[0] if "." in file_name.lstrip(".") else file_name
    name = _TRACK_NUMBER.sub("", stem, count=1).strip()
    return name or stem.strip() or file_name


def role(name: str) -> Role:
    """What a track is for, from its name (words split on spaces, - and _)."""
    words = re.sub(r"[_\-]+", " ", name)
    if _CLICK.search(words):
        return Role.CLICK
    if _CUE.search(words):
        return Role.CUE
    return Role.STEM


def unique_names(names: list[str]) -> list[str]:
    """Each name once: a second "Vox" becomes "Vox 2" (song.toml wants one stem a name)."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name} {n}"
        seen.add(candidate)
        out.append(candidate)
    return out
