"""Test sends: a campaign's message to addresses the user types, through the real path.

The messages are built, signed, routed and sent exactly like the campaign's own (same
transport, throttle and SMTP client), from a job on the transactional queue, never from the
request. They are not deliveries: nothing is recorded against the campaign, and the result
of each is kept for an hour for the campaign page to show.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass

from django.db.models import Q

from campaigns.emails import email_key, normalize_email
from campaigns.models import Campaign, Contact
from delivery import dispatch, jobs_queue, transports
from delivery.batches import message_builder, reply_classification
from delivery.domains import a_label
from delivery.message import Recipient
from delivery.mx import PermanentRouteError, TemporaryRouteError
from delivery.prepared import prepared_campaign
from delivery.sending import BatchSender, Outgoing
from delivery.sites import site_config
from edm import queues
from edm import redis as edm_redis

MAX_ADDRESSES = 10
RESULT_TTL = 3600


@dataclass(frozen=True)
class TestSendResult:
    address: str
    outcome: str  # sent / deferred / bounced / failed
    detail: str


def test_send_enqueue(campaign: Campaign, addresses: list[str]) -> list[str]:
    """Queue a test send to up to MAX_ADDRESSES addresses; InvalidEmailError for a bad one."""
    normalized = list(dict.fromkeys(normalize_email(a).email for a in addresses if a.strip()))
    if not normalized:
        raise ValueError("Type at least one address.")
    if len(normalized) > MAX_ADDRESSES:
        raise ValueError(f"A test goes to at most {MAX_ADDRESSES} addresses.")
    jobs_queue.enqueue_on_commit(
        queues.TRANSACTIONAL, "delivery.jobs.send_test", campaign.pk, normalized
    )
    return normalized


def test_send(campaign: Campaign, addresses: list[str]) -> list[TestSendResult]:
    """Send the test messages now (in the job) and remember the outcomes."""
    prepared = prepared_campaign(campaign)
    keys = [email_key(address) for address in addresses]
    known = {c.email_key: c for c in Contact.objects.filter(Q(email_key__in=keys))}
    by_site: dict[str, list[Outgoing]] = defaultdict(list)
    results: list[TestSendResult] = []
    for number, address in enumerate(addresses, start=1):
        local, _, domain = address.rpartition("@")
        try:
            route = transports.route(domain)
        except (PermanentRouteError, TemporaryRouteError) as exc:
            results.append(TestSendResult(address, "failed", str(exc)))
            continue
        contact = known.get(email_key(address))
        recipient = Recipient(
            delivery_id=0,  # not a delivery: its bounces match nothing and are ignored
            contact_id=contact.pk if contact else 0,
            email=address,
            name=contact.name if contact else "",
            attributes=contact.attributes if contact else {},
        )
        by_site[route.site].append(
            Outgoing(
                delivery_id=-number,
                mail_from=f"test@{prepared.compiled.campaign.bounce_domain}",
                rcpt_to=f"{local}@{a_label(domain)}",
                candidates=route.hosts,
                build=message_builder(prepared, recipient),
            )
        )
    for site, messages in by_site.items():
        config = site_config(site)
        sender = BatchSender(
            site=site,
            limits=config.limits,
            throttle=dispatch.throttle(),
            connect=transports.connector(config.tls_policy),
            classify=reply_classification,
        )
        for message, result in zip(messages, sender.run(messages), strict=True):
            detail = str(result.reply) if result.reply else result.detail
            results.append(TestSendResult(message.rcpt_to, str(result.outcome), detail))
    edm_redis.connection().set(
        _key(campaign.pk), json.dumps([asdict(r) for r in results]), ex=RESULT_TTL
    )
    return results


def test_send_results(campaign: Campaign) -> list[TestSendResult]:
    """Outcomes of the campaign's last test send, for the page (empty after an hour)."""
    stored = edm_redis.connection().get(_key(campaign.pk))
    return [TestSendResult(**item) for item in json.loads(stored)] if stored else []


def _key(campaign_id: int) -> str:
    return f"edm:test-send:{campaign_id}"


# Named in the product's words; not pytest tests.
TestSendResult.__test__ = False
test_send.__test__ = test_send_enqueue.__test__ = test_send_results.__test__ = False
