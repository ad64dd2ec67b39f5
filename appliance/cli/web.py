"""`backline web` (the web remote's server, in the foreground: the backline-web unit runs
exactly this) and `backline remote pair|tokens|revoke` (who may use it). Pairing codes and
tokens are files in the web service's state folder (appliance/web/access.py): `remote
pair` writes a code there and the server reads it, so the two need no channel but the
folder (run them as the service's user or root)."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..service.remote_pairing import DEFAULT_STATE
from .common import WithConfig, config_of

DEFAULT_LISTEN = "0.0.0.0:8080"
DEFAULT_SOCKET = "/run/backline/control.sock"     # the daemon unit's RuntimeDirectory


def state_dir(args: argparse.Namespace) -> Path:
    """--state, else systemd's StateDirectory, else /var/lib/backline-web."""
    return Path(args.state or os.environ.get("STATE_DIRECTORY", "").split(":")[0]
                or DEFAULT_STATE)


def listen_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"HOST:PORT (e.g. {DEFAULT_LISTEN}), not {text!r}")
    return host.strip("[]"), int(port)


GRACE_S = 2     # how long a stop waits for open requests and WebSockets


def tls_files(args: argparse.Namespace, cert: Path | None, key: Path | None
              ) -> tuple[str, str] | None:
    """The certificate and key to serve HTTPS with (the options, else [web] tls_cert and
    tls_key), or None for plain HTTP; ValueError saying why they cannot be used, checked
    here so that a bad file is one line naming it, not uvicorn's traceback."""
    import ssl

    cert = Path(args.tls_cert) if args.tls_cert else cert
    key = Path(args.tls_key) if args.tls_key else key
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ValueError("TLS needs both --tls-cert and --tls-key")
    for path in (cert, key):
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise ValueError(f"{path}: {exc.strerror or exc}") from None
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as exc:
        raise ValueError(f"{cert}, {key}: not a PEM certificate and its key ({exc})") from None
    return str(cert), str(key)


def cmd_web(args: argparse.Namespace) -> int:
    import uvicorn

    from ..web.access import Access
    from ..web.app import make_app
    from ..web.daemon_link import DaemonLink

    config = config_of(args)
    try:
        tls = tls_files(args, config.web_tls_cert, config.web_tls_key)
    except ValueError as exc:
        print(f"backline web: {exc}", file=sys.stderr)
        return 2
    host, port = args.listen
    access = Access(state_dir(args))
    if not access.tokens():
        print(f"no browser paired yet: pairing code {access.new_code()} (valid 10 minutes; "
              "`backline remote pair` makes another)", file=sys.stderr, flush=True)
    app = make_app(config, access, DaemonLink(Path(args.socket)))
    # A page's WebSocket waits on the state stream for ever: without a bound, SIGTERM would
    # wait for it until systemd's stop timeout kills the unit.
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                ws_max_size=64 * 1024, timeout_graceful_shutdown=GRACE_S,
                ssl_certfile=tls and tls[0], ssl_keyfile=tls and tls[1])
    return 0


def cmd_pair(args: argparse.Namespace) -> int:
    from ..web.access import CODE_TTL_S, Access

    code = Access(state_dir(args)).new_code()
    print(f"pairing code: {code} (valid {CODE_TTL_S / 60:.0f} minutes, once)")
    return 0


def cmd_tokens(args: argparse.Namespace) -> int:
    from ..web.access import Access

    tokens = Access(state_dir(args)).tokens()
    if not tokens:
        print("no paired browsers")
    for t in tokens:
        made = time.strftime("%Y-%m-%d %H:%M", time.localtime(t["created"] or 0))
        print(f"{t['id']}  paired {made}  from {t['client'] or '?'}")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from ..web.access import Access

    if not Access(state_dir(args)).revoke(args.id):
        print(f"no token {args.id!r} (backline remote tokens lists them)", file=sys.stderr)
        return 1
    print(f"{args.id}: revoked")
    return 0


def add_commands(sub: argparse._SubParsersAction, with_config: WithConfig) -> None:
    we = with_config(sub.add_parser("web", help="the web remote's server (HTTP and WebSocket), "
                                                "in the foreground"))
    we.add_argument("--listen", type=listen_address, default=listen_address(DEFAULT_LISTEN),
                    metavar="HOST:PORT", help=f"default {DEFAULT_LISTEN}")
    we.add_argument("--socket", default=DEFAULT_SOCKET,
                    help=f"the daemon's control socket (default {DEFAULT_SOCKET})")
    we.add_argument("--state", help=f"tokens and codes (default {DEFAULT_STATE})")
    we.add_argument("--tls-cert", metavar="FILE",
                    help="serve HTTPS with this PEM certificate (default [web] tls_cert)")
    we.add_argument("--tls-key", metavar="FILE",
                    help="... and this PEM key (default [web] tls_key)")
    we.set_defaults(func=cmd_web)

    re_ = sub.add_parser("remote", help="who may use the web remote: pairing codes, tokens")
    verbs = re_.add_subparsers(dest="verb", required=True)
    for verb, func, text in (("pair", cmd_pair, "print a pairing code for a new browser"),
                             ("tokens", cmd_tokens, "list the paired browsers"),
                             ("revoke", cmd_revoke, "unpair a browser by its id")):
        p = verbs.add_parser(verb, help=text)
        if verb == "revoke":
            p.add_argument("id")
        p.add_argument("--state", help=f"the web remote's state folder (default {DEFAULT_STATE})")
        p.set_defaults(func=func)
