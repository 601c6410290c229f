"""Traffic shaping per destination site, shared by every worker on every host through Redis.

Four controls, each a few Redis keys per site and one Lua script per operation (atomic, and
timed by the Redis server's clock so that the clocks of the worker hosts do not matter):

- **Connection slots**: at most `max_connections` leases per site. A lease has a TTL that its
  holder renews while it works (`slot()` does it from a thread), so a worker killed with
  SIGKILL leaks nothing: its lease simply expires.
- **Message rate**: GCRA (the "generic cell rate algorithm", a token bucket kept as a single
  timestamp) with `burst` messages of tolerance.
- **Slow-down**: a "slow down" reply (see `delivery.slowdown`) halves the site's connections
  and rate, down to 1/16; each `step` seconds without a new signal undoes one halving, so the
  site recovers on its own. Signals within `SETTLE` seconds of the last halving count once,
  since every connection open at the time tends to get the same reply. Leases already held
  are not revoked: they end with their batch (at most `messages_per_connection` messages).
- **Suspension** (Postfix's "dead destination"): when no host of a site accepts a connection,
  `suspend()` refuses its slots until the time passes.

Redis keys (the `{site}` hash tag keeps a site's keys in one Redis Cluster slot; times are
microseconds of the Redis server clock):

    edm:throttle:{<site>}:leases     ZSET   lease token -> expiry time
    edm:throttle:{<site>}:rate       STRING GCRA theoretical arrival time of the next message
    edm:throttle:{<site>}:slow       HASH   level (halvings), at (time of the last halving),
                                            step (µs per level of recovery), reason
    edm:throttle:{<site>}:suspended  HASH   until, reason

Every key gets a Redis expiry once it stops mattering, so idle sites leave nothing behind.

Recommended use by a delivery batch job (one SMTP connection, tens to hundreds of messages):

    with throttle.slot(site, limits) as lease:          # TemporaryNoSlot: requeue the batch
        for chunk in chunks(deliveries, size=limits.burst):
            grant = throttle.take(site, limits, len(chunk), max_wait=30)
            if not grant.granted:
                ...                                       # requeue the rest after grant.wait
            time.sleep(grant.wait)
            ...send chunk; stop early if lease.lost or after messages_per_connection...

That is one slot round trip per batch and one `take` round trip per `burst` messages (about
0.1 per message with the default burst of 10), so Redis is never what limits the engine's
1,000 messages/s: see "Throttle" in docs/BENCHMARKS.md.

rq's `RateLimit(key, concurrency)` on enqueue is complementary, not a replacement. It caps the
jobs of one key that are queued or running, so a worker never dequeues a batch that would
only find the site full and requeue itself: use it with the site as key and
`max_connections` as concurrency. It cannot replace the leases: its concurrency is fixed when
the job is enqueued (slow-downs and suspensions cannot lower it); and while a work horse killed
by SIGKILL is noticed at once by its parent worker, a worker killed whole (SIGKILL of the
process group, the OOM killer, a lost host) keeps its slot until another worker's maintenance
pass finds the abandoned job, every 10 minutes by default (rq 3.0). A lease expires after its
TTL (30 s by default).

Needs Redis 5 or later (scripts that read TIME and then write are replicated by effect).
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import redis

from delivery.limits import SiteLimits

log = logging.getLogger(__name__)

LEASE_TTL = 30.0  # seconds a lease lives without renewal
SLOW_STEP = 300.0  # seconds per halving undone, unless the signal suggests another
SETTLE = 30.0  # seconds after a halving during which further signals do not halve again
MAX_SLOW_LEVEL = 4  # at most 1/16 of the configured connections and rate

_US = 1_000_000

# Shared head of every script: `now` is ARGV[1] when a test clock gives it, else Redis TIME;
# `slow_level` is the number of halvings in force at `now` (0 when the site is not slowed).
_PRELUDE = """
local now
if ARGV[1] ~= '' then
    now = tonumber(ARGV[1])
else
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function slow_level(key)
    local h = redis.call('HMGET', key, 'level', 'at', 'step')
    if not h[1] then
        return 0
    end
    local level = tonumber(h[1]) - math.floor((now - tonumber(h[2])) / tonumber(h[3]))
    if level < 0 then
        return 0
    end
    return level
end
local function keep_until(key, expiry)
    local ms = math.ceil((expiry - now) / 1000) + 1000
    if redis.call('PTTL', key) < ms then
        redis.call('PEXPIRE', key, ms)
    end
end
"""

# Take a connection slot unless the site is suspended or its (possibly slowed) limit is held.
# Returns {1, 0, level} when granted, else {0, retry_after_us, level, why} with why 'suspended'
# or 'full'; for 'full', retry_after is when the oldest lease expires unless renewed.
# KEYS: leases, slow, suspended
# ARGV: now ('' for Redis TIME), token, ttl_us, max_connections
_ACQUIRE = (
    _PRELUDE
    + """
local level = slow_level(KEYS[2])
local suspended_until = tonumber(redis.call('HGET', KEYS[3], 'until') or '0')
if suspended_until > now then
    return {0, suspended_until - now, level, 'suspended'}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local allowed = math.max(1, math.floor(tonumber(ARGV[4]) / 2 ^ level))
if redis.call('ZCARD', KEYS[1]) >= allowed then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {0, tonumber(oldest[2]) - now, level, 'full'}
end
local expiry = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], expiry, ARGV[2])
keep_until(KEYS[1], expiry)
return {1, 0, level}
"""
)

# Push a live lease's expiry forward; an expired or unknown lease is not revived (its slot may
# have gone to another worker). Returns 1 when renewed, 0 when the lease is lost.
# KEYS: leases
# ARGV: now ('' for Redis TIME), token, ttl_us
_RENEW = (
    _PRELUDE
    + """
local expiry = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[2]) or '0')
if expiry <= now then
    redis.call('ZREM', KEYS[1], ARGV[2])
    return 0
end
expiry = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], expiry, ARGV[2])
keep_until(KEYS[1], expiry)
return 1
"""
)

# GCRA: book n messages if they may leave within max_wait; the interval between messages
# doubles with each slow-down level. Returns {1, wait_us} when booked (send after wait_us),
# else {0, wait_us} with nothing booked (n messages may leave without waiting after wait_us).
# KEYS: rate, slow
# ARGV: now ('' for Redis TIME), n, interval_us at the configured rate, burst, max_wait_us
_TAKE = (
    _PRELUDE
    + """
local interval = tonumber(ARGV[3]) * 2 ^ slow_level(KEYS[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then
    tat = now
end
local new_tat = tat + tonumber(ARGV[2]) * interval
local wait = new_tat - tonumber(ARGV[4]) * interval - now
if wait > tonumber(ARGV[5]) then
    return {0, math.ceil(wait)}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, math.max(0, math.ceil(wait))}
"""
)

# Halve the site's pace once more (up to max_level). Within settle of the last halving only a
# longer step is taken over. Returns {level, at, step_us} of the slow-down in force afterwards.
# KEYS: slow
# ARGV: now ('' for Redis TIME), step_us, settle_us, max_level, reason
_SLOW_DOWN = (
    _PRELUDE
    + """
local level = slow_level(KEYS[1])
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or '0')
local step = tonumber(ARGV[2])
if level > 0 and now - at < tonumber(ARGV[3]) then
    step = math.max(step, tonumber(redis.call('HGET', KEYS[1], 'step')))
    redis.call('HSET', KEYS[1], 'step', step)
else
    level = math.min(level + 1, tonumber(ARGV[4]))
    at = now
    redis.call('HSET', KEYS[1], 'level', level, 'at', at, 'step', step, 'reason', ARGV[5])
end
redis.call('PEXPIRE', KEYS[1], math.ceil((at + level * step - now) / 1000) + 1000)
return {level, at, step}
"""
)

# Refuse the site's slots until now + seconds (or longer, if already suspended longer).
# Returns the time the suspension ends.
# KEYS: suspended
# ARGV: now ('' for Redis TIME), duration_us, reason
_SUSPEND = (
    _PRELUDE
    + """
local ends = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
ends = math.max(ends, now + tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'until', ends, 'reason', ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil((ends - now) / 1000) + 1000)
return ends
"""
)

# Read a site's state at one instant. Returns {now, leases held, slow level, slowed until,
# slow reason, suspended until, suspension reason}; times 0 when not in force.
# KEYS: leases, slow, suspended
# ARGV: now ('' for Redis TIME)
_STATE = (
    _PRELUDE
    + """
-- string.format, not `..`: Lua 5.1 prints numbers with 14 digits, too few for microseconds.
local held = redis.call('ZCOUNT', KEYS[1], string.format('(%.17g', now), '+inf')
local level = slow_level(KEYS[2])
local slowed_until, slow_reason = 0, ''
if level > 0 then
    local h = redis.call('HMGET', KEYS[2], 'level', 'at', 'step', 'reason')
    slowed_until = tonumber(h[2]) + tonumber(h[1]) * tonumber(h[3])
    slow_reason = h[4] or ''
end
local s = redis.call('HMGET', KEYS[3], 'until', 'reason')
local suspended_until = tonumber(s[1] or '0')
if suspended_until <= now then
    suspended_until = 0
end
return {now, held, level, slowed_until, slow_reason, suspended_until, s[2] or ''}
"""
)


class Refusal(StrEnum):
    """Why a connection slot was refused."""

    FULL = "full"  # the site's (possibly slowed) connection limit is in use
    SUSPENDED = "suspended"  # the site is suspended as a dead destination


class TemporaryNoSlot(Exception):
    """No connection slot for the site now: requeue the batch and retry after `retry_after`."""

    def __init__(self, site: str, reason: Refusal, retry_after: float) -> None:
        super().__init__(f"No connection slot for {site} ({reason}); retry in {retry_after:.1f}s.")
        self.site = site
        self.reason = reason
        self.retry_after = retry_after


class SiteStatus(StrEnum):
    NORMAL = "normal"
    SLOWED = "slowed"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class SiteState:
    """What the dashboard shows about one site, read at one instant of the Redis clock."""

    site: str
    status: SiteStatus
    connections: int  # leases held now, across all workers
    limits: SiteLimits  # in force now: the configured ones, halved `slow_level` times
    slow_level: int
    slowed_until: datetime | None  # back to the configured limits then, barring new signals
    suspended_until: datetime | None
    reason: str  # the reply that slowed or suspended the site; "" when normal
    at: datetime


@dataclass(frozen=True)
class RateGrant:
    """Outcome of `take`: if granted, send after `wait` seconds; if not, nothing was booked
    and the same request needs no wait after `wait` seconds."""

    granted: bool
    wait: float


@dataclass(frozen=True)
class SlowDown:
    """The slow-down in force after `Throttle.slow_down`."""

    level: int  # halvings of connections and rate
    until: datetime  # back to the configured limits then, barring new signals


@dataclass
class Lease:
    """One connection slot of a site, held until released or expired."""

    site: str
    token: str
    ttl: float
    limits: SiteLimits  # in force when the slot was granted: read messages_per_connection here
    lost: threading.Event = field(default_factory=threading.Event)  # set once renewal failed


class Throttle:
    """The site controls over one Redis client (see the module docstring).

    `clock` (seconds since the epoch) replaces the Redis server's clock; it exists for tests
    and simulations. Production leaves it unset so that every host shares Redis's time.
    """

    def __init__(
        self,
        client: redis.Redis,
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
        self._state = client.register_script(_STATE)

    def key(self, site: str, name: str) -> str:
        """The Redis key `name` (leases, rate, slow, suspended) of `site`."""
        if not site:
            raise ValueError("A site name is needed.")
        return f"{self.prefix}:{{{site}}}:{name}"

    def _now(self) -> str:
        return "" if self.clock is None else str(round(self.clock() * _US))

    # Connection slots

    def acquire(self, site: str, limits: SiteLimits, *, ttl: float = LEASE_TTL) -> Lease:
        """Take a connection slot of `site` or raise TemporaryNoSlot at once (never blocks)."""
        token = uuid.uuid4().hex
        granted, retry_us, level, *why = self._acquire(
            keys=[self.key(site, "leases"), self.key(site, "slow"), self.key(site, "suspended")],
            args=[self._now(), token, round(ttl * _US), limits.max_connections],
        )
        if not granted:
            raise TemporaryNoSlot(site, Refusal(_text(why[0])), max(0, retry_us) / _US)
        return Lease(site, token, ttl, limits.slowed(level))

    def renew(self, lease: Lease) -> bool:
        """Extend `lease` by its TTL; False (and `lease.lost` set) if it had already expired."""
        renewed = self._renew(
            keys=[self.key(lease.site, "leases")],
            args=[self._now(), lease.token, round(lease.ttl * _US)],
        )
        if not renewed:
            lease.lost.set()
        return bool(renewed)

    def release(self, lease: Lease) -> None:
        """Give the slot back."""
        self.client.zrem(self.key(lease.site, "leases"), lease.token)

    @contextmanager
    def slot(self, site: str, limits: SiteLimits, *, ttl: float = LEASE_TTL) -> Iterator[Lease]:
        """Hold a connection slot of `site` for the block, renewed every ttl/3 from a thread.

        Raises TemporaryNoSlot when there is none. Check `lease.lost` between messages: it is
        set when the lease could not be renewed in time, and the slot may then be someone
        else's.
        """
        lease = self.acquire(site, limits, ttl=ttl)
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._keep_renewed, args=(lease, stop), name=f"lease {site}", daemon=True
        )
        renewer.start()
        try:
            yield lease
        finally:
            stop.set()
            renewer.join()
            try:
                self.release(lease)
            except redis.RedisError:
                # The lease expires by itself within its TTL; the batch's outcome matters more.
                log.warning("Could not release the %s slot; it expires in %ss.", site, ttl)

    def _keep_renewed(self, lease: Lease, stop: threading.Event) -> None:
        while not stop.wait(lease.ttl / 3):
            try:
                if not self.renew(lease):
                    log.warning("Lost the %s connection slot (lease expired).", lease.site)
                    return
            except redis.RedisError:
                # Redis may be back before the TTL runs out; the next renewal tells.
                log.warning("Could not renew the %s slot.", lease.site, exc_info=True)

    # Message rate

    def take(
        self, site: str, limits: SiteLimits, n: int = 1, *, max_wait: float = 0.0
    ) -> RateGrant:
        """Book `n` messages of `site`'s rate if they may leave within `max_wait` seconds.

        Granted: sleep `wait` seconds, then send. Refused: nothing was booked; `wait` says when
        the same request would be granted at once. Ask for at most `limits.burst` messages, or
        pass a `max_wait` that covers the excess.
        """
        if limits.rate is None:
            return RateGrant(True, 0.0)
        granted, wait_us = self._take(
            keys=[self.key(site, "rate"), self.key(site, "slow")],
            args=[self._now(), n, limits.rate.interval * _US, limits.burst, round(max_wait * _US)],
        )
        return RateGrant(bool(granted), wait_us / _US)

    # Adaptive pace and dead destinations

    def slow_down(self, site: str, *, step: float = SLOW_STEP, reason: str = "") -> SlowDown:
        """Halve `site`'s connections and rate (to at most 1/16); one halving is undone per
        `step` seconds without another signal."""
        level, at, step_us = self._slow_down(
            keys=[self.key(site, "slow")],
            args=[self._now(), round(step * _US), round(SETTLE * _US), MAX_SLOW_LEVEL, reason],
        )
        return SlowDown(level, _datetime(int(at) + level * int(step_us)))

    def suspend(self, site: str, seconds: float, *, reason: str = "") -> datetime:
        """Refuse `site`'s slots for `seconds` (a dead destination); returns when it ends."""
        until = self._suspend(
            keys=[self.key(site, "suspended")], args=[self._now(), round(seconds * _US), reason]
        )
        return _datetime(until)

    def resume(self, site: str) -> None:
        """End a suspension and a slow-down of `site` now (an operator's decision)."""
        self.client.delete(self.key(site, "suspended"), self.key(site, "slow"))

    def state(self, site: str, limits: SiteLimits) -> SiteState:
        """`site`'s state now, `limits` being its configured limits."""
        return self._site_state(site, limits, self._state(**self._state_call(site)))

    def states(self, limits: Mapping[str, SiteLimits]) -> dict[str, SiteState]:
        """`state` of several sites (site -> configured limits) in one round trip."""
        with self.client.pipeline(transaction=False) as pipe:
            for site in limits:
                self._state(**self._state_call(site), client=pipe)
            found = pipe.execute()
        return {
            site: self._site_state(site, site_limits, raw)
            for (site, site_limits), raw in zip(limits.items(), found, strict=True)
        }

    def _state_call(self, site: str) -> dict[str, list]:
        keys = [self.key(site, "leases"), self.key(site, "slow"), self.key(site, "suspended")]
        return {"keys": keys, "args": [self._now()]}

    def _site_state(self, site: str, limits: SiteLimits, raw: list) -> SiteState:
        now, held, level, slowed_until, slow_reason, suspended_until, suspend_reason = raw
        if suspended_until:
            status, reason = SiteStatus.SUSPENDED, _text(suspend_reason)
        elif level:
            status, reason = SiteStatus.SLOWED, _text(slow_reason)
        else:
            status, reason = SiteStatus.NORMAL, ""
        return SiteState(
            site=site,
            status=status,
            connections=held,
            limits=limits.slowed(level),
            slow_level=level,
            slowed_until=_datetime(slowed_until) if level else None,
            suspended_until=_datetime(suspended_until) if suspended_until else None,
            reason=reason,
            at=_datetime(now),
        )


def _datetime(microseconds: int | float) -> datetime:
    return datetime.fromtimestamp(math.floor(microseconds) / _US, UTC)


def _text(value: bytes | str) -> str:
    # Script replies are bytes unless the client was made with decode_responses=True.
    return value.decode() if isinstance(value, bytes) else value
