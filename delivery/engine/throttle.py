"""The site controls of delivery/throttle.py on redis.asyncio, for one event loop.

Same Lua scripts, same keys, same answers as `throttle.Throttle`: the leases in Redis stay
the truth for every worker on every host, whichever engine each one runs. What differs is
how leases are kept alive. The blocking `slot()` renews each lease from a thread of its
own; here one task renews every lease the process holds, in one pipelined round trip every
TTL/3, so hundreds of sessions cost one renewal call, not hundreds of threads. A lease that
fails to renew has `lost` set and stops its own batch only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable

import redis
import redis.asyncio

from delivery.limits import SiteLimits
from delivery.throttle import (
    _ACQUIRE,
    _RENEW,
    _SLOW_DOWN,
    _SUSPEND,
    _TAKE,
    _US,
    LEASE_TTL,
    MAX_SLOW_LEVEL,
    SETTLE,
    SLOW_STEP,
    Lease,
    RateGrant,
    Refusal,
    SlowDown,
    TemporaryNoSlot,
    _datetime,
    _text,
)

log = logging.getLogger(__name__)

# Connections of a process's async Redis client. Hundreds of sessions ask for rate tokens at
# once; a plain pool opens one connection per concurrent command and then refuses ("Too many
# connections"), a blocking pool makes the callers take turns on a few (each call is well
# under a millisecond on the server).
REDIS_CONNECTIONS = 16


def async_client(url: str) -> redis.asyncio.Redis:
    """The async Redis client of an engine process, on a small blocking pool."""
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url, max_connections=REDIS_CONNECTIONS, timeout=30
    )
    return redis.asyncio.Redis(connection_pool=pool)


class AsyncThrottle:
    """`throttle.Throttle`'s slots, rate, slow-downs and suspensions as coroutines.

    `clock` replaces the Redis server's clock, for tests, as in `Throttle`.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        prefix: str = "edm:throttle",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.clock = clock
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._take = client.register_script(_TAKE)
        self._slow_down = client.register_script(_SLOW_DOWN)
        self._suspend = client.register_script(_SUSPEND)
        self.held: dict[str, Lease] = {}  # token -> lease of this process, renewed by one task
        self._renewer: asyncio.Task | None = None

    def key(self, site: str, name: str) -> str:
        if not site:
            raise ValueError("A site name is needed.")
        return f"{self.prefix}:{{{site}}}:{name}"

    def _now(self) -> str:
        return "" if self.clock is None else str(round(self.clock() * _US))

    # Connection slots

    async def acquire(self, site: str, limits: SiteLimits, *, ttl: float = LEASE_TTL) -> Lease:
        """Take a connection slot of `site` or raise TemporaryNoSlot at once."""
        token = uuid.uuid4().hex
        granted, retry_us, level, *why = await self._acquire(
            keys=[self.key(site, "leases"), self.key(site, "slow"), self.key(site, "suspended")],
            args=[self._now(), token, round(ttl * _US), limits.max_connections],
        )
        if not granted:
            raise TemporaryNoSlot(site, Refusal(_text(why[0])), max(0, retry_us) / _US)
        return Lease(site, token, ttl, limits.slowed(level))

    async def release(self, lease: Lease) -> None:
        await self.client.zrem(self.key(lease.site, "leases"), lease.token)

    @contextlib.asynccontextmanager
    async def slot(
        self, site: str, limits: SiteLimits, *, ttl: float = LEASE_TTL
    ) -> AsyncIterator[Lease]:
        """Hold a slot of `site` for the block, renewed with every other lease of the process.

        Raises TemporaryNoSlot when there is none; check `lease.lost` between messages.
        """
        lease = await self.acquire(site, limits, ttl=ttl)
        self.held[lease.token] = lease
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._keep_renewed(), name="lease renewer")
        try:
            yield lease
        finally:
            self.held.pop(lease.token, None)
            try:
                await self.release(lease)
            except redis.RedisError:
                log.warning("Could not release the %s slot; it expires in %ss.", site, ttl)

    async def renew_all(self) -> int:
        """Renew every held lease in one round trip; returns how many were lost."""
        leases = list(self.held.values())
        if not leases:
            return 0
        async with self.client.pipeline(transaction=False) as pipe:
            for lease in leases:
                await self._renew(
                    keys=[self.key(lease.site, "leases")],
                    args=[self._now(), lease.token, round(lease.ttl * _US)],
                    client=pipe,
                )
            renewed = await pipe.execute()
        lost = 0
        for lease, ok in zip(leases, renewed, strict=True):
            if not ok:
                log.warning("Lost the %s connection slot (lease expired).", lease.site)
                lease.lost.set()
                self.held.pop(lease.token, None)
                lost += 1
        return lost

    async def _keep_renewed(self) -> None:
        # Ends when the process holds no lease: nothing is left running between batches.
        while self.held:
            await asyncio.sleep(min(lease.ttl for lease in self.held.values()) / 3)
            try:
                await self.renew_all()
            except redis.RedisError:
                # Redis may be back before the TTLs run out; the next round tells.
                log.warning("Could not renew the connection slots.", exc_info=True)

    # Message rate

    async def take(
        self, site: str, limits: SiteLimits, n: int = 1, *, max_wait: float = 0.0
    ) -> RateGrant:
        """Book `n` messages of `site`'s rate if they may leave within `max_wait` seconds."""
        if limits.rate is None:
            return RateGrant(True, 0.0)
        granted, wait_us = await self._take(
            keys=[self.key(site, "rate"), self.key(site, "slow")],
            args=[self._now(), n, limits.rate.interval * _US, limits.burst, round(max_wait * _US)],
        )
        return RateGrant(bool(granted), wait_us / _US)

    # Adaptive pace and dead destinations

    async def slow_down(self, site: str, *, step: float = SLOW_STEP, reason: str = "") -> SlowDown:
        """Halve `site`'s connections and rate for every worker (see `Throttle.slow_down`)."""
        level, at, step_us = await self._slow_down(
            keys=[self.key(site, "slow")],
            args=[self._now(), round(step * _US), round(SETTLE * _US), MAX_SLOW_LEVEL, reason],
        )
        return SlowDown(level, _datetime(int(at) + level * int(step_us)))

    async def suspend(self, site: str, seconds: float, *, reason: str = ""):
        """Refuse `site`'s slots for `seconds` (a dead destination); returns when it ends."""
        until = await self._suspend(
            keys=[self.key(site, "suspended")], args=[self._now(), round(seconds * _US), reason]
        )
        return _datetime(until)
