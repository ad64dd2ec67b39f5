"""Who may use the web remote: pairing codes, tokens and the limit on guessing.

Kept as files in the web service's state folder (`/var/lib/backline-web`), so that
`backline remote pair|tokens|revoke` (another process) and the server see the same:
`codes.json` and `tokens.json` are written whole (a temporary file renamed) under an
flock, and the server reads them again when they changed. A code is 8 digits, single-use,
valid for CODE_TTL_S; a token is `secrets.token_urlsafe(32)`; both are kept only as their
SHA-256, so reading the folder lets no one in. Wrong codes are counted in the server's
memory, per client address and for all clients: past either limit every pairing is
refused for a while, the right code too (a venue's Wi-Fi is hostile).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import time
from collections import defaultdict, deque
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..files import replace_file

CODE_DIGITS = 8
CODE_TTL_S = 600.0
TOKEN_BYTES = 32
GUESS_WINDOW_S = 600.0          # wrong codes are counted over this long
PER_CLIENT = 10           # wrong codes from one address in GUESS_WINDOW_S: that address waits
GLOBAL = 100              # wrong codes from everyone in GUESS_WINDOW_S: all pairing waits
LOCK_S = 900.0            # how long a lock-out lasts
CODES, TOKENS, LOCK = "codes.json", "tokens.json", ".lock"
Clock = Callable[[], float]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Refused(Exception):
    """A pairing refused: `status` 401 (wrong, expired or used code) or 429 (locked out)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Access:
    def __init__(self, folder: Path, *, now: Clock = time.time) -> None:
        self.folder = Path(folder)
        self.now = now
        self._wrong: dict[str, deque[float]] = defaultdict(deque)
        self._all_wrong: deque[float] = deque()
        self._locked_until: dict[str, float] = {}   # address ("" for everyone) -> time
        self._tokens: tuple[tuple, dict[str, dict]] = ((), {})  # (file identity, hash -> record)

    # -- the files --------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
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
        old = os.umask(0o077)
        try:
            replace_file(self.folder / name, json.dumps(records, indent=1) + "\n")
        finally:
            os.umask(old)
        if os.geteuid() == 0:       # `sudo backline remote pair`: the service must read it
            owner = os.stat(self.folder)
            os.chown(self.folder / name, owner.st_uid, owner.st_gid)

    # -- codes --------------------------------------------------------------------------
    def new_code(self) -> str:
        """A fresh code, valid for CODE_TTL_S; codes that expired are forgotten."""
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        with self._locked():
            now = self.now()
            codes = [c for c in self._read(CODES) if c.get("expires", 0) > now]
            codes.append({"hash": _hash(code), "expires": now + CODE_TTL_S})
            self._write(CODES, codes)
        return code

    def pair(self, code: object, client: str) -> str:
        """A new token for a right code (which is then used up); Refused otherwise."""
        now = self.now()
        self._forget_old(now)
        for who in (client, ""):
            until = self._locked_until.get(who, 0.0)
            if until > now:
                raise Refused(429, f"too many wrong codes: try again in {until - now:.0f} s")
        if not isinstance(code, str) or not code.isdigit() or len(code) != CODE_DIGITS:
            self._count_wrong(client, now)
            raise Refused(401, f"a pairing code is {CODE_DIGITS} digits")
        with self._locked():
            codes = self._read(CODES)
            live = [c for c in codes if c.get("expires", 0) > now]
            match = [c for c in live if secrets.compare_digest(c.get("hash", ""), _hash(code))]
            if match:
                live.remove(match[0])
            if live != codes or match:
                self._write(CODES, live)
            if not match:
                self._count_wrong(client, now)
                raise Refused(401, "wrong, expired or used pairing code")
            token = secrets.token_urlsafe(TOKEN_BYTES)
            tokens = self._read(TOKENS)
            tokens.append({"id": secrets.token_hex(4), "hash": _hash(token),
                           "created": round(now), "client": client})
            self._write(TOKENS, tokens)
        return token

    def _forget_old(self, now: float) -> None:
        for q in [*self._wrong.values(), self._all_wrong]:
            while q and q[0] < now - GUESS_WINDOW_S:
                q.popleft()

    def _count_wrong(self, client: str, now: float) -> None:
        mine = self._wrong[client]
        mine.append(now)
        self._all_wrong.append(now)
        if len(mine) >= PER_CLIENT:
            self._locked_until[client] = now + LOCK_S
            mine.clear()
        if len(self._all_wrong) >= GLOBAL:
            self._locked_until[""] = now + LOCK_S
            self._all_wrong.clear()

    # -- tokens -------------------------------------------------------------------------
    def _token_records(self) -> dict[str, dict]:
        """hash -> record, read again only when tokens.json changed (a revoke from the
        command line counts at the next request)."""
        try:
            st = os.stat(self.folder / TOKENS)
            seen = (st.st_ino, st.st_mtime_ns, st.st_size)   # written anew: a new inode
        except OSError:
            seen = (0,)
        if seen != self._tokens[0]:
            self._tokens = (seen, {r["hash"]: r for r in self._read(TOKENS) if "hash" in r})
        return self._tokens[1]

    def check(self, token: str | None) -> bool:
        return bool(token) and _hash(token) in self._token_records()

    def tokens(self) -> list[dict]:
        """id, created (seconds since 1970), client address: never the token."""
        return [{k: r.get(k) for k in ("id", "created", "client")} for r in self._read(TOKENS)]

    def revoke(self, ident: str) -> bool:
        return self._remove(lambda r: r.get("id") == ident)

    def forget(self, token: str) -> bool:
        return self._remove(lambda r: r.get("hash") == _hash(token))

    def _remove(self, which: Callable[[dict], bool]) -> bool:
        with self._locked():
            tokens = self._read(TOKENS)
            kept = [r for r in tokens if not which(r)]
            if len(kept) == len(tokens):
                return False
            self._write(TOKENS, kept)
        return True
