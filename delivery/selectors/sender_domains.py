"""Reading sender domains: their keys' DNS records, last checks, and campaign domains
that have no key."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from campaigns.models import Campaign
from delivery import dkim, sender_checks
from delivery.domains import a_label
from delivery.models import SenderDomain
from delivery.sender_checks import StoredCheck

# Campaigns that may still send a message.
UNSENT = (
    Campaign.Status.DRAFT,
    Campaign.Status.SCHEDULED,
    Campaign.Status.SENDING,
    Campaign.Status.PAUSED,
)


@dataclass(frozen=True)
class SenderDomainSummary:
    """A sender domain with its last DNS check (None: never checked with this key)."""

    sender: SenderDomain
    check: StoredCheck | None
    checking: bool


@dataclass(frozen=True)
class SenderDomainDetail:
    sender: SenderDomain
    record: dkim.DnsRecord  # what to publish
    check: StoredCheck | None
    checking: bool


@dataclass(frozen=True)
class UnsignedDomain:
    """A domain campaigns send From that has no DKIM key: their messages go out unsigned."""

    domain: str
    campaigns: int
    unsent: int  # campaigns among them that may still send


def sender_domain_summaries() -> list[SenderDomainSummary]:
    """Every sender domain with its last check (one query, one Redis round trip)."""
    senders = list(SenderDomain.objects.defer("private_key_pem"))
    checking = sender_checks.pending_ids([sender.pk for sender in senders])
    return [
        SenderDomainSummary(
            sender, sender_checks.check_from_json(sender.check_result), sender.pk in checking
        )
        for sender in senders
    ]


def sender_domain_detail(sender: SenderDomain) -> SenderDomainDetail:
    """The domain's TXT record to publish and its last check."""
    return SenderDomainDetail(
        sender=sender,
        record=dkim.dns_record(
            sender.private_key_pem, domain=sender.domain, selector=sender.selector
        ),
        check=sender_checks.check_from_json(sender.check_result),
        checking=bool(sender_checks.pending_ids([sender.pk])),
    )


def unsigned_domains() -> list[UnsignedDomain]:
    """Domains of campaigns' From addresses without a DKIM key, those still sending first."""
    by_address = (
        Campaign.objects.exclude(from_email="")
        .values_list("from_email")
        .annotate(campaigns=Count("id"), unsent=Count("id", filter=Q(status__in=UNSENT)))
        .order_by()
    )
    counts: dict[str, list[int]] = {}
    for address, campaigns, unsent in by_address:
        domain = _domain(address)
        total = counts.setdefault(domain, [0, 0])
        total[0] += campaigns
        total[1] += unsent
    keyed = set(SenderDomain.objects.filter(domain__in=counts).values_list("domain", flat=True))
    unsigned = [
        UnsignedDomain(domain, campaigns, unsent)
        for domain, (campaigns, unsent) in counts.items()
        if domain not in keyed
    ]
    return sorted(unsigned, key=lambda item: (-item.unsent, -item.campaigns, item.domain))


def _domain(address: str) -> str:
    """The domain of a From address as the signer looks its key up (delivery/prepared.py)."""
    return a_label(address.rpartition("@")[2])
