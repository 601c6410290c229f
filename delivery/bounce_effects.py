"""What a bounce does to the recipient's contact, for every source of bounces.

- a hard bounce (the address is dead) marks the contact bounced and suppresses the address;
- soft bounces about the recipient (mailbox full, filtered…) do the same once there are
  EDM_SOFT_BOUNCE_LIMIT of them within EDM_SOFT_BOUNCE_DAYS;
- bounces about the sender (blocked, spam-detected, policy, authentication, reputation…)
  never touch the recipient: they are counted as a deliverability alarm instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services.contacts import contact_mark_bounced
from delivery.bounces import SENDER_SIDE
from delivery.bounces.reasons import NOT_BOUNCES
from delivery.models import CampaignStats, Delivery


class BouncedRecipient(NamedTuple):
    delivery_id: int
    contact_id: int | None
    email: str
    reason: str
    hard: bool


def bounced_recipients_apply(campaign: Campaign, bounced: Sequence[BouncedRecipient]) -> None:
    """Apply the contact side of bounces already recorded on their deliveries."""
    if not bounced:
        return
    about_sender = [b for b in bounced if b.reason in SENDER_SIDE]
    if about_sender:
        CampaignStats.objects.filter(campaign=campaign).update(
            sender_rejected=F("sender_rejected") + len(about_sender)
        )
    since = timezone.now() - dt.timedelta(days=settings.EDM_SOFT_BOUNCE_DAYS)
    for recipient in bounced:
        if recipient.reason in SENDER_SIDE or recipient.reason in NOT_BOUNCES:
            continue
        if recipient.hard:
            _suppress(recipient, f"hard bounce ({recipient.reason}), campaign “{campaign.name}”")
        elif _soft_bounces(recipient, since) >= settings.EDM_SOFT_BOUNCE_LIMIT:
            _suppress(
                recipient,
                f"{settings.EDM_SOFT_BOUNCE_LIMIT} soft bounces in "
                f"{settings.EDM_SOFT_BOUNCE_DAYS} days (last: {recipient.reason})",
            )


def _soft_bounces(recipient: BouncedRecipient, since: dt.datetime) -> int:
    if recipient.contact_id is None:
        return 0
    return (
        Delivery.objects.filter(
            contact_id=recipient.contact_id,
            status=Delivery.Status.BOUNCED,
            hard=False,
            updated_at__gte=since,
        )
        .exclude(reason__in=[*SENDER_SIDE, *NOT_BOUNCES])
        .count()
    )


def _suppress(recipient: BouncedRecipient, source: str) -> None:
    contact_mark_bounced(email=recipient.email, source=source)
