"""The daemon's control socket: a UNIX stream socket that the web remote (and a person
with `socat`) steers the box through, newline-delimited JSON (docs/remote.md).

One thread owns every connection (non-blocking, one selector): a client that sends
garbage gets an error reply or is dropped, never blocks anyone, and nothing a client does
ends the thread. Commands go to the engine's inbox as MIDI's and the panel's do; a
refusal the transport publishes for one comes back as its reply. The state stream sends
the published `State` at most STATE_HZ times a second, only when it changed; a reader
too slow for it skips states (one is kept waiting per client, the latest), and one that
lets replies pile up past MAX_OUT is dropped. Library requests (file reads and writes)
run on one request thread, so a big library never holds the stream up.

The parts: remote_socket (binding it), remote_connections (clients, lines, writing,
dropping), remote_messages (the protocol), remote_pending (a command's reply),
remote_stream (the state fan-out), remote_library (songs and setlists); this module is
the thread that serves them.
"""
from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from ..config import Config
from ..vocab import commands as c
from ..vocab.state import State
from . import remote_library as library
from .remote_connections import Client, Connections
from .remote_messages import Message, Refused, read_message, reply
from .remote_pending import Pending, settle
from .remote_socket import listen, remove_socket
from .remote_stream import fan_out, news, state_line

MAX_UNSETTLED = 16             # a client's commands still waiting for their reply
MAX_REQUESTS = 8               # requests waiting for the request thread, all clients
STATE_HZ = 20
log = logging.getLogger("backline")


class RemoteServer(threading.Thread, Connections):
    def __init__(self, path: Path, *, send: Callable[[c.Command], None],
                 state: Callable[[], State], config: Callable[[], Config],
                 box: Callable[[c.Command], None], busy: Callable[[], str]) -> None:
        """`send`: to the engine's inbox; `box`: what the daemon itself does (a show
        opened); `busy`: why a show cannot be opened now ("" when it can)."""
        threading.Thread.__init__(self, name="backline-remote", daemon=True)
        self.path = Path(path)
        Connections.__init__(self, listen(self.path))
        self._send, self._state, self._config, self._box, self._busy = \
            send, state, config, box, busy
        self._pending: list[Pending] = []
        self._done: deque = deque()          # (client, reply) from the request thread
        self._requests = 0
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="backline-remote-requests")
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._halt = threading.Event()
        self._next_state = 0.0
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")

    @classmethod
    def open(cls, path: Path, **parts) -> "RemoteServer | None":
        """Started, or None (and why, logged): the box plays on without its socket."""
        try:
            server = cls(path, **parts)
        except OSError as exc:
            log.error("%s: no control socket: %s", path, exc.strerror or exc)
            return None
        server.start()
        log.info("control socket %s", path)
        return server

    # -- the loop -----------------------------------------------------------------
    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self._turn()
            except Exception as exc:       # no client may end the thread
                self._say(type(exc).__name__, f"control socket: {exc!r}; going on")
                self._halt.wait(0.05)      # a fault that repeats must not spin the CPU

    def _turn(self) -> None:
        timeout = 0.002 if self._pending else max(0.0, self._next_state - time.monotonic())
        for key, events in self._sel.select(timeout):
            if key.data == "listen":
                self._accept()
            elif key.data == "wake":
                self._wake_r.recv(4096)
            else:
                client = key.data
                try:
                    if events & selectors.EVENT_READ:
                        self._read(client)
                    if events & selectors.EVENT_WRITE:
                        self._flush(client)
                except Exception as exc:    # a client that breaks something: it goes
                    self._say(type(exc).__name__, f"control socket: client dropped: {exc!r}")
                    self._drop(client)
        while self._done:
            client, answer = self._done.popleft()
            self._requests -= 1
            if client.sock in self._clients:
                self._write(client, answer)
        self._settle()
        now = time.monotonic()
        if now >= self._next_state:
            self._next_state = now + 1 / STATE_HZ
            self._stream()
            self._drop_stuck(now)

    def _message(self, client: Client, line: bytes) -> None:
        try:
            msg = read_message(line)
        except Refused as exc:
            self._write(client, reply(exc.id, str(exc)))
            return
        if msg.command is not None:
            self._command(client, msg)
        elif msg.subscribe:
            client.subscribed = True
            self._write(client, reply(msg.id, stream="state"))
            s = self._state()
            client.last = news(s)
            self._write_state(client, state_line(s))
        else:
            self._request(client, msg)

    def _command(self, client: Client, msg: Message) -> None:
        if client.unsettled >= MAX_UNSETTLED:
            self._write(client, reply(msg.id, f"{MAX_UNSETTLED} commands are waiting for "
                                              "their replies: wait for them"))
            return
        before = self._state()
        self._send(msg.command)
        client.unsettled += 1
        self._pending.append(Pending.sent(client, msg.id, msg.command.name, before,
                                          self._state(), time.monotonic()))

    def _settle(self) -> None:
        """Each command whose fate the published state tells: its reply."""
        if not self._pending:
            return
        self._pending, settled = settle(self._pending, self._state(), time.monotonic())
        for p, answer in settled:
            p.client.unsettled -= 1
            if p.client.sock in self._clients:
                self._write(p.client, answer)

    def _request(self, client: Client, msg: Message) -> None:
        if self._requests >= MAX_REQUESTS:
            self._write(client, reply(msg.id, "busy: too many requests waiting; ask again"))
            return
        self._requests += 1

        def work() -> None:
            try:
                answer = reply(msg.id, **self._answer(msg))
            except Refused as exc:
                answer = reply(msg.id, str(exc))
            except Exception as exc:        # a request that breaks: said, the thread goes on
                self._say(f"request {type(exc).__name__}", f"control socket: {exc!r}")
                answer = reply(msg.id, f"{msg.request}: failed: {exc}")
            self._done.append((client, answer))
            try:
                self._wake_w.send(b"!")
            except OSError:                 # the wake pipe is full: the loop wakes anyway
                pass
        self._worker.submit(work)

    def _answer(self, msg: Message) -> dict:
        """A request's reply fields (on the request thread)."""
        config, f = self._config(), msg.fields
        if msg.request == "songs":
            return {"songs": library.songs(config)}
        if msg.request == "setlists":
            return {"setlists": library.setlists(config)}
        if msg.request == "setlist":
            return library.read_setlist(config, f.get("name"))
        if msg.request == "save_setlist":
            return library.save_setlist(config, f.get("name"), f.get("songs"),
                                        f.get("transitions"))
        path = library.setlist_path(config, f.get("name"))       # load_setlist
        if not path.is_file():
            raise Refused(f"no setlist {f.get('name')!r} (setlists: "
                          f"{', '.join(library.setlists(config)) or 'none'})")
        busy = self._busy()
        if busy:
            raise Refused(f"{f.get('name')}: not loaded; {busy}")
        self._box(c.OpenShow(str(path)))
        return {}

    def _stream(self) -> None:
        readers = [cl for cl in self._clients.values() if cl.subscribed and not cl.closing]
        if readers:
            fan_out(readers, self._state(), self._write_state)

    def close(self) -> None:
        self._halt.set()
        try:
            self._wake_w.send(b"!")
        except OSError:
            pass
        if self.is_alive():
            self.join(2)
        self._worker.shutdown(wait=False, cancel_futures=True)
        self._close_connections()
        self._wake_r.close()
        self._wake_w.close()
        try:
            remove_socket(self.path)
        except OSError:
            pass
