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
"""
from __future__ import annotations

import dataclasses
import grp
import logging
import os
import selectors
import socket
import stat
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from ..config import Config
from ..vocab import commands as c
from ..vocab.state import State
from ..vocab.state_json import state_dict
from . import remote_library as library
from .remote_messages import Message, Refused, encode, hello, read_message, reply

SOCKET_NAME = "control.sock"
GROUP = "backline-remote"      # who may connect (deploy/install.sh makes it)
MAX_LINE = 64 * 1024           # bytes of one message
MAX_CLIENTS = 32
MAX_OUT = 4 * 1024 * 1024      # bytes waiting for one client: more and it is dropped
MAX_UNSETTLED = 16             # a client's commands still waiting for their reply
MAX_REQUESTS = 8               # requests waiting for the request thread, all clients
STATE_HZ = 20
PARTIAL_S = 10.0               # half a line waits this long for the rest
REPLY_WAIT_S = 1.0             # a command not taken by then: "queued" (the audio is stalled)
log = logging.getLogger("backline")


def default_path(state_path: Path) -> Path:
    """systemd's RuntimeDirectory (/run/backline), else beside the state file."""
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(runtime) / SOCKET_NAME if runtime else Path(state_path).parent / SOCKET_NAME


def _news(s: State) -> State:
    """What a subscriber is sent again for: the state without the clock, which moves
    every period, playing or not."""
    return dataclasses.replace(s, output_frame=0)


class _Client:
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


@dataclasses.dataclass
class _Pending:
    """A command sent to the engine, waiting for two published periods to see its fate."""
    client: _Client
    id: object
    name: str
    refusals: int
    frames: list[int]
    deadline: float


class RemoteServer(threading.Thread):
    def __init__(self, path: Path, *, send: Callable[[c.Command], None],
                 state: Callable[[], State], config: Callable[[], Config],
                 box: Callable[[c.Command], None], busy: Callable[[], str]) -> None:
        """`send`: to the engine's inbox; `box`: what the daemon itself does (a show
        opened); `busy`: why a show cannot be opened now ("" when it can)."""
        super().__init__(name="backline-remote", daemon=True)
        self.path = Path(path)
        self._send, self._state, self._config, self._box, self._busy = \
            send, state, config, box, busy
        self._sel = selectors.DefaultSelector()
        self._clients: dict[socket.socket, _Client] = {}
        self._pending: list[_Pending] = []
        self._done: deque = deque()          # (client, reply) from the request thread
        self._requests = 0
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="backline-remote-requests")
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._halt = threading.Event()
        self._said: set[str] = set()
        self._next_state = 0.0
        self.dropped = 0                     # clients dropped (garbage, too slow, too many)
        self._listener = self._listen()
        self._sel.register(self._listener, selectors.EVENT_READ, "listen")
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

    def _listen(self) -> socket.socket:
        """Bound with mode 0660, group `backline-remote` when there is one. A socket left
        by a daemon that died is replaced (the state lock says none runs); a file that is
        not a socket is never removed."""
        try:
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                self.path.unlink()
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(self.path))       # the unit's UMask=0027: no one else may connect yet
            os.chmod(self.path, 0o660)
            try:
                os.chown(self.path, -1, grp.getgrnam(GROUP).gr_gid)
            except KeyError:
                pass                        # no such group: the daemon's own group only
            except PermissionError as exc:
                log.warning("%s: not given to group %s: %s", self.path, GROUP, exc.strerror)
            sock.listen(64)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return sock

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
            client = _Client(sock)
            self._clients[sock] = client
            self._sel.register(sock, selectors.EVENT_READ, client)
            self._write(client, hello())

    def _read(self, client: _Client) -> None:
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

    def _message(self, client: _Client, line: bytes) -> None:
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
            client.last = _news(s)
            self._write_state(client, self._state_line(s))
        else:
            self._request(client, msg)

    def _command(self, client: _Client, msg: Message) -> None:
        if client.unsettled >= MAX_UNSETTLED:
            self._write(client, reply(msg.id, f"{MAX_UNSETTLED} commands are waiting for "
                                              "their replies: wait for them"))
            return
        s = self._state()
        self._send(msg.command)
        client.unsettled += 1
        self._pending.append(_Pending(client, msg.id, msg.command.name, s.refusals,
                                      [s.output_frame], time.monotonic() + REPLY_WAIT_S))

    def _settle(self) -> None:
        """A command's reply once the engine has published two periods since it was sent
        (the first may have begun before it arrived): refused if the transport refused
        one of its kind meanwhile."""
        if not self._pending:
            return
        s = self._state()
        now = time.monotonic()
        waiting = []
        for p in self._pending:
            if s.output_frame != p.frames[-1]:
                p.frames.append(s.output_frame)
            if len(p.frames) < 3 and now < p.deadline:
                waiting.append(p)
                continue
            p.client.unsettled -= 1
            if s.refusals > p.refusals and s.rejected.startswith(f"{p.name}:"):
                answer = reply(p.id, s.rejected)
            else:
                answer = reply(p.id, **({} if len(p.frames) >= 3 else {"queued": True}))
            if p.client.sock in self._clients:
                self._write(p.client, answer)
        self._pending = waiting

    def _request(self, client: _Client, msg: Message) -> None:
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

    # -- the state stream --------------------------------------------------------------
    def _state_line(self, s: State) -> bytes:
        return encode({"state": state_dict(s)})

    def _stream(self) -> None:
        readers = [cl for cl in self._clients.values() if cl.subscribed and not cl.closing]
        if not readers:
            return
        s = self._state()
        news = _news(s)
        line = b""
        for client in readers:
            if client.last != news:
                client.last = news
                line = line or self._state_line(s)
                self._write_state(client, line)

    def _write_state(self, client: _Client, line: bytes) -> None:
        """Now if nothing waits for this client, else instead of the state that did."""
        if client.out:
            client.owed = line
        else:
            client.out += line
            self._flush(client)

    # -- writing, dropping ----------------------------------------------------------
    def _write(self, client: _Client, message: dict) -> None:
        if len(client.out) > MAX_OUT:
            self._say("slow", "control socket: a client that does not read its replies "
                              "was dropped")
            self._drop(client)
            return
        client.out += encode(message)
        self._flush(client)

    def _flush(self, client: _Client) -> None:
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

    def _close_after_reply(self, client: _Client) -> None:
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

    def _drop(self, client: _Client, *, counted: bool = True) -> None:
        if self._clients.pop(client.sock, None) is None:
            return
        self.dropped += counted
        try:
            self._sel.unregister(client.sock)
        except (KeyError, ValueError):
            pass
        client.sock.close()

    def _say(self, key: str, text: str) -> None:
        """Once per kind of trouble: a client that repeats it does not flood the journal."""
        if key not in self._said:
            self._said.add(key)
            log.warning("%s", text)

    @property
    def clients(self) -> int:
        return len(self._clients)

    def close(self) -> None:
        self._halt.set()
        try:
            self._wake_w.send(b"!")
        except OSError:
            pass
        if self.is_alive():
            self.join(2)
        self._worker.shutdown(wait=False, cancel_futures=True)
        for client in list(self._clients.values()):
            self._drop(client, counted=False)
        self._sel.close()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()
        try:
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                self.path.unlink()
        except OSError:
            pass
