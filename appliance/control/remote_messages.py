"""The control socket's protocol, apart from its sockets: one line of JSON in, what it
asks for out (a command, a request, a subscription) or why it cannot be taken. Commands
are the one vocabulary: a class name with arguments (`{"command": "Jump", "args":
{"section": "Chorus"}}`) or the spelling MIDI maps and the controls layout use
(`{"command": "jump Chorus"}`), made and checked by the vocabulary itself. Documented
in docs/remote.md."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from ..vocab import commands as c
from ..vocab.names import parse_command

VERSION = 1
# what a remote may ask of the engine; the menu, a show's path and the power stay the panel's
OFFERED = c.TRANSPORT + c.SONGS + c.MIX + c.KEY_AND_TEMPO + c.LIVE + c.RECORDING
_BY_NAME = {kind.__name__: kind for kind in OFFERED}
_PANEL_ONLY = {kind.__name__ for kind in c.PANEL}
REQUESTS = ("songs", "setlists", "setlist", "save_setlist", "load_setlist")
_KINDS = ("command", "request", "subscribe")


class Refused(Exception):
    """A message that cannot be taken; its text is the reply's `error`, `id` the
    message's (None until known)."""

    def __init__(self, error: str, id: object = None) -> None:
        super().__init__(error)
        self.id = id


@dataclass(frozen=True)
class Message:
    """One message taken apart: `command`, or `request` with its fields, or `subscribe`."""
    id: object = None
    command: c.Command | None = None
    request: str = ""
    fields: dict = dataclasses.field(default_factory=dict)
    subscribe: str = ""


def hello() -> dict:
    return {"hello": "backline", "version": VERSION,
            "commands": sorted(_BY_NAME), "requests": list(REQUESTS), "streams": ["state"]}


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _usable_id(ident: object) -> bool:
    return ident is None or (isinstance(ident, (str, int)) and not isinstance(ident, bool))


def read_message(line: bytes) -> Message:
    """The message on one line (without its newline); Refused, saying what is wrong."""
    try:
        msg = json.loads(line.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise Refused("not UTF-8 text") from None
    except RecursionError:
        raise Refused("not JSON: nested too deep") from None
    except ValueError as exc:
        raise Refused(f"not JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise Refused(f"a message is a JSON object with one of {', '.join(_KINDS)}")
    ident = msg.get("id")
    if not _usable_id(ident):
        raise Refused("id must be a string or a whole number")
    try:
        return _read(msg, ident)
    except Refused as exc:
        raise Refused(str(exc), ident) from None


def _read(msg: dict, ident: object) -> Message:
    kinds = [k for k in _KINDS if k in msg]
    if len(kinds) != 1:
        raise Refused(f"a message has one of {', '.join(_KINDS)}, not "
                      f"{' and '.join(kinds) or 'none'}")
    if "command" in msg:
        return Message(ident, command=make_command(msg["command"], msg.get("args")))
    if "subscribe" in msg:
        if msg["subscribe"] != "state":
            raise Refused(f"subscribe: the only stream is \"state\", not {msg['subscribe']!r}")
        return Message(ident, subscribe="state")
    request = msg["request"]
    if request not in REQUESTS:
        raise Refused(f"unknown request {request!r} (requests: {', '.join(REQUESTS)})")
    fields = {k: v for k, v in msg.items() if k not in ("id", "request")}
    return Message(ident, request=request, fields=fields)


def make_command(name: object, args: object) -> c.Command:
    """A command by its class name and arguments, or by its spelling; Refused naming the
    unknown command, the argument and its allowed range, or what is not offered here."""
    if not isinstance(name, str):
        raise Refused("command must be a string: a command (Jump, with args) or its "
                      f"spelling (\"jump Chorus\"), not {name!r}")
    if name in _PANEL_ONLY:
        raise Refused(f"{name} is the panel's, not offered over the control socket")
    kind = _BY_NAME.get(name)
    if kind is None:
        if args is not None:
            raise Refused(f"unknown command {name!r} (commands: {', '.join(sorted(_BY_NAME))}; "
                          "args go with one of these)")
        try:
            cmd = parse_command(name)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        if not isinstance(cmd, OFFERED):
            raise Refused(f"{name!r} is the panel's, not offered over the control socket")
        return cmd
    return _made(kind, {} if args is None else args)


def _made(kind: type[c.Command], args: object) -> c.Command:
    if not isinstance(args, dict):
        raise Refused(f"{kind.__name__}: args must be an object, not {args!r}")
    known = [f.name for f in dataclasses.fields(kind)]
    for key in args:
        if key not in known:
            raise Refused(f"{kind.__name__} has no argument {key!r} "
                          f"(arguments: {', '.join(known) or 'none'})")
    args = dict(args)
    if "at" in args:
        allowed = [a.value for a in c.At]
        if args["at"] not in allowed:
            raise Refused(f"{kind.__name__}.at must be one of {', '.join(allowed)}, "
                          f"not {args['at']!r}")
        args["at"] = c.At(args["at"])
    try:
        return kind(**args)
    except (TypeError, ValueError) as exc:       # the command's own check: field and range
        raise Refused(str(exc)) from None


def reply(ident: object, error: str = "", **fields: object) -> dict:
    """`{"id": .., "ok": true, ...}` or `{"id": .., "ok": false, "error": ..}`."""
    return {"id": ident, "ok": False, "error": error} if error else \
        {"id": ident, "ok": True, **fields}


def encode(message: dict) -> bytes:
    """One line; a value JSON cannot hold (NaN) as null rather than a broken line."""
    try:
        text = json.dumps(message, separators=(",", ":"), allow_nan=False)
    except ValueError:
        text = json.dumps(json.loads(json.dumps(message), parse_constant=lambda _: None),
                          separators=(",", ":"))
    return text.encode() + b"\n"
