"""Tap tempo: the beat a musician taps, timed on the one clock (the output sample counter
at which the engine takes each tap), never on wall time.

The estimate is the mean of the run's intervals, (last tap - first tap) / (taps - 1), over
its last TAPS_KEPT taps: each tap's own jitter counts once, at the two ends, so the error
shrinks as the run grows, and a slow drift of the musician's tempo is followed because
the oldest taps fall out. A median would refuse one bad tap but answers in whole
intervals' steps; a musician who mistaps starts again after a pause (TAP_GAP_S).
"""
from __future__ import annotations

from fractions import Fraction

TAPS_NEEDED = 4      # the musician taps a bar of 4: the tempo from the fourth tap on
TAPS_KEPT = 8        # the estimate follows the last two bars' taps
TAP_GAP_S = 2.0      # a longer pause starts a new run


class Taps:
    def __init__(self, rate: int) -> None:
        self._gap = int(TAP_GAP_S * rate)
        self._at = [0] * TAPS_KEPT       # a ring of the run's last taps (output frames)
        self._n = 0                      # taps in the run

    def tap(self, frame: int) -> Fraction | None:
        """A tap at output frame `frame`: the run's mean interval in frames from its
        fourth tap on, else None (the run is still counting)."""
        if self._n and frame - self._at[(self._n - 1) % TAPS_KEPT] > self._gap:
            self._n = 0
        self._at[self._n % TAPS_KEPT] = frame
        self._n += 1
        if self._n < TAPS_NEEDED:
            return None
        kept = min(self._n, TAPS_KEPT)
        first = self._at[(self._n - kept) % TAPS_KEPT]
        return Fraction(frame - first, kept - 1) if frame > first else None

