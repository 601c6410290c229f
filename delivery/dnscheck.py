"""Sender-domain checks: has the domain we send as published SPF, our DKIM key and DMARC?

`check_sender_domain(domain, selector=…, public_key=…)` asks DNS (uncached: the user has
just edited their zone and presses "check again") for

- SPF: one TXT record `v=spf1 …` at the domain (RFC 7208 §4.5: more than one is an error);
- DKIM: a TXT key record at `<selector>._domainkey.<domain>` whose `p=` is our public key
  (RFC 6376 §3.6.1);
- DMARC: one TXT record `v=DMARC1; p=…` at `_dmarc.<domain>`, or else at `_dmarc.` of its
  organisational domain (RFC 7489 §6.6.3), with a valid policy.

Each answer is a `Finding` saying what is published, what is missing or wrong, and the TXT
value to publish. SPF is not evaluated in full (includes, `a`, `mx` would need more
lookups); with `sending_addresses` given, a record made only of `ip4`/`ip6` terms that
covers none of them is reported as wrong.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import dns.exception
import dns.resolver

from delivery.domains import a_label, registrable_domain
from delivery.resolver import stub_resolver

DMARC_POLICIES = ("none", "quarantine", "reject")


class Record(Enum):
    SPF = "SPF"
    DKIM = "DKIM"
    DMARC = "DMARC"


class Status(Enum):
    OK = "ok"
    MISSING = "missing"
    WRONG = "wrong"
    UNKNOWN = "unknown"  # DNS did not answer: check again later


@dataclass(frozen=True)
class Finding:
    """What DNS says about one record, and what to publish when it is not right."""

    record: Record
    status: Status
    name: str  # the DNS name the TXT record belongs at (or was found at)
    found: tuple[str, ...] = ()  # the relevant TXT values published there
    problem: str = ""  # what is missing or wrong, for the user
    publish: str = ""  # the TXT value to publish at `name`

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


@dataclass(frozen=True)
class DomainCheck:
    domain: str
    spf: Finding
    dkim: Finding
    dmarc: Finding

    @property
    def findings(self) -> tuple[Finding, Finding, Finding]:
        return self.spf, self.dkim, self.dmarc

    @property
    def ok(self) -> bool:
        return all(finding.ok for finding in self.findings)


class _LookupFailed(Exception):
    pass


def check_sender_domain(
    domain: str,
    *,
    selector: str,
    public_key: str,
    sending_addresses: Sequence[str] = (),
    nameservers: Sequence[tuple[str, int]] = (),
    timeout: float = 2.0,
    lifetime: float = 6.0,
) -> DomainCheck:
    """Check SPF, DKIM and DMARC of `domain` against our DKIM key.

    `public_key` is the key's `p=` value (base64 of the DER SubjectPublicKeyInfo) or the
    same key in PEM. Raises `delivery.domains.InvalidDomainError` for a malformed domain.
    """
    name = a_label(domain)
    resolver = stub_resolver(nameservers, timeout=timeout, lifetime=lifetime)
    return DomainCheck(
        domain=name,
        spf=_check_spf(resolver, name, sending_addresses),
        dkim=_check_dkim(resolver, f"{selector}._domainkey.{name}", _key_text(public_key)),
        dmarc=_check_dmarc(resolver, name),
    )


def _check_spf(
    resolver: dns.resolver.Resolver, domain: str, sending_addresses: Sequence[str]
) -> Finding:
    addresses = [ipaddress.ip_address(address) for address in sending_addresses]
    terms = [f"ip{address.version}:{address}" for address in addresses] or ["ip4:<sending IP>"]
    suggestion = " ".join(["v=spf1", *terms, "~all"])
    try:
        records = [txt for txt in _txt(resolver, domain) if _is_spf(txt)]
    except _LookupFailed as exc:
        return _unknown(Record.SPF, domain, exc)
    if not records:
        return Finding(
            Record.SPF,
            Status.MISSING,
            domain,
            problem=f"No SPF record: receivers cannot tell which servers may send for {domain}.",
            publish=suggestion,
        )
    if len(records) > 1:
        return Finding(
            Record.SPF,
            Status.WRONG,
            domain,
            tuple(records),
            problem=f"{len(records)} SPF records: receivers treat that as an error "
            "(RFC 7208 §4.5). Merge them into one.",
            publish=suggestion,
        )
    record = records[0]
    terms_found = record.lower().split()[1:]
    if "+all" in terms_found or "all" in terms_found:
        return Finding(
            Record.SPF,
            Status.WRONG,
            domain,
            (record,),
            problem=f'The record ends in "+all": it lets any server on the internet send as '
            f"{domain}. Use ~all or -all.",
            publish=suggestion,
        )
    if addresses and not _spf_may_cover(terms_found, addresses):
        listed = ", ".join(str(address) for address in addresses)
        return Finding(
            Record.SPF,
            Status.WRONG,
            domain,
            (record,),
            problem=f"The SPF record does not list the address mail is sent from ({listed}).",
            publish=suggestion,
        )
    return Finding(Record.SPF, Status.OK, domain, (record,))


def _check_dkim(resolver: dns.resolver.Resolver, name: str, our_key: str) -> Finding:
    publish = f"v=DKIM1; k=rsa; p={our_key}"
    try:
        records = _txt(resolver, name)
    except _LookupFailed as exc:
        return _unknown(Record.DKIM, name, exc)
    if not records:
        return Finding(
            Record.DKIM,
            Status.MISSING,
            name,
            problem="No DKIM key is published for this selector: receivers cannot verify our "
            "signatures.",
            publish=publish,
        )
    if len(records) > 1:
        return Finding(
            Record.DKIM,
            Status.WRONG,
            name,
            tuple(records),
            problem=f"{len(records)} TXT records at {name}: receivers may pick any one. "
            "Keep only ours.",
            publish=publish,
        )
    record = records[0]
    tags = _tags(record)
    problem = ""
    if tags.get("v", "DKIM1") != "DKIM1":
        problem = f"The record's version is v={tags['v']}; it must be v=DKIM1."
    elif tags.get("k", "rsa").lower() != "rsa":
        problem = f"The record declares a k={tags['k']} key; ours is RSA (k=rsa)."
    elif "p" not in tags or not tags["p"]:
        problem = "The record has no key (an empty p= means the key was revoked)."
    elif re.sub(r"\s", "", tags["p"]) != our_key:
        problem = "The published key is not the one we sign with: replace it with ours."
    if problem:
        return Finding(Record.DKIM, Status.WRONG, name, (record,), problem, publish)
    return Finding(Record.DKIM, Status.OK, name, (record,))


def _check_dmarc(resolver: dns.resolver.Resolver, domain: str) -> Finding:
    name = f"_dmarc.{domain}"
    publish = "v=DMARC1; p=none"
    organisation = registrable_domain(domain)
    places = [name] if organisation == domain else [name, f"_dmarc.{organisation}"]
    for place in places:
        try:
            records = [txt for txt in _txt(resolver, place) if _is_dmarc(txt)]
        except _LookupFailed as exc:
            return _unknown(Record.DMARC, place, exc)
        if records:
            break
    else:
        return Finding(
            Record.DMARC,
            Status.MISSING,
            name,
            problem="No DMARC record: Gmail, Yahoo and Microsoft require one (p=none at least) "
            "from bulk senders. Adding rua=mailto:… asks receivers for reports.",
            publish=publish,
        )
    if len(records) > 1:
        return Finding(
            Record.DMARC,
            Status.WRONG,
            place,
            tuple(records),
            problem=f"{len(records)} DMARC records at {place}: receivers then apply none "
            "(RFC 7489 §6.6.3). Keep one.",
            publish=publish,
        )
    policy = _tags(records[0]).get("p", "").lower()
    if policy not in DMARC_POLICIES:
        return Finding(
            Record.DMARC,
            Status.WRONG,
            place,
            tuple(records),
            problem=f"The record's policy p={policy or '(missing)'} is not one of "
            f"{', '.join(DMARC_POLICIES)}.",
            publish=publish,
        )
    return Finding(Record.DMARC, Status.OK, place, tuple(records))


def _txt(resolver: dns.resolver.Resolver, name: str) -> list[str]:
    """The TXT values at `name`, each record's strings joined (RFC 7208 §3.3); [] if none."""
    try:
        answer = resolver.resolve(name + ".", "TXT", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise _LookupFailed(str(exc)) from exc
    return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]


def _unknown(record: Record, name: str, exc: _LookupFailed) -> Finding:
    return Finding(
        record,
        Status.UNKNOWN,
        name,
        problem=f"DNS did not answer for {name} ({exc}); check again later.",
    )


def _is_spf(txt: str) -> bool:
    # RFC 7208 §4.5: exactly "v=spf1" followed by a space or the end of the record.
    return txt.lower() == "v=spf1" or txt.lower().startswith("v=spf1 ")


def _is_dmarc(txt: str) -> bool:
    # RFC 7489 §6.4: the record starts with the v=DMARC1 tag; other TXT records are ignored.
    return re.match(r"v\s*=\s*DMARC1\s*(;|$)", txt.strip()) is not None


def _tags(record: str) -> dict[str, str]:
    """A DKIM/DMARC tag list ("v=DKIM1; k=rsa; p=…") as a dict; keys lower-case."""
    tags = {}
    for part in record.split(";"):
        key, equals, value = part.partition("=")
        if equals:
            tags.setdefault(key.strip().lower(), value.strip())
    return tags


def _spf_may_cover(
    terms: list[str], addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address]
) -> bool:
    """False only when the record lists nothing but ip4/ip6 ranges, none holding an address."""
    networks = []
    for term in terms:
        mechanism = term.lstrip("+-~?")
        if mechanism.startswith(("ip4:", "ip6:")):
            if term[0] in "-~?":  # a failing or neutral qualifier authorises nobody
                continue
            try:
                networks.append(ipaddress.ip_network(mechanism[4:], strict=False))
            except ValueError:  # a malformed range authorises nobody either
                continue
        elif mechanism != "all":
            return True  # include, a, mx, exists, redirect…: cannot tell without evaluating
    return any(address in network for address in addresses for network in networks)


def _key_text(public_key: str) -> str:
    """The base64 body of a PEM key, or the `p=` text itself, without whitespace."""
    lines = [line for line in public_key.strip().splitlines() if not line.startswith("-----")]
    return re.sub(r"\s", "", "".join(lines))
