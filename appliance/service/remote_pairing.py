"""The web remote's pairing files, as the box's own menu uses them: a fresh code to show
on the display, the paired devices, a revoke.

The folder's format is defined here, below both processes (the web server's
appliance/web/access.py `Access` builds on `PairingFiles`; the daemon may not import
appliance.web): `codes.json` and `tokens.json` in the web service's state folder,
written whole (a temporary file renamed) under an flock, codes and tokens kept only as
their SHA-256. The daemon reaches that folder only when the install shares it (the
folder's group, writable by both users); otherwise the menu says the folder is not
reachable and the box plays on. Never called from the audio thread.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import secrets
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..files import replace_file
from ..vocab import commands as c

log = logging.getLogger(__name__)

DEFAULT_STATE = "/var/lib/backline-web"      # the backline-web unit's StateDirectory
CODE_DIGITS = 8
CODE_TTL_S = 600.0
CODES, TOKENS, LOCK = "codes.json", "tokens.json", ".lock"
Clock = Callable[[], float]


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# The web server and the daemon (the menu's Remote page) both write here, as two users in
# group backline-remote: files are the group's, nobody else's.
SHARED_UMASK = 0o007


class PairingFiles:
    """Codes and tokens as files: what `backline remote pair|tokens|revoke`, the menu
    and the web server share."""

    def __init__(self, folder: Path, *, now: Clock = time.time) -> None:
        self.folder = Path(folder)
        self.now = now

    @contextmanager
    def _locked(self) -> Iterator[None]:
        old = os.umask(SHARED_UMASK)
        try:
            self.folder.mkdir(mode=0o770, parents=True, exist_ok=True)
            fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o660)
        finally:
            os.umask(old)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read(self, name: str) -> list[dict]:
        try:
            data = json.loads((self.folder / name).read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []                 # unreadable: no one gets in until it is written anew
        return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []

    def _write(self, name: str, records: list[dict]) -> None:
        old = os.umask(SHARED_UMASK)
        try:
            replace_file(self.folder / name, json.dumps(records, indent=1) + "\n")
        finally:
            os.umask(old)
        if os.geteuid() == 0:       # `sudo backline remote pair`: the service must read it
            owner = os.stat(self.folder)
            os.chown(self.folder / name, owner.st_uid, owner.st_gid)

    def new_code(self) -> str:
        """A fresh code, valid for CODE_TTL_S; codes that expired are forgotten."""
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        with self._locked():
            now = self.now()
            codes = [r for r in self._read(CODES) if r.get("expires", 0) > now]
            codes.append({"hash": hash_secret(code), "expires": now + CODE_TTL_S})
            self._write(CODES, codes)
        return code

    def tokens(self) -> list[dict]:
        """id, created (seconds since 1970), client address: never the token."""
        return [{k: r.get(k) for k in ("id", "created", "client")} for r in self._read(TOKENS)]

    def revoke(self, ident: str) -> bool:
        return self._remove(lambda r: r.get("id") == ident)

    def _remove(self, which: Callable[[dict], bool]) -> bool:
        with self._locked():
            tokens = self._read(TOKENS)
            kept = [r for r in tokens if not which(r)]
            if len(kept) == len(tokens):
                return False
            self._write(TOKENS, kept)
        return True


class RemotePairing:
    """The menu's Remote page, served by the daemon: `apply` makes a code or revokes on
    the panel's command; `code` and `paired` are what the page shows. A folder it cannot
    write is said on the page, never raised: the box must play on."""

    def __init__(self, folder: Path, *, now: Clock = time.time) -> None:
        self.files = PairingFiles(folder, now=now)
        self.code = ""          # the last code made here, or why none could be

    def apply(self, cmd: c.Command) -> None:
        if isinstance(cmd, c.NewPairingCode):
            self.new_code()
        elif isinstance(cmd, c.RevokeRemote):
            self.revoke(cmd.token_id)

    def new_code(self) -> None:
        try:
            self.code = self.files.new_code()
        except OSError as exc:
            log.error("pairing code: %s not writable: %s", self.files.folder, exc)
            self.code = "cannot reach the remote's folder"

    def revoke(self, ident: str) -> None:
        try:
            self.files.revoke(ident)
        except OSError as exc:
            log.error("revoke %s: %s not writable: %s", ident, self.files.folder, exc)

    def paired(self) -> list[dict]:
        return self.files.tokens()
