"""Bodies of the worker processes that the throttle tests start (spawned, so importable).

They talk to the test's Redis through its URL and report through Redis lists, like real
workers on other hosts would share nothing but Redis.
"""

from __future__ import annotations

import time

import redis

from delivery.limits import Rate, SiteLimits
from delivery.throttle import TemporaryNoSlot, Throttle

SITE = "contended.example"
TWO_CONNECTIONS = SiteLimits(max_connections=2)
ONE_PER_HOUR = SiteLimits(rate=Rate(1, 3600), burst=5)


def wait_for_start(client: redis.Redis, name: str) -> None:
    """Say "ready" and block until the test says "go", so that all workers start together."""
    client.rpush("test:ready", name)
    client.blpop(["test:go"], timeout=60)


def contend_for_slots(url: str, name: str, rounds: int) -> None:
    """Take a slot `rounds` times; while holding it, log how many holders there are."""
    client = redis.Redis.from_url(url)
    throttle = Throttle(client)
    wait_for_start(client, name)
    done = 0
    while done < rounds:
        try:
            lease = throttle.acquire(SITE, TWO_CONNECTIONS, ttl=30)
        except TemporaryNoSlot:
            client.incr("test:refused")
            time.sleep(0.001)
            continue
        try:
            client.rpush("test:holders", client.incr("test:in-use"))
            time.sleep(0.002)  # hold it a moment, so that the others contend
            client.decr("test:in-use")
        finally:
            throttle.release(lease)
        done += 1


def hold_slot(url: str, name: str, ttl: float) -> None:
    """Hold a slot (renewed) until the test pushes "release", or until killed."""
    client = redis.Redis.from_url(url)
    with Throttle(client).slot(SITE, TWO_CONNECTIONS, ttl=ttl):
        client.rpush("test:ready", name)
        client.blpop(["test:release"], timeout=120)


def take_messages(url: str, name: str, attempts: int) -> None:
    """Ask for one message of the site's rate `attempts` times; log each grant."""
    client = redis.Redis.from_url(url)
    throttle = Throttle(client)
    wait_for_start(client, name)
    for _ in range(attempts):
        if throttle.take(SITE, ONE_PER_HOUR).granted:
            client.rpush("test:granted", name)
