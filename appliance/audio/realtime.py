"""Real-time scheduling for the threads that keep the audio going.

The audio thread comes first. The disk threads that feed it come next: they hold
the GIL while they copy, and a thread holding the GIL must not be preempted by
some busy process, or the audio thread waits as long as that process runs.
"""
from __future__ import annotations

import os

AUDIO_PRIORITY = 70     # SCHED_FIFO priority of the audio thread
HELPER_PRIORITY = 60    # and of the disk threads reading ahead for it


def realtime(priority: int) -> str:
    """SCHED_FIFO at `priority` for the calling thread, where the system allows it;
    what was granted, in words."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (PermissionError, OSError, AttributeError) as exc:
        return f"no real-time scheduling ({exc})"
    return f"SCHED_FIFO priority {priority}"
