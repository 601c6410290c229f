"""Fixtures shared by the whole suite (pytest-django adds client, admin_client, live_server…).

Real RQ workers (`rq_burst`, `rq_worker`) come from tests/workers.py.
"""

from __future__ import annotations

import pytest

from edm import redis as edm_redis
from tests.workers import rq_burst, rq_worker  # noqa: F401  (fixtures)

pytest_plugins = ["tests.smtpserver"]  # loopback SMTP servers: smtp_server, start_smtp_server…


@pytest.fixture
def redis_db():
    """The suite's own Redis database, empty at the start of the test."""
    client = edm_redis.connection()
    client.flushdb()
    yield client
    client.flushdb()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, for fixtures that act on failures."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
