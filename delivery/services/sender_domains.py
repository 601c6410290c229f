"""Sender domains: adding one with a new DKIM key, rotating and deleting its key, DNS checks.

A key is made in the request (a 2048-bit RSA key takes a fraction of a second); the DNS
check runs in a job, because DNS may take seconds to answer or not answer at all.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from delivery import dkim, jobs_queue, sender_checks
from delivery.dnscheck import check_sender_domain
from delivery.domains import InvalidDomainError, a_label
from delivery.models import SenderDomain
from edm import queues


class SenderDomainExistsError(Exception):
    """The domain already has a DKIM key."""


def sender_domain_add(domain: str) -> SenderDomain:
    """A new sender domain with a fresh DKIM key; InvalidDomainError or
    SenderDomainExistsError when the domain cannot be added."""
    name = sender_domain_name(domain)
    if SenderDomain.objects.filter(domain=name).exists():
        raise SenderDomainExistsError(f"{name} already has a DKIM key.")
    key = dkim.generate_private_key().decode("ascii")
    try:
        with transaction.atomic():
            return SenderDomain.objects.create(
                domain=name, selector=dkim_selector(timezone.now()), private_key_pem=key
            )
    except IntegrityError:  # added by someone else meanwhile
        raise SenderDomainExistsError(f"{name} already has a DKIM key.") from None


def sender_domain_name(domain: str) -> str:
    """The domain as DKIM's d= names it (A-label, lower case); InvalidDomainError otherwise."""
    text = domain.strip()
    if "@" in text:
        raise InvalidDomainError(
            f"Type the domain only ({text.rpartition('@')[2] or 'shop.example'}), not an address."
        )
    name = a_label(text)
    if "." not in name:
        raise InvalidDomainError(f"{text!r} is not a domain mail can be sent from.")
    return name


def sender_domain_rotate(sender: SenderDomain) -> SenderDomain:
    """Replace the domain's key with a new one under a new selector.

    Workers sign with the new key within a minute (delivery/prepared.py caches signers), so
    its record must be published right away; the old record may stay until mail signed with
    the old key has been delivered and read.
    """
    sender.private_key_pem = dkim.generate_private_key().decode("ascii")
    sender.selector = dkim_selector(timezone.now(), previous=sender.selector)
    sender.check_result, sender.checked_at = {}, None
    sender.save(update_fields=["private_key_pem", "selector", "check_result", "checked_at"])
    return sender


def sender_domain_delete(sender: SenderDomain) -> None:
    """Forget the domain and its key: messages from it go out unsigned."""
    sender.delete()


def dkim_selector(now: dt.datetime, *, previous: str = "") -> str:
    """`edm` + yyyymm, or the next `-N` of it when `previous` is this month's already.

    A new key never reuses a selector, so a record still published for an older key cannot
    be mistaken for the new one.
    """
    base = f"edm{now:%Y%m}"
    if previous == base:
        return f"{base}-2"
    match = re.fullmatch(re.escape(base) + r"-(\d+)", previous)
    return f"{base}-{int(match[1]) + 1}" if match else base


def sender_domain_check_enqueue(sender: SenderDomain) -> None:
    """Ask DNS about the domain's SPF, DKIM and DMARC records, in a job."""
    sender_checks.pending_mark(sender.pk)
    jobs_queue.enqueue_on_commit(queues.DEFAULT, "delivery.jobs.sender_domain_check", sender.pk)


def sender_domain_check(sender: SenderDomain) -> sender_checks.StoredCheck:
    """Check the domain's records now (in a job) and keep the findings on its row.

    A key rotated while DNS was being asked keeps its empty result: the findings were about
    the previous key.
    """
    record = dkim.dns_record(sender.private_key_pem, domain=sender.domain, selector=sender.selector)
    check = check_sender_domain(
        sender.domain,
        selector=sender.selector,
        public_key=record.value.rpartition("p=")[2],
        sending_addresses=[settings.EDM_SOURCE_ADDRESS] if settings.EDM_SOURCE_ADDRESS else (),
        nameservers=settings.EDM_DNS_NAMESERVERS,
    )
    result = sender_checks.check_as_json(check, selector=sender.selector)
    SenderDomain.objects.filter(pk=sender.pk, selector=sender.selector).update(
        check_result=result, checked_at=timezone.now()
    )
    sender_checks.pending_clear(sender.pk)
    return sender_checks.check_from_json(result)
