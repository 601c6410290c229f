"""Fixtures of the delivery tests: a real nameserver on loopback."""

from __future__ import annotations

import pytest

from tests.dnsserver import DnsServer


@pytest.fixture
def dns_server():
    """An authoritative nameserver on a free loopback port, empty until a test `load()`s zones.

    Give `dns_server.address` ((ip, port)) to the resolver under test.
    """
    with DnsServer() as server:
        yield server
