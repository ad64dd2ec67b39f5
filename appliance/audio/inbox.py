"""The engine's inbox: commands from every control, in order, with level changes
coalesced where they are sent, so a burst (a MIDI fader swept by a sequencer, 20 000
messages) costs the audio thread one command per control, not one per message.

A level command (SetGain, NudgeGain for a stem and output; SetOutputGain,
NudgeOutputGain for an output) is kept in a dict under its control; the queue holds the
control's key once, where its first pending value was sent. Later values for the same
control merge into it (a set replaces, a nudge adds to it) until any other command is
sent: that one starts a new generation of keys, so a level keeps its order against
Mute, Play, SelectSong ... and those keep theirs against each other.

Lock-free for the audio thread: it only pops (`deque.popleft`, `dict.pop`, each atomic
under the GIL) and allocates nothing; senders take a lock among themselves. The sender
takes a pending value out before it puts the merged one back, and queues the key again
unless the key is still queued, so a value is applied once, whichever side goes first.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import replace

from ..vocab import commands as c

GAINS = (c.SetGain, c.NudgeGain)
OUTPUT_GAINS = (c.SetOutputGain, c.NudgeOutputGain)
NUDGES = (c.NudgeGain, c.NudgeOutputGain)


def _key(cmd: c.Command, generation: int) -> tuple | None:
    if isinstance(cmd, GAINS):
        return ("gain", cmd.stem, cmd.output, generation)
    if isinstance(cmd, OUTPUT_GAINS):
        return ("output", cmd.output, generation)
    return None


def merge(old: c.Command | None, new: c.Command) -> c.Command | None:
    """One command with the effect of `old` then `new` on the same control; None when
    there is none (nudges of opposite signs: clamping at the range's ends makes their
    order count)."""
    if old is None or not isinstance(new, NUDGES):
        return new
    if isinstance(old, NUDGES):
        if (old.db >= 0) != (new.db >= 0):
            return None
        return replace(old, db=old.db + new.db)
    low, high = c.GAIN_RANGE                      # as the transport clamps a nudge
    return replace(old, db=min(high, max(low, old.db + new.db)))


class Inbox:
    def __init__(self) -> None:
        self._queue: deque = deque()          # commands, and keys of pending levels
        self._levels: dict[tuple, c.Command] = {}   # key -> the level it stands for now
        self._queued: dict[tuple, bool] = {}        # keys in the queue, not yet popped
        self._generation = 0
        self._senders = threading.Lock()      # among senders only; never the audio thread

    def put(self, cmd: c.Command) -> None:
        """Queue `cmd` (any thread but the audio thread)."""
        with self._senders:
            key = _key(cmd, self._generation)
            if key is None:
                self._generation += 1         # levels sent after this come after it
                self._queue.append(cmd)
                return
            old = self._levels.pop(key, None)     # taken: the audio thread cannot apply it
            merged = merge(old, cmd)
            if merged is None:                # cannot merge: a new key, after the old one
                self._store(key, old)
                self._generation += 1
                key, merged = _key(cmd, self._generation), cmd
            self._store(key, merged)

    def _store(self, key: tuple, level: c.Command) -> None:
        """The level under `key`, and the key queued unless the audio thread has yet to
        pop it (it pops the key from `_queued` before the level from `_levels`)."""
        self._levels[key] = level
        if key not in self._queued:
            self._queued[key] = True
            self._queue.append(key)

    def pop(self) -> c.Command | None:
        """The next command, or None (the audio thread; allocates nothing)."""
        queue = self._queue
        while queue:
            entry = queue.popleft()
            if entry.__class__ is not tuple:
                return entry
            self._queued.pop(entry, None)
            level = self._levels.pop(entry, None)
            if level is not None:
                return level
        return None

    def __len__(self) -> int:
        """Entries waiting (a level counts once, however many values it merged)."""
        return len(self._queue)
