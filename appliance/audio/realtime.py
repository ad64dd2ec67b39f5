"""Real-time scheduling for the audio thread.

Only the audio thread: disk threads at a real-time priority were tried, and under
JACK they took the CPU from the server's own (ordinary) thread and caused xruns.
"""
from __future__ import annotations

import os

AUDIO_PRIORITY = 70     # SCHED_FIFO priority of the audio thread


def realtime(priority: int) -> str:
    """SCHED_FIFO at `priority` for the calling thread, where the system allows it;
    what was granted, in words."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (PermissionError, OSError, AttributeError) as exc:
        return f"no real-time scheduling ({exc})"
    return f"SCHED_FIFO priority {priority}"
