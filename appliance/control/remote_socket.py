"""Where the control socket lives and how it is bound: mode 0660, group `backline-remote`,
a stale socket replaced and any other file left alone."""
from __future__ import annotations

import grp
import logging
import os
import socket
import stat
from pathlib import Path

SOCKET_NAME = "control.sock"
GROUP = "backline-remote"      # who may connect (deploy/install.sh makes it)
log = logging.getLogger("backline")


def default_path(state_path: Path) -> Path:
    """systemd's RuntimeDirectory (/run/backline), else beside the state file."""
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(runtime) / SOCKET_NAME if runtime else Path(state_path).parent / SOCKET_NAME


def remove_socket(path: Path) -> None:
    """Removes `path` if it is a socket (one a daemon left); a file that is not a socket
    is never removed."""
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            path.unlink()
    except FileNotFoundError:
        pass


def listen(path: Path) -> socket.socket:
    """Bound with mode 0660, group `backline-remote` when there is one, non-blocking. A
    socket left by a daemon that died is replaced (the state lock says none runs)."""
    remove_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))       # the unit's UMask=0027: no one else may connect yet
        os.chmod(path, 0o660)
        try:
            os.chown(path, -1, grp.getgrnam(GROUP).gr_gid)
        except KeyError:
            pass                        # no such group: the daemon's own group only
        except PermissionError as exc:
            log.warning("%s: not given to group %s: %s", path, GROUP, exc.strerror)
        sock.listen(64)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
