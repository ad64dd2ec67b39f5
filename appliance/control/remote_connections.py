"""The control socket's connections, apart from what their messages mean: accepting (at
most MAX_CLIENTS), cutting what arrives into lines (at most MAX_LINE bytes, half a line
waits PARTIAL_S), writing without ever blocking (a client whose replies pile up past
MAX_OUT is dropped; a state waits, only the latest, while a reply drains), and closing
a client once it has been told why."""
from __future__ import annotations

import logging
import selectors
import socket
import time

from ..vocab.state import State
from .remote_messages import encode, hello, reply

MAX_LINE = 64 * 1024           # bytes of one message
MAX_CLIENTS = 32
MAX_OUT = 4 * 1024 * 1024      # bytes waiting for one client: more and it is dropped
PARTIAL_S = 10.0               # half a line waits this long for the rest
log = logging.getLogger("backline")


class Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbuf = bytearray()
        self.out = bytearray()
        self.owed = b""                # the latest state, while `out` has not drained
        self.subscribed = False
        self.last: State | None = None  # the state last sent, its clock left out
        self.partial_since = 0.0       # when the half line in `inbuf` began
        self.closing = 0.0             # when it was told why it goes; closed once `out`
                                       # is sent, or PARTIAL_S later if it never reads
        self.unsettled = 0


class Connections:
    """The clients of one listening socket, on one selector, for the one thread that
    serves them; `_message(client, line)` (the subclass's) takes each whole line."""

    def __init__(self, listener: socket.socket) -> None:
        self._listener = listener
        self._sel = selectors.DefaultSelector()
        self._clients: dict[socket.socket, Client] = {}
        self._said: set[str] = set()
        self.dropped = 0                     # clients dropped (garbage, too slow, too many)
        self._sel.register(listener, selectors.EVENT_READ, "listen")

    def _message(self, client: Client, line: bytes) -> None:
        raise NotImplementedError

    @property
    def clients(self) -> int:
        return len(self._clients)

    def _accept(self) -> None:
        for _ in range(MAX_CLIENTS):
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            sock.setblocking(False)
            if len(self._clients) >= MAX_CLIENTS:
                try:
                    sock.send(encode(reply(None, f"too many connections ({MAX_CLIENTS})")))
                except OSError:
                    pass
                sock.close()
                self.dropped += 1
                continue
            client = Client(sock)
            self._clients[sock] = client
            self._sel.register(sock, selectors.EVENT_READ, client)
            self._write(client, hello())

    def _read(self, client: Client) -> None:
        try:
            data = client.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(client, counted=False)
            return
        if client.closing:
            return
        buf = client.inbuf
        buf += data
        start = 0
        while not client.closing:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            if end - start > MAX_LINE:
                break
            line = bytes(buf[start:end]).strip()
            start = end + 1
            if line:
                self._message(client, line)
        del buf[:start]
        if len(buf) > MAX_LINE and not client.closing:
            self._write(client, reply(None, f"a message is at most {MAX_LINE} bytes and "
                                            "ends with a newline"))
            self._close_after_reply(client)
        if not buf:
            client.partial_since = 0.0
        elif start or not client.partial_since:       # a new half line
            client.partial_since = time.monotonic()

    def _write(self, client: Client, message: dict) -> None:
        if len(client.out) > MAX_OUT:
            self._say("slow", "control socket: a client that does not read its replies "
                              "was dropped")
            self._drop(client)
            return
        client.out += encode(message)
        self._flush(client)

    def _write_state(self, client: Client, line: bytes) -> None:
        """Now if nothing waits for this client, else instead of the state that did."""
        if client.out:
            client.owed = line
        else:
            client.out += line
            self._flush(client)

    def _flush(self, client: Client) -> None:
        if client.sock not in self._clients:
            return
        while client.out or client.owed:
            if not client.out:
                client.out, client.owed = bytearray(client.owed), b""
            try:
                sent = client.sock.send(client.out)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self._drop(client, counted=False)
                return
            del client.out[:sent]
        wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.out else 0)
        if client.closing and not client.out:
            self._drop(client)
            return
        if self._sel.get_key(client.sock).events != wanted:
            self._sel.modify(client.sock, wanted, client)

    def _close_after_reply(self, client: Client) -> None:
        client.closing = time.monotonic()
        client.inbuf.clear()
        self._flush(client)

    def _drop_stuck(self, now: float) -> None:
        """Half a line and then silence: after PARTIAL_S, said and closed."""
        for client in list(self._clients.values()):
            if client.closing and now - client.closing > PARTIAL_S:
                self._drop(client)
            elif client.inbuf and client.partial_since and now - client.partial_since > PARTIAL_S:
                self._write(client, reply(None, f"half a message for {PARTIAL_S:g} s: closed"))
                if client.sock in self._clients:
                    self._close_after_reply(client)

    def _drop(self, client: Client, *, counted: bool = True) -> None:
        if self._clients.pop(client.sock, None) is None:
            return
        self.dropped += counted
        try:
            self._sel.unregister(client.sock)
        except (KeyError, ValueError):
            pass
        client.sock.close()

    def _close_connections(self) -> None:
        """Every client dropped, the selector and the listening socket closed."""
        for client in list(self._clients.values()):
            self._drop(client, counted=False)
        self._sel.close()
        self._listener.close()

    def _say(self, key: str, text: str) -> None:
        """Once per kind of trouble: a client that repeats it does not flood the journal."""
        if key not in self._said:
            self._said.add(key)
            log.warning("%s", text)
