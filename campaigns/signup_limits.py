"""Counters in Redis that keep sign-up forms from being abused, shared by every process.

    edm:form-rate:<client address>:<hour>     submissions from one client address (IPv6: its
                                              /64) this hour
    edm:signup-mail:<sha256(address)>:<day>   confirmation emails sent to one address today

Fixed windows, like edm/rest/ratelimit.py: up to twice the limit across a boundary, for one
round trip. Addresses are hashed so Redis holds no list of who signed up.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time

from django.conf import settings

from edm import redis as edm_redis

HOUR = 3600
DAY = 86400


def submission_allowed(client_address: str) -> bool:
    """Count one submission from this client address; False past EDM_FORM_SUBMISSIONS_PER_HOUR."""
    key = f"edm:form-rate:{_client_key(client_address)}:{int(time.time()) // HOUR}"
    return _count(key, HOUR) <= settings.EDM_FORM_SUBMISSIONS_PER_HOUR


def confirmation_mail_allowed(email: str) -> bool:
    """Count one confirmation email to this address; False past
    EDM_SIGNUP_MAILS_PER_ADDRESS_PER_DAY (a form must not be a way to flood a mailbox)."""
    digest = hashlib.sha256(email.lower().encode()).hexdigest()
    key = f"edm:signup-mail:{digest}:{int(time.time()) // DAY}"
    return _count(key, DAY) <= settings.EDM_SIGNUP_MAILS_PER_ADDRESS_PER_DAY


def _client_key(client_address: str) -> str:
    """An IPv4 address, or the /64 of an IPv6 one: a single host is usually given a whole
    /64 (RFC 6177), so counting single IPv6 addresses would count nothing."""
    try:
        address = ipaddress.ip_address(client_address)
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address) + "/64"
    return str(address)


def _count(key: str, window: int) -> int:
    with edm_redis.connection().pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, 2 * window)
        count, _ = pipe.execute()
    return count
