"""The daemon's MIDI beyond the ports: the clock sender for the player now playing, and
a mapping learned from the menu kept in the learned file."""
from __future__ import annotations

from pathlib import Path

from ..audio.player import Player
from ..config import Config
from ..errors import Problems
from ..files import replace_file
from .logs import log


def start_clock(config: Config, midi, player: Player):
    """A started ClockSender (MIDI clock and time code out) following `player`, or None
    when the config sends neither or there are no ports."""
    spec = config.midi
    if midi is None or not (spec.outputs and (spec.clock or spec.mtc)):
        return None
    from ..audio.disk.loaded import as_played
    from ..control.midi_out import ClockPlanner, ClockSender
    from ..timeline.song import load_song
    entries = player.bank.show.entries
    songs: dict[int, object] = {}

    def song(index: int):
        if index not in songs and 0 <= index < len(entries):
            written = load_song(entries[index].folder, Problems())
            songs[index] = written and as_played(written, config)   # as loaded
        return songs.get(index)
    engine = player.engine
    planner = ClockPlanner(song, config.rate, clock=spec.clock, mtc=spec.mtc,
                           live=player.transport.live_song)
    clock = ClockSender(engine.segments, planner,
                        send=midi.send, period=config.period,
                        buffer_frames=lambda: engine.device.buffer_frames,
                        selected=lambda: player.transport.index)
    clock.start()
    return clock


def keep_learned(path: Path, rule, command_text: str) -> None:
    """A pedal learned from the menu: kept in the learned file (the unit cannot write the
    config), written whole so a power cut leaves it as it was; a disk that refuses keeps it
    until the box restarts."""
    from ..config.midi_map import rule_toml
    what = f"{rule.kind} {rule.number} -> {command_text}"
    try:
        before = path.read_text() if path.exists() else ""
        replace_file(path, before + rule_toml(rule, command_text))
        log.info("MIDI learn: %s (kept in %s)", what, path)
    except (OSError, UnicodeError) as exc:
        log.warning("MIDI learn: %s, until the box restarts (%s)", what, exc)
