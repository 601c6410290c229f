"""delivery/engine/throttle.py: the site controls on redis.asyncio, against real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from django.conf import settings

from delivery.engine.throttle import AsyncThrottle, async_client
from delivery.limits import Rate, SiteLimits
from delivery.throttle import Refusal, SiteStatus, TemporaryNoSlot, Throttle
from tests.aio import run as run_async

SITE = "example.test"


@pytest.fixture
def prefix(redis_db):
    return f"test:{uuid.uuid4().hex}"


def run_with(prefix, scenario, clock=None):
    """Run `scenario(throttle)` in a fresh event loop with its own async Redis client."""

    async def main():
        client = async_client(settings.REDIS_URL)
        try:
            return await scenario(AsyncThrottle(client, prefix=prefix, clock=clock))
        finally:
            await client.aclose()

    return run_async(main())


def test_slots_held_by_the_async_throttle_count_against_the_blocking_ones(prefix, redis_db):
    limits = SiteLimits(max_connections=2, rate=None)
    blocking = Throttle(redis_db, prefix=prefix)

    async def scenario(throttle):
        async with throttle.slot(SITE, limits), throttle.slot(SITE, limits):
            with pytest.raises(TemporaryNoSlot) as refused:
                blocking.acquire(SITE, limits)
            held = blocking.state(SITE, limits).connections
        return refused.value.reason, held, blocking.state(SITE, limits).connections

    reason, held, after = run_with(prefix, scenario)
    assert (reason, held, after) == (Refusal.FULL, 2, 0)


def test_one_task_keeps_every_lease_of_the_process_alive_past_its_ttl(prefix, redis_db):
    limits = SiteLimits(max_connections=5, rate=None)
    blocking = Throttle(redis_db, prefix=prefix)

    async def scenario(throttle):
        sites = [f"site{n}.test" for n in range(3)]
        async with slots(throttle, sites, limits, ttl=0.3) as leases:
            await asyncio.sleep(1.0)  # more than three TTLs
            held = [blocking.state(site, limits).connections for site in sites]
            lost = [lease.lost.is_set() for lease in leases]
            renewers = [t for t in asyncio.all_tasks() if t.get_name() == "lease renewer"]
        await asyncio.sleep(0.2)
        return held, lost, len(renewers), throttle._renewer.done()

    held, lost, renewers, renewer_done = run_with(prefix, scenario)
    assert held == [1, 1, 1]
    assert lost == [False, False, False]
    assert renewers == 1
    assert renewer_done  # no lease held, nothing left running


@contextlib.asynccontextmanager
async def slots(throttle, sites, limits, ttl):
    """One slot of each site, held together."""
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(throttle.slot(s, limits, ttl=ttl)) for s in sites]


def test_a_lease_that_expired_is_marked_lost_and_not_revived(prefix, redis_db):
    limits = SiteLimits(max_connections=1, rate=None)
    blocking = Throttle(redis_db, prefix=prefix)

    async def scenario(throttle):
        async with throttle.slot(SITE, limits, ttl=0.3) as lease:
            redis_db.delete(blocking.key(SITE, "leases"))  # as if it had expired
            await asyncio.sleep(0.5)
            return lease.lost.is_set(), blocking.state(SITE, limits).connections

    assert run_with(prefix, scenario) == (True, 0)


def test_rate_slow_down_and_suspension_use_the_blocking_throttles_keys(prefix, redis_db):
    clock = [1_000_000.0]
    limits = SiteLimits(rate=Rate(10), burst=2)
    blocking = Throttle(redis_db, prefix=prefix, clock=lambda: clock[0])

    async def scenario(throttle):
        first = await throttle.take(SITE, limits, 2)
        refused = await throttle.take(SITE, limits, 2, max_wait=0.1)
        slowed = await throttle.slow_down(SITE, reason="421 4.7.0 slow down")
        state_slowed = blocking.state(SITE, limits)
        await throttle.suspend(SITE, 60, reason="no host answered")
        return first, refused, slowed.level, state_slowed, blocking.state(SITE, limits)

    first, refused, level, slowed, suspended = run_with(prefix, scenario, lambda: clock[0])
    assert first.granted and first.wait == 0
    assert not refused.granted and refused.wait == pytest.approx(0.2)
    assert level == 1 and slowed.status is SiteStatus.SLOWED
    assert suspended.status is SiteStatus.SUSPENDED
    assert blocking.take(SITE, limits, 2).granted is False  # the blocking side sees the booking
