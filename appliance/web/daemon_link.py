"""The web server's one connection to the daemon's control socket (docs/remote.md).

It subscribes to the state stream and keeps the latest state for `GET /api/state`, hands
each new one to every WebSocket listener (a queue of one: a slow browser skips to the
latest, never holds the others up), and asks commands and requests by id with a timeout.
When the daemon restarts (or is not yet up) it connects again every RECONNECT_S; what was
waiting for a reply is told the daemon went. Runs on the web server's event loop.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from pathlib import Path

MAX_REPLY_LINE = 16 * 1024 * 1024    # a songs reply of a big library is one line
RECONNECT_S = 0.5
REPLY_S = 10.0                 # a request that reads a large library may take seconds
log = logging.getLogger("backline")


class DaemonGone(Exception):
    """No daemon to ask (not running, restarting) or no reply in time: said to the user."""


class DaemonLink:
    def __init__(self, path: Path, *, reply_s: float = REPLY_S, retry_s: float = RECONNECT_S) -> None:
        self.path = Path(path)
        self.reply_s, self.retry_s = reply_s, retry_s
        self.state: dict | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._listeners: set[asyncio.Queue] = set()
        self._task: asyncio.Task | None = None
        self._said = ""

    @property
    def connected(self) -> bool:
        return self._writer is not None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="backline-web-daemon-link")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
                why = "the daemon closed its socket"
            except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                why = f"{self.path}: {getattr(exc, 'strerror', None) or exc}"
            self._gone(why)
            await asyncio.sleep(self.retry_s)

    async def _session(self) -> None:
        reader, writer = await asyncio.open_unix_connection(str(self.path), limit=MAX_REPLY_LINE)
        try:
            hello = json.loads(await reader.readline() or b"{}")
            if hello.get("hello") != "backline":
                raise ValueError(f"not Backline's control socket: {hello!r}")
            self._writer = writer
            if self._said:
                log.info("control socket %s: connected again", self.path)
                self._said = ""
            writer.write(b'{"id": 0, "subscribe": "state"}\n')
            await writer.drain()
            while line := await reader.readline():
                self._take(json.loads(line))
        finally:
            self._writer = None
            writer.close()

    def _take(self, message: dict) -> None:
        if "state" in message:
            self.state = message["state"]
            for q in self._listeners:
                if q.full():
                    q.get_nowait()
                q.put_nowait(self.state)
            return
        fut = self._waiting.pop(message.get("id"), None)
        if fut is not None and not fut.done():
            fut.set_result(message)

    def _gone(self, why: str) -> None:
        self.state = None
        if why != self._said:
            log.warning("control socket: %s; trying again every %g s", why, self.retry_s)
            self._said = why
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(DaemonGone(f"the player went away ({why})"))
        self._waiting.clear()

    async def ask(self, message: dict) -> dict:
        """The daemon's reply to one command or request (its `id` set here)."""
        if self._writer is None:
            raise DaemonGone(f"the player is not running (no answer on {self.path})")
        ident = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        self._waiting[ident] = fut
        try:
            self._writer.write(json.dumps({**message, "id": ident}, allow_nan=False).encode()
                               + b"\n")
            await self._writer.drain()
            return await asyncio.wait_for(fut, self.reply_s)
        except asyncio.TimeoutError:
            raise DaemonGone(f"the player did not answer within {self.reply_s:g} s") from None
        except (OSError, ValueError) as exc:
            raise DaemonGone(f"the player went away ({exc})") from None
        finally:
            self._waiting.pop(ident, None)

    def listen(self) -> asyncio.Queue:
        """A queue that always holds the newest state not yet taken (at most one)."""
        q: asyncio.Queue = asyncio.Queue(maxsize=1)
        if self.state is not None:
            q.put_nowait(self.state)
        self._listeners.add(q)
        return q

    def unlisten(self, q: asyncio.Queue) -> None:
        self._listeners.discard(q)
