"""Who may use the web remote: pairing codes, tokens and the limit on guessing.

Kept as files in the web service's state folder (`/var/lib/backline-web`), so that
`backline remote pair|tokens|revoke` and the box's Remote menu (other processes) and the
server see the same (the format: appliance/service/remote_pairing.py, which the daemon
may import and appliance.web not):
`codes.json` and `tokens.json` are written whole (a temporary file renamed) under an
flock, and the server reads them again when they changed. A code is 8 digits, single-use,
valid for CODE_TTL_S; a token is `secrets.token_urlsafe(32)`; both are kept only as their
SHA-256, so reading the folder lets no one in. Wrong codes are counted in the server's
memory, per client address and for all clients: past either limit every pairing is
refused for a while, the right code too (a venue's Wi-Fi is hostile).
"""
from __future__ import annotations

import os
import secrets
import time
from collections import defaultdict, deque
from pathlib import Path

from ..service.remote_pairing import (CODE_DIGITS, CODE_TTL_S, CODES, TOKENS, Clock,
                                      PairingFiles, hash_secret)

__all__ = ["CODE_DIGITS", "CODE_TTL_S", "Access", "Refused"]

TOKEN_BYTES = 32
GUESS_WINDOW_S = 600.0          # wrong codes are counted over this long
PER_CLIENT = 10           # wrong codes from one address in GUESS_WINDOW_S: that address waits
GLOBAL = 100              # wrong codes from everyone in GUESS_WINDOW_S: all pairing waits
LOCK_S = 900.0            # how long a lock-out lasts


class Refused(Exception):
    """A pairing refused: `status` 401 (wrong, expired or used code) or 429 (locked out)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Access(PairingFiles):
    """The files (appliance/service/remote_pairing.py) plus what only the server does:
    pairing by code with the limit on guessing, checking a request's token."""

    def __init__(self, folder: Path, *, now: Clock = time.time) -> None:
        super().__init__(folder, now=now)
        self._wrong: dict[str, deque[float]] = defaultdict(deque)
        self._all_wrong: deque[float] = deque()
        self._locked_until: dict[str, float] = {}   # address ("" for everyone) -> time
        self._tokens: tuple[tuple, dict[str, dict]] = ((), {})  # (file identity, hash -> record)

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
            match = [c for c in live
                     if secrets.compare_digest(c.get("hash", ""), hash_secret(code))]
            if match:
                live.remove(match[0])
            if live != codes or match:
                self._write(CODES, live)
            if not match:
                self._count_wrong(client, now)
                raise Refused(401, "wrong, expired or used pairing code")
            token = secrets.token_urlsafe(TOKEN_BYTES)
            tokens = self._read(TOKENS)
            tokens.append({"id": secrets.token_hex(4), "hash": hash_secret(token),
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
        return bool(token) and hash_secret(token) in self._token_records()

    def forget(self, token: str) -> bool:
        return self._remove(lambda r: r.get("hash") == hash_secret(token))
