"""Locking the daemon's memory (mlockall), so no page of the audio path is ever swapped
out or faulted in mid-song. Where the system does not allow it, say so, and play on.

Future allocations are locked too only when RLIMIT_MEMLOCK is unlimited (the unit sets
`LimitMEMLOCK=infinity`): with a limit, MCL_FUTURE would turn a later allocation past it
into a failure, which is worse than a page fault.
"""
from __future__ import annotations

import ctypes
import os
import resource
from typing import Callable

MCL_CURRENT, MCL_FUTURE = 1, 2


def lock_memory(mlockall: Callable[[int], int] | None = None) -> str:
    """Lock what the process has (and, with no limit, will have); what happened, in words.
    `mlockall`: the C library's, unless a test gives one that says no."""
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    future = soft == resource.RLIM_INFINITY
    mlockall = mlockall or ctypes.CDLL(None, use_errno=True).mlockall
    if mlockall(MCL_CURRENT | (MCL_FUTURE if future else 0)) != 0:
        err = ctypes.get_errno()
        limit = "unlimited" if future else f"{soft // 1024} KiB"
        return (f"memory not locked ({os.strerror(err)}; LimitMEMLOCK {limit}): "
                "a page fault can cause a dropout")
    return "memory locked" + ("" if future else " (what is loaded now; LimitMEMLOCK is set)")
