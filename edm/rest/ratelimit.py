"""Requests per minute and token, counted in Redis so every web process shares the count.

One counter per token and clock minute (`edm:api-rate:<token id>:<minute>`, kept two
minutes): a fixed window lets a token make up to twice the limit across a minute boundary,
which is fine for a guard against runaway scripts and costs one round trip a request.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from edm import redis as edm_redis

WINDOW = 60


class TokenRateLimit(BaseThrottle):
    """At most EDM_API_REQUESTS_PER_MINUTE requests per token and minute (read at call time)."""

    def allow_request(self, request: HttpRequest) -> bool:
        token = getattr(request, "auth", None)
        if token is None:
            return True  # authentication failed first and answers 401
        minute = int(time.time()) // WINDOW
        key = f"edm:api-rate:{token.pk}:{minute}"
        with edm_redis.connection().pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2 * WINDOW)
            count, _ = pipe.execute()
        return count <= settings.EDM_API_REQUESTS_PER_MINUTE

    def wait(self) -> float:
        """Seconds until the next window (the same for every token: no state kept here)."""
        return WINDOW - time.time() % WINDOW
