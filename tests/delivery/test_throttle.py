"""Traffic shaping per site against a real Redis, with real worker processes where it matters.

Tests that reason about time use a controlled clock (`Throttle(clock=…)`), which replaces the
Redis server's clock inside the scripts; the multi-process tests use Redis's own clock and
assert counts that hold by design, whatever the machine's speed.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest
from django.conf import settings

from delivery.limits import Rate, SiteLimits
from delivery.throttle import (
    MAX_SLOW_LEVEL,
    SETTLE,
    Refusal,
    SiteStatus,
    TemporaryNoSlot,
    Throttle,
)
from tests.delivery import throttle_workers as workers

SITE = "example.net"
spawn = multiprocessing.get_context("spawn")


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def throttle(redis_db, clock):
    return Throttle(redis_db, clock=clock)


def start(target, *args, count: int):
    processes = [
        spawn.Process(target=target, args=(settings.REDIS_URL, f"worker-{i}", *args))
        for i in range(count)
    ]
    for process in processes:
        process.start()
    return processes


def wait_ready(client, count: int) -> None:
    for _ in range(count):
        assert client.blpop(["test:ready"], timeout=60), "a worker process did not start"


def finish(processes) -> None:
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0


# Connection slots across processes


def test_three_processes_never_hold_more_than_two_slots_of_a_two_connection_site(redis_db):
    processes = start(workers.contend_for_slots, 40, count=3)
    wait_ready(redis_db, 3)
    redis_db.rpush("test:go", *["go"] * 3)
    finish(processes)

    holders = [int(n) for n in redis_db.lrange("test:holders", 0, -1)]
    assert len(holders) == 3 * 40  # every process got its turns
    assert max(holders) <= 2
    assert int(redis_db.get("test:refused") or 0) > 0, "the processes never contended"


def test_a_third_holder_is_refused_until_one_of_two_releases(redis_db):
    throttle = Throttle(redis_db)
    holders = start(workers.hold_slot, 30.0, count=2)
    wait_ready(redis_db, 2)

    with pytest.raises(TemporaryNoSlot) as refused:
        throttle.acquire(workers.SITE, workers.TWO_CONNECTIONS)
    assert refused.value.reason is Refusal.FULL
    assert throttle.state(workers.SITE, workers.TWO_CONNECTIONS).connections == 2

    redis_db.rpush("test:release", "one")
    deadline = time.monotonic() + 30
    while throttle.state(workers.SITE, workers.TWO_CONNECTIONS).connections == 2:
        assert time.monotonic() < deadline, "the holder did not release its slot"
        time.sleep(0.01)
    lease = throttle.acquire(workers.SITE, workers.TWO_CONNECTIONS)
    throttle.release(lease)
    redis_db.rpush("test:release", "two")
    finish(holders)


def test_slot_of_a_process_killed_with_sigkill_is_free_again_after_its_ttl(redis_db):
    throttle = Throttle(redis_db)
    one = SiteLimits(max_connections=1)
    (holder,) = start(workers.hold_slot, 1.5, count=1)
    wait_ready(redis_db, 1)

    time.sleep(3)  # twice the TTL: only renewal keeps the lease alive
    with pytest.raises(TemporaryNoSlot):
        throttle.acquire(workers.SITE, one)

    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    with pytest.raises(TemporaryNoSlot):
        throttle.acquire(workers.SITE, one)  # nobody released it: it is still leased

    deadline = time.monotonic() + 30
    while True:
        try:
            lease = throttle.acquire(workers.SITE, one)
            break
        except TemporaryNoSlot as exc:
            assert time.monotonic() < deadline, "the killed worker's lease never expired"
            time.sleep(exc.retry_after / 4)
    throttle.release(lease)


# Connection slots in one process


def test_slot_is_released_when_the_block_ends_or_fails(throttle):
    limits = SiteLimits(max_connections=1)
    with throttle.slot(SITE, limits) as lease:
        assert throttle.state(SITE, limits).connections == 1
        assert lease.limits == limits
    assert throttle.state(SITE, limits).connections == 0

    with pytest.raises(RuntimeError), throttle.slot(SITE, limits):
        raise RuntimeError("the SMTP session broke")
    assert throttle.state(SITE, limits).connections == 0


def test_expired_lease_cannot_be_renewed_once_its_slot_is_taken(throttle, clock):
    limits = SiteLimits(max_connections=1)
    stale = throttle.acquire(SITE, limits, ttl=30)
    assert throttle.renew(stale)
    clock.advance(29)
    assert throttle.renew(stale)  # renewed for 30 more seconds
    clock.advance(29)
    with pytest.raises(TemporaryNoSlot):
        throttle.acquire(SITE, limits)

    clock.advance(2)
    fresh = throttle.acquire(SITE, limits)
    assert not throttle.renew(stale)
    assert stale.lost.is_set()
    assert throttle.renew(fresh)


def test_refusal_says_when_the_oldest_lease_would_expire(throttle, clock):
    limits = SiteLimits(max_connections=1)
    throttle.acquire(SITE, limits, ttl=30)
    clock.advance(10)
    with pytest.raises(TemporaryNoSlot) as refused:
        throttle.acquire(SITE, limits)
    assert refused.value.retry_after == 20


# Message rate


def test_rate_grants_the_burst_then_one_message_per_interval(throttle, clock):
    limits = SiteLimits(rate=Rate(60, 60), burst=5)
    assert [throttle.take(SITE, limits).granted for _ in range(6)] == [True] * 5 + [False]
    assert throttle.take(SITE, limits).wait == 1.0

    clock.advance(0.5)
    refused = throttle.take(SITE, limits)
    assert (refused.granted, refused.wait) == (False, 0.5)
    clock.advance(0.5)
    assert throttle.take(SITE, limits).granted
    assert not throttle.take(SITE, limits).granted


def test_rate_over_a_window_grants_about_the_rate_and_never_more(throttle, clock):
    limits = SiteLimits(rate=Rate(10), burst=10)
    granted = []
    for _ in range(1200):  # one attempt every 50 ms for a minute: twice the rate
        granted.append(throttle.take(SITE, limits).granted)
        clock.advance(0.05)
    per_second = [sum(granted[i : i + 20]) for i in range(0, 1200, 20)]
    assert per_second[0] <= 10 + 10  # the burst on top of the first second's rate
    assert max(per_second[1:]) <= 10
    assert 600 <= sum(per_second) <= 10 + 600


def test_rate_is_shared_by_processes(redis_db):
    processes = start(workers.take_messages, 30, count=3)
    wait_ready(redis_db, 3)
    redis_db.rpush("test:go", *["go"] * 3)
    finish(processes)
    # 1/hour with a burst of 5: exactly the burst, however the 90 attempts interleave.
    assert redis_db.llen("test:granted") == workers.ONE_PER_HOUR.burst


def test_take_books_messages_that_may_leave_within_max_wait(throttle, clock):
    limits = SiteLimits(rate=Rate(1), burst=5)
    grant = throttle.take(SITE, limits, 10, max_wait=10)
    assert (grant.granted, grant.wait) == (True, 5.0)

    refused = throttle.take(SITE, limits, 1)
    assert (refused.granted, refused.wait) == (False, 6.0)
    clock.advance(6)
    assert throttle.take(SITE, limits, 1).granted


def test_site_without_a_rate_limit_is_always_granted(throttle, redis_db):
    assert throttle.take(SITE, SiteLimits(rate=None), 1000).granted
    assert redis_db.keys("*") == []


# Adaptive slow-down


def test_slow_down_halves_connections_and_rate_and_recovers_after_its_step(throttle, clock):
    limits = SiteLimits(max_connections=4, rate=Rate(10), burst=1)
    throttle.slow_down(SITE, step=300, reason="421 4.7.0 Try again later")

    state = throttle.state(SITE, limits)
    assert state.status is SiteStatus.SLOWED
    assert state.limits == SiteLimits(max_connections=2, rate=Rate(5), burst=1)
    assert state.reason == "421 4.7.0 Try again later"
    assert state.slowed_until.timestamp() == clock.now + 300

    leases = [throttle.acquire(SITE, limits, ttl=900) for _ in range(2)]
    with pytest.raises(TemporaryNoSlot):
        throttle.acquire(SITE, limits)
    assert leases[0].limits.max_connections == 2
    throttle.take(SITE, limits)
    assert throttle.take(SITE, limits).wait == pytest.approx(0.2)  # 5/s instead of 10/s

    clock.advance(300)
    state = throttle.state(SITE, limits)
    assert (state.status, state.limits, state.slowed_until) == (SiteStatus.NORMAL, limits, None)
    leases += [throttle.acquire(SITE, limits) for _ in range(2)]
    assert throttle.state(SITE, limits).connections == 4


def test_signals_within_the_settle_time_halve_once(throttle, clock):
    for _ in range(3):  # every open connection gets the same 421
        throttle.slow_down(SITE)
    assert throttle.state(SITE, SiteLimits()).slow_level == 1

    clock.advance(SETTLE)
    assert throttle.slow_down(SITE).level == 2


def test_repeated_signals_floor_at_one_sixteenth_and_one_connection(throttle, clock):
    limits = SiteLimits(max_connections=8, rate=Rate(160, 60))
    for _ in range(10):
        slowed = throttle.slow_down(SITE, step=60)
        clock.advance(SETTLE)
    assert slowed.level == MAX_SLOW_LEVEL
    state = throttle.state(SITE, limits)
    assert state.limits.max_connections == 1
    assert state.limits.rate == Rate(10, 60)


def test_recovery_undoes_one_halving_per_step(throttle, clock):
    limits = SiteLimits(max_connections=8)
    throttle.slow_down(SITE, step=100)
    clock.advance(SETTLE)
    throttle.slow_down(SITE, step=100)
    levels = []
    for _ in range(3):
        levels.append(throttle.state(SITE, limits).limits.max_connections)
        clock.advance(100)
    assert levels == [2, 4, 8]


def test_longer_backoff_within_the_settle_time_extends_the_slow_down(throttle, clock):
    throttle.slow_down(SITE, step=300)
    slowed = throttle.slow_down(SITE, step=1800)
    assert (slowed.level, slowed.until.timestamp()) == (1, clock.now + 1800)


# Dead destinations


def test_suspended_site_refuses_slots_until_the_time_passes(throttle, clock):
    limits = SiteLimits()
    until = throttle.suspend(SITE, 600, reason="all 3 MX hosts refused the connection")
    assert until.timestamp() == clock.now + 600

    with pytest.raises(TemporaryNoSlot) as refused:
        throttle.acquire(SITE, limits)
    assert (refused.value.reason, refused.value.retry_after) == (Refusal.SUSPENDED, 600)
    state = throttle.state(SITE, limits)
    assert state.status is SiteStatus.SUSPENDED
    assert state.suspended_until == until
    assert state.reason == "all 3 MX hosts refused the connection"

    clock.advance(600)
    throttle.release(throttle.acquire(SITE, limits))
    assert throttle.state(SITE, limits).status is SiteStatus.NORMAL


def test_shorter_suspension_does_not_cut_a_longer_one(throttle, clock):
    first = throttle.suspend(SITE, 600)
    assert throttle.suspend(SITE, 60) == first


def test_resume_ends_suspension_and_slow_down_at_once(throttle):
    throttle.suspend(SITE, 600)
    throttle.slow_down(SITE)
    throttle.resume(SITE)
    assert throttle.state(SITE, SiteLimits()).status is SiteStatus.NORMAL


def test_sites_are_independent(throttle):
    limits = SiteLimits(max_connections=1)
    throttle.suspend("dead.example", 600)
    throttle.slow_down("slow.example")
    throttle.acquire("busy.example", limits)
    lease = throttle.acquire(SITE, limits)
    assert lease.limits == limits
    assert throttle.state(SITE, limits).status is SiteStatus.NORMAL


def test_every_key_expires_once_it_stops_mattering(throttle, redis_db):
    limits = SiteLimits(rate=Rate(1), burst=1)
    throttle.acquire(SITE, limits)
    throttle.take(SITE, limits)
    throttle.slow_down(SITE)
    throttle.suspend(SITE, 60)
    keys = redis_db.keys("*")
    assert len(keys) == 4
    assert all(redis_db.pttl(key) > 0 for key in keys)
