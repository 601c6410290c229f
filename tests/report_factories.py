"""Builders of campaigns in flight for the report tests, through the engine's own code.

`planned_campaign` snapshots the audience with delivery.planning (CampaignStats written by
it) and cuts batches per site; `record` turns outcomes into the engine's `Result`s and hands
them to delivery.recording, so every counter a page reads is written the way sending writes
it. Only routing is skipped: each domain's site is given (no DNS lookups in page tests).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from campaigns.models import Campaign, Contact, Membership
from delivery import counters
from delivery.models import Batch, Delivery, SiteStats
from delivery.planning import deliveries_snapshot
from delivery.recording import results_record
from delivery.sending import Outcome, Result
from delivery.smtp import Reply
from tests.factories import make_campaign, make_contact, make_list

SENT = Reply(250, "2.0.0", "OK queued")
# outcome name -> (Outcome, reply, reason, hard)
OUTCOMES = {
    "sent": (Outcome.SENT, SENT, "", False),
    "deferred": (Outcome.DEFERRED, Reply(451, "4.7.1", "Try again later"), "", False),
    "unknown": (Outcome.BOUNCED, Reply(550, "5.1.1", "No such user here"), "userunknown", True),
    "full": (Outcome.BOUNCED, Reply(552, "5.2.2", "Mailbox full"), "mailboxfull", False),
    "blocked": (
        Outcome.BOUNCED,
        Reply(554, "5.7.1", "Client host blocked using a blocklist"),
        "blocked",
        False,
    ),
}


def planned_campaign(
    emails: list[str],
    *,
    name: str = "Autumn sale",
    sites: dict[str, str] | None = None,
    started_at: dt.datetime | None = None,
) -> Campaign:
    """A sending campaign with one queued delivery per address, batched per site (`sites`
    maps a domain to its site; a domain is its own site otherwise)."""
    audience = make_list(f"{name} audience")
    for email in emails:
        contact = Contact.objects.filter(email=email).first()
        if contact is None:
            make_contact(email, contact_list=audience)
        else:
            Membership.objects.create(list=audience, contact=contact)
    campaign = make_campaign(
        lists=[audience],
        name=name,
        status=Campaign.Status.SENDING,
        started_at=started_at or timezone.now(),
    )
    deliveries_snapshot(campaign)
    by_site: dict[str, list[int]] = defaultdict(list)
    for delivery_id, domain in Delivery.objects.filter(campaign=campaign).values_list(
        "id", "domain"
    ):
        by_site[(sites or {}).get(domain, domain)].append(delivery_id)
    for site, ids in by_site.items():
        batch = Batch.objects.create(campaign=campaign, site=site, size=len(ids))
        Delivery.objects.filter(pk__in=ids).update(batch=batch, site=site)
        counters.add(
            SiteStats,
            key={"campaign_id": campaign.pk, "site": site},
            increments={"queued": len(ids)},
        )
    return campaign


def record(campaign: Campaign, outcomes: dict[str, str], *, at: dt.datetime | None = None) -> None:
    """Record what happened to some recipients (email -> a key of OUTCOMES) as a batch run
    of their site would."""
    at = at or timezone.now()
    deliveries = Delivery.objects.filter(campaign=campaign, email__in=outcomes)
    by_site: dict[str, list[Result]] = defaultdict(list)
    for delivery in deliveries:
        outcome, reply, reason, hard = OUTCOMES[outcomes[delivery.email]]
        by_site[delivery.site].append(
            Result(
                delivery_id=delivery.pk,
                outcome=outcome,
                at=at,
                reply=reply,
                host=f"mx1.{delivery.site}",
                address="127.0.0.1",
                tls_version="TLSv1.3",
                reason=reason,
                hard=hard,
            )
        )
    for site, results in by_site.items():
        results_record(campaign, site, results)
