"""The DNS stub resolver that routing and the sender-domain checks ask.

One place turns the configured nameservers (`edm.config.dns_nameservers()`, a list of
(ip, port)) and timeouts into a dnspython resolver, so `mx` and `dnscheck` query alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import dns.nameserver
import dns.resolver

# DNS flag day 2020: a 1232-byte UDP payload avoids IP fragmentation; bigger answers come
# back truncated and dnspython repeats the query over TCP.
EDNS_PAYLOAD = 1232


def stub_resolver(
    nameservers: Sequence[tuple[str, int]] = (),
    *,
    timeout: float = 2.0,
    lifetime: float = 6.0,
) -> dns.resolver.Resolver:
    """A resolver asking `nameservers` in order, or the system's (resolv.conf) when empty.

    `timeout` bounds one try at one nameserver, `lifetime` the whole question.
    """
    if nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(address, port) for address, port in nameservers
        ]
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = timeout
    resolver.lifetime = lifetime
    resolver.use_edns(0, 0, EDNS_PAYLOAD)
    return resolver
