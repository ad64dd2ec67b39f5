"""What the daemon says of the show: the one-line status (systemd's STATUS= and the
journal) and the journal's structured fields, so both read the same State the same way."""
from __future__ import annotations

from ..audio.engine import Fault
from ..vocab.state import State
from .logs import log


def status_text(s: State) -> str:
    where = f" [{s.index}/{s.count}]" if s.count > 1 else ""
    name = s.song or s.song_name
    text = f"{s.transport}: {name}{where}" if name else s.transport    # idle: no songs
    if s.section:
        text += f", {s.section}"
    text += f" ({s.health}"
    if s.xruns:
        text += f", {s.xruns} xruns"
    text += ")"
    r = s.record
    if r.running:
        text += f"; recording {r.take}"
    elif r.problem:
        text += f"; {r.problem}"
    if s.problem:
        text += f" {s.problem}"
    return text


def journal_fields(s: State) -> dict:
    """The journal's fields for a line about `s`, to find a show's lines by song or frame."""
    return {"SONG": s.song_name, "SECTION": s.section, "FRAME": s.frame,
            "HEALTH": s.health}


def log_fault(fault: Fault, s: State) -> None:
    """Once per fault: the audio thread caught it but must not log."""
    log.error("audio fault in %s at frame %d (output frame %d): %s; silent, no more "
              "watchdog pings: systemd restarts the unit at this setlist position",
              fault.song or "no song", fault.frame, fault.output_frame, fault.reason,
              extra={**journal_fields(s), "SONG": fault.song, "FRAME": fault.frame})
