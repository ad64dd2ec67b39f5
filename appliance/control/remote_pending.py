"""A remote's command between the inbox and its reply: settled once the engine has
published two periods since it was sent, refused if the transport refused one of its kind
meanwhile, "queued" if the audio has not moved within REPLY_WAIT_S."""
from __future__ import annotations

import dataclasses

from ..vocab.state import State
from .remote_messages import reply

REPLY_WAIT_S = 1.0             # a command not taken by then: "queued" (the audio is stalled)


@dataclasses.dataclass
class Pending:
    """A command sent to the engine, waiting for two published periods to see its fate."""
    client: object                 # the connection the reply goes to
    id: object
    name: str
    refusals: int
    frames: list[int]
    deadline: float

    @classmethod
    def sent(cls, client: object, id: object, name: str, before: State, after: State,
             now: float) -> "Pending":
        """A command sent between two reads of the published state: its refusals counted
        from `before` (the command may be taken at once), its periods from `after` (a
        period may have been published between the first read and the sending)."""
        return cls(client, id, name, before.refusals, [after.output_frame], now + REPLY_WAIT_S)


def settle(pending: list[Pending], s: State, now: float) -> tuple[list[Pending], list]:
    """(the ones still waiting, (pending, reply) for each settled) as of state `s` (the
    first period may have begun before a command arrived, hence two)."""
    waiting, settled = [], []
    for p in pending:
        if s.output_frame != p.frames[-1]:
            p.frames.append(s.output_frame)
        if len(p.frames) < 3 and now < p.deadline:
            waiting.append(p)
            continue
        if s.refusals > p.refusals and s.rejected.startswith(f"{p.name}:"):
            answer = reply(p.id, s.rejected)
        else:
            answer = reply(p.id, **({} if len(p.frames) >= 3 else {"queued": True}))
        settled.append((p, answer))
    return waiting, settled
