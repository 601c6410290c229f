"""Sender-domain checks (SPF, DKIM, DMARC) against a real nameserver on loopback."""

from __future__ import annotations

import base64
import hashlib
import textwrap

import pytest

from delivery.dnscheck import Record, Status, check_sender_domain
from delivery.domains import InvalidDomainError
from tests.dnsserver import Behaviour

# Stand-ins for base64 DER public keys of 2048-bit RSA keys (392 characters, like the real
# thing); the check compares the published text with ours, it does not parse keys.
OUR_KEY = base64.b64encode(hashlib.shake_256(b"ours").digest(294)).decode()
OTHER_KEY = base64.b64encode(hashlib.shake_256(b"theirs").digest(294)).decode()


def txt(value: str) -> str:
    """A TXT record's data split in 255-byte strings, as a zone file must write a long value."""
    return " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))


def check(server, domain="example.com", **options):
    options.setdefault("selector", "edm1")
    options.setdefault("public_key", OUR_KEY)
    return check_sender_domain(
        domain, nameservers=[server.address], timeout=1.0, lifetime=2.0, **options
    )


def test_domain_with_spf_our_dkim_key_and_dmarc_passes(dns_server):
    dns_server.load(f"""
        example.com.                  TXT  "v=spf1 ip4:192.0.2.0/24 -all"
        example.com.                  TXT  "google-site-verification=abc"
        edm1._domainkey.example.com.  TXT  {txt(f"v=DKIM1; k=rsa; p={OUR_KEY}")}
        _dmarc.example.com.           TXT  "v=DMARC1; p=quarantine; rua=mailto:d@example.com"
    """)

    result = check(dns_server, sending_addresses=["192.0.2.7"])

    assert result.ok
    assert [finding.status for finding in result.findings] == [Status.OK] * 3
    assert result.spf.found == ("v=spf1 ip4:192.0.2.0/24 -all",)
    assert result.dkim.name == "edm1._domainkey.example.com"
    assert result.dmarc.name == "_dmarc.example.com"


def test_missing_records_are_reported_with_what_to_publish(dns_server):
    dns_server.load('example.com.  TXT  "google-site-verification=abc"')

    result = check(dns_server, sending_addresses=["192.0.2.7", "2001:db8::7"])

    assert not result.ok
    assert [finding.status for finding in result.findings] == [Status.MISSING] * 3
    assert result.spf.publish == "v=spf1 ip4:192.0.2.7 ip6:2001:db8::7 ~all"
    assert result.dkim.publish == f"v=DKIM1; k=rsa; p={OUR_KEY}"
    assert result.dkim.name == "edm1._domainkey.example.com"
    assert result.dmarc.publish == "v=DMARC1; p=none"
    assert all(finding.problem for finding in result.findings)


def test_nonexistent_domain_misses_every_record(dns_server):
    dns_server.load("other.example.  A  192.0.2.1")

    result = check(dns_server, domain="missing.example")

    assert [finding.record for finding in result.findings] == [
        Record.SPF,
        Record.DKIM,
        Record.DMARC,
    ]
    assert {finding.status for finding in result.findings} == {Status.MISSING}


def test_two_spf_records_are_wrong(dns_server):
    dns_server.load("""
        example.com.  TXT  "v=spf1 ip4:192.0.2.1 -all"
        example.com.  TXT  "v=spf1 include:_spf.provider.example ~all"
    """)

    spf = check(dns_server).spf

    assert spf.status is Status.WRONG
    assert len(spf.found) == 2
    assert "RFC 7208" in spf.problem


def test_spf_that_allows_everyone_is_wrong(dns_server):
    dns_server.load('example.com.  TXT  "v=spf1 a mx +all"')

    spf = check(dns_server).spf

    assert spf.status is Status.WRONG
    assert "+all" in spf.problem


def test_spf_listing_only_other_addresses_is_wrong(dns_server):
    dns_server.load('example.com.  TXT  "v=spf1 ip4:198.51.100.0/24 ~ip4:192.0.2.7 -all"')

    spf = check(dns_server, sending_addresses=["192.0.2.7"]).spf

    assert spf.status is Status.WRONG
    assert "192.0.2.7" in spf.problem
    assert spf.publish == "v=spf1 ip4:192.0.2.7 ~all"


def test_spf_with_an_include_is_accepted_without_evaluation(dns_server):
    dns_server.load('example.com.  TXT  "v=spf1 include:_spf.provider.example -all"')

    assert check(dns_server, sending_addresses=["192.0.2.7"]).spf.ok


def test_text_that_merely_starts_like_spf_is_not_spf(dns_server):
    dns_server.load('example.com.  TXT  "v=spf10 ip4:192.0.2.7 -all"')

    assert check(dns_server).spf.status is Status.MISSING


def test_dkim_key_split_over_several_strings_matches(dns_server):
    record = f"v=DKIM1; k=rsa; p={OUR_KEY}"
    dns_server.load(f"edm1._domainkey.example.com.  TXT  {txt(record)}")

    dkim = check(dns_server).dkim

    assert dkim.ok
    assert dkim.found == (record,)


def test_dkim_key_that_is_not_ours_is_wrong(dns_server):
    dns_server.load(f"edm1._domainkey.example.com.  TXT  {txt(f'v=DKIM1; p={OTHER_KEY}')}")

    dkim = check(dns_server).dkim

    assert dkim.status is Status.WRONG
    assert "not the one we sign with" in dkim.problem
    assert dkim.publish == f"v=DKIM1; k=rsa; p={OUR_KEY}"


def test_revoked_dkim_key_is_wrong(dns_server):
    dns_server.load('edm1._domainkey.example.com.  TXT  "v=DKIM1; k=rsa; p="')

    dkim = check(dns_server).dkim

    assert dkim.status is Status.WRONG
    assert "revoked" in dkim.problem


def test_our_key_given_as_pem_matches_the_published_p_value(dns_server):
    dns_server.load(f"edm1._domainkey.example.com.  TXT  {txt(f'v=DKIM1; k=rsa; p={OUR_KEY}')}")
    pem = "\n".join(
        ["-----BEGIN PUBLIC KEY-----", *textwrap.wrap(OUR_KEY, 64), "-----END PUBLIC KEY-----"]
    )

    assert check(dns_server, public_key=pem).dkim.ok


def test_dkim_is_looked_up_under_the_given_selector(dns_server):
    dns_server.load(f"s2024._domainkey.example.com.  TXT  {txt(f'v=DKIM1; p={OUR_KEY}')}")

    assert check(dns_server, selector="s2024").dkim.ok
    assert check(dns_server, selector="edm1").dkim.status is Status.MISSING


def test_dmarc_of_the_organisational_domain_covers_a_subdomain(dns_server):
    dns_server.load('_dmarc.example.com.  TXT  "v=DMARC1; p=reject; sp=quarantine"')

    dmarc = check(dns_server, domain="news.example.com").dmarc

    assert dmarc.ok
    assert dmarc.name == "_dmarc.example.com"


def test_dmarc_without_a_valid_policy_is_wrong(dns_server):
    dns_server.load('_dmarc.example.com.  TXT  "v=DMARC1; p=monitor"')

    dmarc = check(dns_server).dmarc

    assert dmarc.status is Status.WRONG
    assert "p=monitor" in dmarc.problem


def test_two_dmarc_records_are_wrong(dns_server):
    dns_server.load("""
        _dmarc.example.com.  TXT  "v=DMARC1; p=none"
        _dmarc.example.com.  TXT  "v=DMARC1; p=reject"
    """)

    assert check(dns_server).dmarc.status is Status.WRONG


def test_dns_failure_is_unknown_rather_than_missing(dns_server):
    dns_server.load('example.com.  TXT  "v=spf1 -all"')
    dns_server.behave("_dmarc.example.com", Behaviour.SERVFAIL)

    result = check(dns_server)

    assert result.spf.ok
    assert result.dmarc.status is Status.UNKNOWN
    assert "check again" in result.dmarc.problem
    assert not result.ok


def test_idn_sender_domain_is_checked_under_its_a_label(dns_server):
    dns_server.load('xn--bcher-kva.example.  TXT  "v=spf1 -all"')

    result = check(dns_server, domain="bücher.example")

    assert result.domain == "xn--bcher-kva.example"
    assert result.spf.ok


def test_malformed_sender_domain_is_refused(dns_server):
    with pytest.raises(InvalidDomainError):
        check(dns_server, domain="not a domain..")
