"""The throttle's view of sites (connections held, limits in force, normal/slowed/suspended).

One query for the sites' configured limits, then one pipelined Redis round trip for all of
them (a Lua script per site that reads its keys at one instant of the Redis clock). When
Redis does not answer, the states are unknown and the page still renders.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import redis

from delivery.dispatch import throttle
from delivery.sites import site_configs
from delivery.throttle import SiteState

log = logging.getLogger(__name__)


def site_states(sites: Iterable[str]) -> dict[str, SiteState]:
    """Each site's state now; empty when Redis did not answer."""
    configs = site_configs(sites)
    if not configs:
        return {}
    try:
        return throttle().states({site: config.limits for site, config in configs.items()})
    except redis.RedisError:
        log.warning("Redis did not answer; site states are unknown.", exc_info=True)
        return {}
