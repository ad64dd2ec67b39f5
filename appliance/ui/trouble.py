"""What the screens say is wrong now.

A fault (the audio recovering from an xrun, the device stalled, the audio thread faulted)
is a banner while it lasts and for `HOLD_S` after, measured on the one clock (the
state's `output_frame`), then it goes: a stale alarm must not hide a refusal, a pending
jump, a vamp or the next song. Troubles that last (a take stopped early, a stem that
failed, the inputs' device gone) stay shown while they last. Counts (xruns, late disk
reads, limited samples) are history, not news: the menu's Status page shows them.
"""
from __future__ import annotations

from ..vocab.state import Health, State

HOLD_S = 3.0          # the banner stays this long after the audio is healthy again
REFUSAL_S = 4.0       # a refused command is said this long, then its line is free again


def fault(s: State) -> str:
    """The audio's health now as a banner (`STALLED no device`), or "" while healthy."""
    return "" if s.health == Health.HEALTHY else f"{s.health.upper()} {s.problem}".strip()


def lasting(s: State) -> str:
    """A trouble that lasts until someone acts (a take's problem, a failed stem, the
    inputs' problem while the output plays on), or ""."""
    if s.record.problem:
        return f"REC: {s.record.problem}"
    if s.stem_problems:               # which file went silent, and from when
        return "STEM FAILED: " + ", ".join(p.split(": ", 1)[0] for p in s.stem_problems)
    if s.failed_stems:
        return "STEM FAILED: " + ", ".join(s.failed_stems)
    if s.health == Health.HEALTHY and s.problem:
        return s.problem
    return ""


class FaultBanner:
    """The display's memory of the last fault: its words and the output frame it was last
    seen at, so the banner holds `hold_s` of frames after health returns. While the device
    is stalled `output_frame` stands still, and so does the banner."""

    def __init__(self, rate: int, hold_s: float = HOLD_S) -> None:
        self._hold = round(hold_s * rate)
        self._text = ""
        self._seen_at = 0

    def see(self, s: State) -> str:
        """The banner to show for this snapshot, or ""."""
        now = fault(s)
        if now:
            self._text, self._seen_at = now, s.output_frame
        elif not 0 <= s.output_frame - self._seen_at < self._hold:
            self._text = ""           # held long enough (or the clock started again)
        return self._text


class RefusalNote:
    """The display's memory of the last refusal: said for `hold_s` of frames from when it
    came (the same refusal again is news again), so an old one never hides what comes next."""

    def __init__(self, rate: int, hold_s: float = REFUSAL_S) -> None:
        self._hold = round(hold_s * rate)
        self._seen = 0
        self._at = 0

    def see(self, s: State) -> str:
        """The refusal to show for this snapshot, or ""."""
        if s.refusals != self._seen:
            self._seen, self._at = s.refusals, s.output_frame
        fresh = s.refusals and 0 <= s.output_frame - self._at < self._hold
        return s.rejected if fresh else ""
