"""Where messages go in each delivery mode, and how a connection there is made.

mx       each domain's MX hosts (delivery/mx.py), on EDM_SMTP_PORT, STARTTLS per site
relay    EDM_RELAY_URL with SMTP AUTH; every message is one site, "relay"
capture  the capture SMTP server of `make run` on loopback; one site, "capture"
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from functools import cache

from django.conf import settings

from delivery import mx
from delivery.asmtp import AsyncSession, Timeouts
from delivery.bounces import DEAD_ADDRESS
from delivery.mx import Candidate
from delivery.relay import Relay
from delivery.sending import Connector, Outcome, Result
from delivery.smtp import Session, TlsPolicy
from edm import config
from edm import redis as edm_redis

RELAY_SITE = "relay"
CAPTURE_SITE = "capture"
CAPTURE_HOST = Candidate("capture.localhost", "127.0.0.1", 0)


def mode() -> str:
    return settings.EDM_DELIVERY_MODE


def router() -> mx.Router:
    """MX lookups with answers cached in Redis for their TTL."""
    return mx.Router(settings.EDM_DNS_NAMESERVERS, cache=edm_redis.connection())


def fixed_route(domain: str) -> mx.Route | None:
    """The route every domain takes in relay and capture modes; None in mx mode."""
    if mode() == "capture":
        return mx.Route(domain, CAPTURE_SITE, (CAPTURE_HOST,))
    if mode() == "relay":
        relay = Relay.from_url(settings.EDM_RELAY_URL)
        return mx.Route(domain, RELAY_SITE, (Candidate(relay.host, relay.host, 0),))
    return None


def route(domain: str, resolver: mx.Router | None = None) -> mx.Route:
    """The route of `domain` in the current mode; raises mx's Permanent/TemporaryRouteError."""
    return fixed_route(domain) or (resolver or router()).resolve(domain)


def unroutable_result(
    delivery_id: int, domain: str, error: mx.PermanentRouteError | mx.TemporaryRouteError
) -> Result:
    """A domain that takes no mail bounces the delivery (hard when the address cannot exist:
    no such domain, null MX); DNS failing now defers it."""
    permanent = isinstance(error, mx.PermanentRouteError)
    return Result(
        delivery_id,
        Outcome.BOUNCED if permanent else Outcome.DEFERRED,
        datetime.now(UTC),
        detail=f"{domain}: {error}",
        reason=error.reason,
        hard=permanent and (error.reason in DEAD_ADDRESS or error.reason == "notaccept"),
    )


def connector(tls_policy: TlsPolicy) -> Connector:
    """Opens sessions the way the current mode needs."""
    options = {
        "helo_name": helo_name(),
        "source_address": settings.EDM_SOURCE_ADDRESS,
        "connect_timeout": 30.0,
        "command_timeout": 300.0,
    }
    if mode() == "capture":
        port = settings.EDM_CAPTURE_PORT
        return lambda candidate: Session(
            candidate.host,
            port,
            address=candidate.address,
            tls_policy=TlsPolicy.NONE,
            **options,
        )
    if mode() == "relay":
        relay = Relay.from_url(settings.EDM_RELAY_URL)
        return lambda candidate: relay.session(**options)
    port = settings.EDM_SMTP_PORT
    return lambda candidate: Session(
        candidate.host, port, address=candidate.address, tls_policy=tls_policy, **options
    )


def async_connector(tls_policy: TlsPolicy):
    """`connector` for the async engine: AsyncSessions with the EDM_SMTP_TIMEOUT_* of each
    step. Not in relay mode (the async client has no AUTH yet)."""
    if mode() == "relay":
        raise ValueError("The async engine does not do relay mode yet.")
    options = {
        "helo_name": helo_name(),
        "source_address": settings.EDM_SOURCE_ADDRESS,
        "timeouts": Timeouts(**config.smtp_timeouts()),
    }
    if mode() == "capture":
        port, tls_policy = settings.EDM_CAPTURE_PORT, TlsPolicy.NONE
    else:
        port = settings.EDM_SMTP_PORT
    return lambda candidate: AsyncSession(
        candidate.host, port, address=candidate.address, tls_policy=tls_policy, **options
    )


@cache
def _fqdn() -> str:
    return socket.getfqdn()


def helo_name() -> str:
    return settings.EDM_HELO_NAME or _fqdn()
