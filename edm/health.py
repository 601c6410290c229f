"""Whether the database and Redis answer: the body of /healthz.

Anyone may ask (load balancers do, without logging in), so the answer for anyone is ok or
failing per service; which backend and the error text (hosts, ports, paths) are for staff.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import redis
from django.conf import settings
from django.db import DatabaseError, connection

from edm import redis as edm_redis


@dataclass(frozen=True)
class ServiceState:
    ok: bool
    backend: str
    error: str | None = None


@dataclass(frozen=True)
class Health:
    database: ServiceState
    redis: ServiceState

    @property
    def ok(self) -> bool:
        return self.database.ok and self.redis.ok

    def as_dict(self, *, details: bool) -> dict:
        """The answer of /healthz; `details`: the backend and error of each service too."""

        def service(state: ServiceState) -> dict:
            return asdict(state) if details else {"ok": state.ok}

        return {
            "status": "ok" if self.ok else "failing",
            "database": service(self.database),
            "redis": service(self.redis),
        }


def database_state() -> ServiceState:
    """Run SELECT 1 on the default database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return ServiceState(ok=False, backend=connection.vendor, error=str(exc))
    return ServiceState(ok=True, backend=connection.vendor)


def redis_state() -> ServiceState:
    """PING Redis with a short timeout so a dead server cannot hang the probe."""
    backend = "embedded" if settings.EDM_EMBEDDED_REDIS else "redis"
    try:
        edm_redis.connection(timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        return ServiceState(ok=False, backend=backend, error=str(exc))
    return ServiceState(ok=True, backend=backend)


def health_check() -> Health:
    return Health(database=database_state(), redis=redis_state())
