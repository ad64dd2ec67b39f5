"""Scheduling for the box's threads, around the audio thread.

A Python thread holding the GIL keeps the audio thread waiting until it lets go.
If some busy process preempts that thread meanwhile, the audio thread waits as
long as the busy process runs: measured under a CPU hog and heavy disk reads, a
period's work took 49 % of the period at p99.9 while the audio thread itself ran
for 10 %. So no thread of ours runs at an ordinary priority once the audio runs:
the threads that feed the audio thread or keep time with it (disk, loader, take
writer, MIDI clock) run just below it, and every other thread of the box (display,
controls, MIDI in, the service loop) lower still, but above any other process.
"""
from __future__ import annotations

import os

AUDIO = 70      # SCHED_FIFO priority of the audio thread
HELPER = 60     # the threads that feed it or keep time with it
BOX = 20        # every other thread of the box: set on the thread that starts the rest


def realtime(priority: int) -> str:
    """SCHED_FIFO at `priority` for the calling thread (and the threads it starts from
    now on) where the system allows it; what was granted, in words."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (PermissionError, OSError, AttributeError) as exc:
        return f"no real-time scheduling ({exc})"
    return f"SCHED_FIFO priority {priority}"


NICEST = 19


def idle(pid: int) -> str:
    """The lowest priority for process `pid` (a child doing background work): SCHED_IDLE,
    else nice 19; what was granted, in words. Set on the child, never on one of our
    threads: a thread starved while it holds the GIL would stall the audio thread."""
    try:
        os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
        return "SCHED_IDLE"
    except (OSError, AttributeError) as exc:
        try:
            os.setpriority(os.PRIO_PROCESS, pid, NICEST)
        except OSError:
            return f"ordinary priority ({exc})"
        return f"nice {NICEST} (no SCHED_IDLE: {exc})"
