"""The key and tempo a song asks to be played at (transpose, tempo_factor or a target
bpm): a bad one is reported and the song plays as written."""
from __future__ import annotations

from fractions import Fraction

from ..tomlfields import Table, in_range
from ..vocab.commands import MAX_BPM, MIN_BPM
from .tempo import TempoMap

MAX_TRANSPOSE = 12               # semitones either way
MIN_FACTOR, MAX_FACTOR = Fraction(1, 2), Fraction(2)   # a tempo factor: half to double speed
KEY_TEMPO_KEYS = ("transpose", "tempo_factor", "bpm")


def read_key_tempo(t: Table, tempo: TempoMap) -> tuple[Fraction, Fraction]:
    """(transpose in semitones, tempo factor) the song asks for; a bad one is an error on
    `t` and reads as 0 or 1, so the song plays at its written key or tempo. The factor is
    `tempo_factor`, or a target `bpm` for bar 1 (`tempo` is the map: TOML has one key for a
    number and the `[[tempo]]` entries, so the factor has a name of its own)."""
    semitones = t.get("transpose", (int, float), 0,
                      check=in_range(-MAX_TRANSPOSE, MAX_TRANSPOSE))
    factor = Fraction(1)
    if isinstance(t.data.get("tempo"), (int, float)):
        t.error("tempo", "is the tempo map ([[tempo]] entries); a tempo factor is "
                         f"tempo_factor = {t.data['tempo']!r}")
    if t.has("bpm") and t.has("tempo_factor"):
        t.error("tempo_factor", "give either tempo_factor or bpm (a target tempo), not both")
    elif t.has("bpm"):
        bpm = t.get("bpm", (int, float), None, check=in_range(MIN_BPM, MAX_BPM))
        if bpm is not None:
            written = tempo.bpm_at(Fraction(0))
            factor = Fraction(str(bpm)) / written
            if not MIN_FACTOR <= factor <= MAX_FACTOR:
                t.error("bpm", f"{bpm:g} BPM is {float(factor):.3g} times bar 1's "
                               f"{float(written):g}; a song plays at {float(MIN_FACTOR):g} "
                               f"to {float(MAX_FACTOR):g} times its tempo")
                factor = Fraction(1)
    elif t.has("tempo_factor"):
        value = t.get("tempo_factor", (int, float), None,
                      check=in_range(float(MIN_FACTOR), float(MAX_FACTOR)))
        factor = Fraction(str(value)) if value is not None else Fraction(1)
    return Fraction(str(semitones)), factor
