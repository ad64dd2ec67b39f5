"""The show's place as the daemon keeps it: taken from the running player and written
when it changes, so a restart comes back to the same setlist position and levels."""
from __future__ import annotations

from pathlib import Path

from ..audio.player import Player
from ..vocab.state import State
from .logs import log
from .resume import Resume, save_resume


def resume_point(player: Player, target: str, s: State) -> Resume:
    """Where `player` is, playing `target`, with the levels and keys chosen tonight."""
    return Resume(target=str(Path(target).resolve()) if target else "", index=s.index,
                  output_gain_db=dict(s.output_gain_db), click_db=player.transport.click_db,
                  armed=s.record.armed, record_arm=s.record.follow,
                  keys=keys_chosen(player), dynamics=dynamics_chosen(player))


def keys_chosen(player: Player) -> dict[str, tuple[float, float]]:
    """Each song's key and tempo chosen tonight, by folder name."""
    entries = player.bank.show.entries
    return {entries[pos].name: (float(semitones), float(tempo))
            for pos, (semitones, tempo) in player.bank.keys.wanted.items()}


def dynamics_chosen(player: Player) -> dict[str, float]:
    """Each song's parts' intensity chosen tonight, by folder name."""
    entries = player.bank.show.entries
    return {entries[pos].name: level for pos, level in player.bank.keys.dynamics.items()}


def save_place(state_path: Path, point: Resume, saved: Resume | None) -> Resume:
    """Writes `point` unless it is what was `saved` last; a disk that refuses is logged."""
    if point != saved:
        try:
            save_resume(state_path, point)
        except OSError as exc:
            log.error("%s: cannot save the state: %s", state_path, exc)
    return point
