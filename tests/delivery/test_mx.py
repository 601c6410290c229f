"""Routing rules (RFC 5321 §5.1, RFC 7505), asked over real UDP/TCP of a loopback nameserver."""

from __future__ import annotations

import socket
import time

import pytest

from delivery.mx import (
    CACHE_PREFIX,
    CacheTtl,
    PermanentCause,
    PermanentRouteError,
    Router,
    TemporaryCause,
    TemporaryRouteError,
)
from tests.dnsserver import Behaviour, DnsServer


def make_router(server, **options) -> Router:
    options.setdefault("timeout", 1.0)
    options.setdefault("lifetime", 2.0)
    return Router([server.address], **options)


def test_mx_hosts_are_listed_in_preference_order_with_every_address(dns_server):
    dns_server.load("""
        example.com.      MX   20 backup.example.com.
        example.com.      MX   10 primary.example.com.
        primary.example.com.  A     127.0.0.2
        primary.example.com.  A     127.0.0.3
        primary.example.com.  AAAA  ::1
        backup.example.com.   A     127.0.0.4
    """)

    route = make_router(dns_server).resolve("example.com")

    assert route.domain == "example.com"
    assert [candidate.host for candidate in route.hosts] == [
        "primary.example.com",
        "primary.example.com",
        "primary.example.com",
        "backup.example.com",
    ]
    assert {candidate.address for candidate in route.hosts[:2]} == {"127.0.0.2", "127.0.0.3"}
    assert route.hosts[2].address == "::1"  # A before AAAA
    assert route.hosts[3] == ("backup.example.com", "127.0.0.4", 20)


def test_equal_preferences_are_shuffled_and_preference_order_is_kept(dns_server):
    dns_server.load("""
        example.com.     MX  10 mx-a.example.com.
        example.com.     MX  10 mx-b.example.com.
        example.com.     MX  20 mx-c.example.com.
        mx-a.example.com. A  127.0.0.2
        mx-b.example.com. A  127.0.0.3
        mx-c.example.com. A  127.0.0.4
    """)
    router = make_router(dns_server, address_types=("A",))

    orders = set()
    for _ in range(40):
        hosts = tuple(candidate.host for candidate in router.resolve("example.com").hosts)
        assert hosts[2] == "mx-c.example.com"
        orders.add(hosts[:2])

    assert orders == {
        ("mx-a.example.com", "mx-b.example.com"),
        ("mx-b.example.com", "mx-a.example.com"),
    }


def test_equal_preferences_read_from_cache_are_shuffled_too(dns_server, redis_db):
    dns_server.load("""
        example.com.     MX  10 mx-a.example.com.
        example.com.     MX  10 mx-b.example.com.
        mx-a.example.com. A  127.0.0.2
        mx-b.example.com. A  127.0.0.3
    """)
    router = make_router(dns_server, cache=redis_db, address_types=("A",))

    firsts = {router.resolve("example.com").hosts[0].host for _ in range(40)}

    assert firsts == {"mx-a.example.com", "mx-b.example.com"}
    assert dns_server.count("example.com", "MX") == 1


def test_null_mx_fails_permanently_without_address_lookups(dns_server):
    dns_server.load("""
        nomail.example.  MX  0 .
        nomail.example.  A   127.0.0.2
    """)

    with pytest.raises(PermanentRouteError) as failure:
        make_router(dns_server).resolve("nomail.example")

    assert failure.value.null_mx
    assert failure.value.cause is PermanentCause.NULL_MX
    assert failure.value.reason == "notaccept"
    assert failure.value.status == "5.1.10"
    assert dns_server.count(rdtype="A") == dns_server.count(rdtype="AAAA") == 0


def test_domain_without_mx_is_its_own_mail_host(dns_server):
    dns_server.load("""
        implicit.example.  A     127.0.0.5
        implicit.example.  AAAA  ::1
    """)

    route = make_router(dns_server).resolve("implicit.example")

    assert route.site == "implicit.example"
    assert route.hosts == (
        ("implicit.example", "127.0.0.5", 0),
        ("implicit.example", "::1", 0),
    )


def test_domain_without_mx_or_address_fails_permanently(dns_server):
    dns_server.load('bare.example.  TXT  "v=spf1 -all"')

    with pytest.raises(PermanentRouteError) as failure:
        make_router(dns_server).resolve("bare.example")

    assert failure.value.cause is PermanentCause.NO_ADDRESS
    assert failure.value.reason == "hostunknown"
    assert not failure.value.null_mx


def test_nonexistent_domain_fails_permanently_as_hostunknown(dns_server):
    dns_server.load("other.example.  A  127.0.0.2")

    with pytest.raises(PermanentRouteError) as failure:
        make_router(dns_server).resolve("missing.example")

    assert failure.value.cause is PermanentCause.NO_SUCH_DOMAIN
    assert failure.value.reason == "hostunknown"
    assert failure.value.status == "5.1.2"


def test_malformed_domain_fails_permanently_without_a_query(dns_server):
    with pytest.raises(PermanentRouteError) as failure:
        make_router(dns_server).resolve("bad..example")

    assert failure.value.cause is PermanentCause.INVALID_NAME
    assert dns_server.queries == []


def test_servfail_defers(dns_server):
    dns_server.behave("broken.example", Behaviour.SERVFAIL)

    with pytest.raises(TemporaryRouteError) as failure:
        make_router(dns_server).resolve("broken.example")

    assert failure.value.cause is TemporaryCause.SERVER_FAILURE
    assert failure.value.status.startswith("4.")


def test_silent_nameserver_defers_after_the_timeout(dns_server):
    dns_server.behave("silent.example", Behaviour.NO_REPLY)

    with pytest.raises(TemporaryRouteError) as failure:
        make_router(dns_server, timeout=0.1, lifetime=0.3).resolve("silent.example")

    assert failure.value.cause is TemporaryCause.TIMEOUT
    assert dns_server.count("silent.example", "MX") >= 1


def test_unreachable_nameserver_defers():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    router = Router([("127.0.0.1", closed_port)], timeout=0.2, lifetime=0.5)

    with pytest.raises(TemporaryRouteError):
        router.resolve("example.com")


def test_idn_domain_is_asked_as_its_a_label(dns_server):
    dns_server.load("""
        xn--bcher-kva.example.     MX  10 mx.xn--bcher-kva.example.
        mx.xn--bcher-kva.example.  A   127.0.0.2
    """)

    route = make_router(dns_server).resolve("Bücher.example")

    assert route.domain == "xn--bcher-kva.example"
    assert route.hosts[0].address == "127.0.0.2"
    assert dns_server.count("xn--bcher-kva.example", "MX") == 1


def test_mx_host_whose_name_does_not_resolve_is_skipped(dns_server):
    dns_server.load("""
        example.com.     MX  10 gone.example.com.
        example.com.     MX  20 mx.example.com.
        mx.example.com.  A   127.0.0.2
    """)
    dns_server.behave("gone.example.com", Behaviour.NXDOMAIN)

    route = make_router(dns_server).resolve("example.com")

    assert route.hosts == (("mx.example.com", "127.0.0.2", 20),)


def test_mx_host_with_a_failing_aaaa_lookup_keeps_its_ipv4_address(dns_server):
    dns_server.load("""
        example.com.     MX  10 mx.example.com.
        mx.example.com.  A   127.0.0.2
    """)
    dns_server.behave("mx.example.com", Behaviour.SERVFAIL, rdtype="AAAA")

    route = make_router(dns_server).resolve("example.com")

    assert route.hosts == (("mx.example.com", "127.0.0.2", 10),)


def test_no_resolvable_mx_host_defers(dns_server):
    dns_server.load("""
        example.com.  MX  10 gone.example.com.
        example.com.  MX  20 down.example.com.
    """)
    dns_server.behave("down.example.com", Behaviour.SERVFAIL)

    with pytest.raises(TemporaryRouteError) as failure:
        make_router(dns_server).resolve("example.com")

    assert failure.value.cause is TemporaryCause.NO_REACHABLE_HOST
    assert "down.example.com" in str(failure.value)


def test_address_shared_by_two_mx_hosts_is_tried_once(dns_server):
    dns_server.load("""
        example.com.      MX     10 mx1.example.com.
        example.com.      MX     20 mx2.example.com.
        mx1.example.com.  A      127.0.0.2
        mx2.example.com.  CNAME  mx1.example.com.
    """)

    route = make_router(dns_server).resolve("example.com")

    assert route.hosts == (("mx1.example.com", "127.0.0.2", 10),)


def test_ipv4_only_router_never_asks_for_aaaa(dns_server):
    dns_server.load("""
        example.com.     MX    10 mx.example.com.
        mx.example.com.  A     127.0.0.2
        mx.example.com.  AAAA  ::1
    """)

    route = make_router(dns_server, address_types=("A",)).resolve("example.com")

    assert [candidate.address for candidate in route.hosts] == ["127.0.0.2"]
    assert dns_server.count(rdtype="AAAA") == 0


def test_truncated_answer_is_asked_again_over_tcp(dns_server):
    hosts = [f"mx{n:02d}.a-rather-long-mail-host-name.example.com" for n in range(60)]
    dns_server.load("\n".join(f"example.com. MX {n} {host}." for n, host in enumerate(hosts)))
    dns_server.load(f"{hosts[0]}. A 127.0.0.2")
    dns_server.behave(hosts[1], Behaviour.NXDOMAIN)  # a few lookups are enough

    route = make_router(dns_server, address_types=("A",)).resolve("example.com")

    assert route.hosts[0] == (hosts[0], "127.0.0.2", 0)
    assert dns_server.count("example.com", "MX", transport="udp") == 1
    assert dns_server.count("example.com", "MX", transport="tcp") == 1


def test_answers_are_cached_in_redis_for_their_ttl(dns_server, redis_db):
    dns_server.load("""
        example.com.     600  MX  10 mx.example.com.
        mx.example.com.  900  A   127.0.0.2
    """)
    router = make_router(dns_server, cache=redis_db, address_types=("A",))

    first = router.resolve("example.com")
    asked = len(dns_server.queries)
    second = router.resolve("example.com")

    assert first == second
    assert len(dns_server.queries) == asked == 2
    assert 590 <= redis_db.ttl(f"{CACHE_PREFIX}MX:example.com") <= 600
    assert 890 <= redis_db.ttl(f"{CACHE_PREFIX}A:mx.example.com") <= 900


def test_mx_host_addresses_are_shared_between_domains_in_the_cache(dns_server, redis_db):
    dns_server.load("""
        one.example.      MX  10 mx.provider.example.
        two.example.      MX  10 mx.provider.example.
        mx.provider.example.  A  127.0.0.2
    """)
    router = make_router(dns_server, cache=redis_db, address_types=("A",))

    router.resolve("one.example")
    router.resolve("two.example")

    assert dns_server.count("mx.provider.example", "A") == 1


def test_expired_cache_entry_is_asked_again(dns_server, redis_db):
    dns_server.load("""
        example.com.     1  MX  10 mx.example.com.
        mx.example.com.  1  A   127.0.0.2
    """)
    router = make_router(dns_server, cache=redis_db, ttl=CacheTtl(minimum=1))
    router.resolve("example.com")
    assert dns_server.count("example.com", "MX") == 1

    deadline = time.monotonic() + 10
    while redis_db.exists(f"{CACHE_PREFIX}MX:example.com") and time.monotonic() < deadline:
        time.sleep(0.05)
    router.resolve("example.com")

    assert dns_server.count("example.com", "MX") == 2


def test_nonexistent_domain_is_cached_for_the_negative_ttl(redis_db):
    with DnsServer("other.example. A 127.0.0.2", negative_ttl=120) as server:
        router = make_router(server, cache=redis_db)
        for _ in range(2):
            with pytest.raises(PermanentRouteError):
                router.resolve("missing.example")

        assert server.count("missing.example", "MX") == 1
        assert 110 <= redis_db.ttl(f"{CACHE_PREFIX}MX:missing.example") <= 120


def test_cache_lifetimes_are_clamped(dns_server, redis_db):
    dns_server.load("""
        short.example.  0       A  127.0.0.2
        long.example.   604800  A  127.0.0.3
    """)
    router = make_router(dns_server, cache=redis_db, ttl=CacheTtl(minimum=30, maximum=3600))

    router.resolve("short.example")
    router.resolve("long.example")

    assert 25 <= redis_db.ttl(f"{CACHE_PREFIX}A:short.example") <= 30
    assert 3590 <= redis_db.ttl(f"{CACHE_PREFIX}A:long.example") <= 3600


def test_temporary_failures_are_not_cached(dns_server, redis_db):
    dns_server.behave("broken.example", Behaviour.SERVFAIL)
    router = make_router(dns_server, cache=redis_db)

    for _ in range(2):
        with pytest.raises(TemporaryRouteError):
            router.resolve("broken.example")

    assert dns_server.count("broken.example", "MX") == 2
    assert redis_db.keys(f"{CACHE_PREFIX}*") == []


def test_google_hosted_domains_share_a_site(dns_server):
    dns_server.load("""
        alpha.example.  MX  1  aspmx.l.google.com.
        alpha.example.  MX  5  alt1.aspmx.l.google.com.
        beta.example.   MX  10 alt2.aspmx.l.google.com.
        beta.example.   MX  20 aspmx2.googlemail.com.
        aspmx.l.google.com.       A  127.0.0.2
        alt1.aspmx.l.google.com.  A  127.0.0.3
        alt2.aspmx.l.google.com.  A  127.0.0.4
        aspmx2.googlemail.com.    A  127.0.0.5
    """)
    router = make_router(dns_server, address_types=("A",))

    assert router.resolve("alpha.example").site == "google.com"
    assert router.resolve("beta.example").site == "google.com"


def test_outlook_tenants_share_a_site(dns_server):
    dns_server.load("""
        contoso.example.   MX  0 contoso-example.mail.protection.outlook.com.
        fabrikam.example.  MX  0 fabrikam-example.mail.protection.outlook.com.
        contoso-example.mail.protection.outlook.com.   A  127.0.0.2
        fabrikam-example.mail.protection.outlook.com.  A  127.0.0.3
    """)
    router = make_router(dns_server, address_types=("A",))

    contoso = router.resolve("contoso.example")
    fabrikam = router.resolve("fabrikam.example")

    assert contoso.site == fabrikam.site == "outlook.com"
    assert contoso.hosts[0].host != fabrikam.hosts[0].host


def test_site_under_a_two_label_public_suffix_keeps_the_owner(dns_server):
    dns_server.load("""
        shop.example.   MX  10 mx.mail.sina.com.cn.
        other.example.  MX  10 mx.mail.sohu.com.cn.
        mx.mail.sina.com.cn.  A  127.0.0.2
        mx.mail.sohu.com.cn.  A  127.0.0.3
    """)
    router = make_router(dns_server, address_types=("A",))

    assert router.resolve("shop.example").site == "sina.com.cn"
    assert router.resolve("other.example").site == "sohu.com.cn"


def test_site_of_equal_preference_hosts_does_not_depend_on_the_shuffle(dns_server):
    dns_server.load("""
        mixed.example.  MX  5  mx1.zeta-mail.example.
        mixed.example.  MX  5  mx.alpha-mail.example.
        mixed.example.  MX  50 mx.aardvark.example.
        mx1.zeta-mail.example.  A  127.0.0.2
        mx.alpha-mail.example.  A  127.0.0.3
        mx.aardvark.example.    A  127.0.0.4
    """)
    router = make_router(dns_server, address_types=("A",))

    routes = [router.resolve("mixed.example") for _ in range(20)]

    assert {route.hosts[0].host for route in routes} == {
        "mx1.zeta-mail.example",
        "mx.alpha-mail.example",
    }
    assert {route.site for route in routes} == {"alpha-mail.example"}


def test_site_is_named_by_the_most_preferred_host_even_when_it_does_not_resolve(dns_server):
    # A passing DNS fault at one host must not move the domain to another site.
    dns_server.load("""
        example.com.  MX  1   mx.gone-mail.example.
        example.com.  MX  10  mx.backup-mail.example.
        mx.backup-mail.example.  A  127.0.0.2
    """)
    dns_server.behave("mx.gone-mail.example", Behaviour.SERVFAIL)

    route = make_router(dns_server, address_types=("A",)).resolve("example.com")

    assert route.site == "gone-mail.example"
    assert route.hosts == (("mx.backup-mail.example", "127.0.0.2", 10),)
