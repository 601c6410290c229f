"""What one client may take of bounce-in: connections open at once, messages per minute.

    limits = ClientLimits(max_connections=10, messages_per_minute=60)
    limits.connection_open("192.0.2.7")   -> False when it already holds 10 (answer 421)
    limits.message_take("192.0.2.7")      -> False when its minute is used up (answer 450)
    limits.connection_close("192.0.2.7")

Counted in this process's memory, not in Redis: bounce-in is one process with one event
loop (no locks needed), a check then costs no round trip, and the receiver keeps its limits
while Redis is down (it stores mail in the database, not in Redis). A deployment with several
bounce-in hosts behind its MX records limits per host.

Messages are a token bucket per client: `messages_per_minute` at once, then one every
60/`messages_per_minute` seconds. Clients are keyed by address; IPv6 ones by their /64,
which one host usually holds whole, and IPv4-mapped IPv6 as the IPv4 address.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass

_PRUNE_EVERY = 60.0  # seconds between sweeps of idle clients' entries


@dataclass(slots=True)
class _Client:
    connections: int
    tokens: float
    stamp: float  # clock reading when `tokens` was last brought up to date


def client_key(address: str) -> str:
    """The name a client's counts are kept under: its address, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP address (a unix socket): one client
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class ClientLimits:
    """Connections and messages per client, counted in memory (see the module docstring)."""

    def __init__(
        self,
        *,
        max_connections: int,
        messages_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_connections = max_connections
        self.messages_per_minute = messages_per_minute
        self._clock = clock
        self._clients: dict[str, _Client] = {}
        self._pruned = clock()

    def connection_open(self, address: str) -> bool:
        """Count a new connection; False (and nothing counted) when the client has its limit."""
        self._prune()
        client = self._client(client_key(address))
        if client.connections >= self.max_connections:
            return False
        client.connections += 1
        return True

    def connection_close(self, address: str) -> None:
        """Forget a connection counted by `connection_open`."""
        client = self._clients.get(client_key(address))
        if client is not None and client.connections > 0:
            client.connections -= 1

    def connections(self, address: str) -> int:
        """How many connections the client holds now."""
        client = self._clients.get(client_key(address))
        return client.connections if client is not None else 0

    def message_take(self, address: str) -> bool:
        """Count one message; False (and nothing counted) when the client's minute is used up."""
        client = self._client(client_key(address))
        self._refill(client)
        if client.tokens < 1:
            return False
        client.tokens -= 1
        return True

    def _client(self, key: str) -> _Client:
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = _Client(0, self.messages_per_minute, self._clock())
        return client

    def _refill(self, client: _Client) -> None:
        now = self._clock()
        earned = (now - client.stamp) * self.messages_per_minute / 60
        client.tokens = min(self.messages_per_minute, client.tokens + earned)
        client.stamp = now

    def _prune(self) -> None:
        """Drop clients with no connection whose bucket has filled up again: they are new."""
        if self._clock() - self._pruned < _PRUNE_EVERY:
            return
        self._pruned = self._clock()
        for key, client in list(self._clients.items()):
            self._refill(client)
            if client.connections == 0 and client.tokens >= self.messages_per_minute:
                del self._clients[key]
