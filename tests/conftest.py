"""Fixtures shared by the whole suite (pytest-django adds client, admin_client, live_server…)."""

from __future__ import annotations

import pytest

from edm import redis as edm_redis

pytest_plugins = ["tests.smtpserver"]  # loopback SMTP servers: smtp_server, start_smtp_server…


@pytest.fixture
def redis_db():
    """The suite's own Redis database, empty at the start of the test."""
    client = edm_redis.connection()
    client.flushdb()
    yield client
    client.flushdb()
