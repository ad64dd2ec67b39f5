"""Start-up's choices: what to open (the one asked for, the saved place, then the
library's setlists and songs), opening the first that can be played (else an idle player:
start-up always reaches READY), and putting the saved levels and keys back."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from ..audio.disk.show import Show
from ..audio.player import Player
from ..config import Config
from ..errors import BacklineError, Problems
from ..timeline.library import Library
from ..vocab import commands as c
from .logs import log
from .resume import Resume, load_resume


def choose_targets(explicit: Path | None, resume: Resume, library: Path) -> list[Path]:
    """What to open, best first: the one asked for, the saved one, then the library's
    setlists and songs. Start-up takes the first that opens (see `open_first`)."""
    lib = Library(library)
    wanted = [explicit, Path(resume.target) if resume.target else None,
              *lib.setlist_paths(), *(lib.song_dir(n) for n in lib.song_names())]
    return list(dict.fromkeys(p for p in wanted if p is not None))


def load_saved(state_path: Path) -> Resume:
    """The saved state, or the defaults: whatever the file holds, start-up goes on."""
    problems = Problems()
    try:
        resume = load_resume(state_path, problems)
    except Exception as exc:       # load_resume never raises; start-up must not either
        log.warning("%s: cannot use the saved state (%s); starting fresh",
                    state_path, exc or repr(exc))
        resume = Resume()
    for p in problems:
        log.warning("%s", p)
    return resume


def open_player(target: Path, config: Config, device: str | None) -> Player | None:
    """A player for `target` with the config, or None; what opening it said, logged."""
    problems = Problems()
    try:
        player = Player.open(target, config, problems, device=device)
    except BacklineError as exc:
        player = None
        problems.append(exc.problem)
    for p in problems:
        (log.warning if p.warning else log.error)("%s", p)
    return player


def open_first(explicit: Path | None, resume: Resume, config: Config,
               device: str | None) -> tuple[Player, str]:
    """The first target that opens, saying why each one before it did not; none: an
    idle player with no songs (the audio runs, the panel and menu work)."""
    for target in choose_targets(explicit, resume, config.library):
        player = open_player(target, config, device)
        if player is not None:
            return player, str(target)
        log.error("%s: cannot be played; trying the next in the library", target)
    reason = "no songs or setlists in the library" if config.library.is_dir() \
        else "the library folder does not exist"
    log.error("%s: %s; idle with no songs", config.library, reason)
    return Player(Show("", ()), config, device=device), ""


def restore(player: Player, config: Config, resume: Resume) -> None:
    """Sends the saved place to a player not yet started. A Resume's levels are finite and
    in range: `load_resume` leaves out any other (and the live state's are, commands
    refusing nan)."""
    if 1 < resume.index <= player.transport.count:
        player.send(c.SelectSong(resume.index))
    for output, db in resume.output_gain_db.items():
        if output in config.outputs:
            player.send(c.SetOutputGain(output, db))
    if resume.click_db is not None:
        player.send(c.SetGain("click", resume.click_db))
    if resume.armed is not None:
        for name in config.inputs:
            player.send(c.Arm(name, name in resume.armed))
    if resume.record_arm:
        player.send(c.RecordArm(True))
    for pos, entry in enumerate(player.bank.show.entries):   # before the audio starts
        if entry.name in resume.keys:
            semitones, tempo = resume.keys[entry.name]
            player.bank.keys.want(pos, (Fraction(str(semitones)), Fraction(str(tempo))))
        if entry.name in resume.dynamics:
            player.bank.keys.want_dynamics(pos, resume.dynamics[entry.name])
