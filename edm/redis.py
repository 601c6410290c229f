"""The product's Redis client (queues, throttling, caches share one server)."""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


@cache
def _client(url: str, timeout: float | None) -> redis.Redis:
    # redis-py's pool notices a fork and opens fresh sockets in the child, so one cached
    # client per process is safe for RQ's forked work horses.
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout or 5)


def connection(timeout: float | None = None) -> redis.Redis:
    """A client for REDIS_URL, read at call time so tests can point it elsewhere."""
    return _client(settings.REDIS_URL, timeout)
