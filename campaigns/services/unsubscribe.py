"""Unsubscribing through a campaign: the page, RFC 8058 one-click, and the mailto address.

Every way in ends in `unsubscribe_record(target, method)`, with the campaign and contact a
signed link or address named (`campaigns/links.py` checks the signature first). By
`EDM_UNSUBSCRIBE_SCOPE` it unsubscribes the contact from the campaign's lists (`list`) or from
everything (`all`: the contact's status and a suppression of its address). It records when and
how once per campaign and contact and counts it in `CampaignStats.unsubscribed`; a second
click unsubscribes again (the contact may have been resubscribed since) without counting twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.links import LinkTarget
from campaigns.models import Campaign, Contact, ContactList, Unsubscribe
from campaigns.selectors.links import LinkTargetGoneError, link_target
from campaigns.services.contacts import contact_unsubscribe, membership_unsubscribe
from delivery import counters
from delivery.models import CampaignStats

__all__ = ["LinkTargetGoneError", "Unsubscribed", "unsubscribe_record"]


class Unsubscribed(NamedTuple):
    campaign: Campaign
    contact: Contact
    scope: str  # Unsubscribe.Scope
    first: bool  # False: this contact had already unsubscribed through this campaign


def unsubscribe_record(
    target: LinkTarget,
    method: str,
    *,
    scope: str | None = None,
    lists: Iterable[ContactList] | None = None,
) -> Unsubscribed:
    """Unsubscribe the link's contact as EDM_UNSUBSCRIBE_SCOPE says; record and count it once.

    `target` must come from a verified token or address; `method` is an Unsubscribe.Method.
    The preference centre names the `scope` itself (leave all) or, with scope `list`, the
    `lists` the person unticked instead of the campaign's. Raises LinkTargetGoneError
    (campaigns/selectors/links.py) when the campaign or the contact no longer exists.
    """
    campaign, contact = link_target(target)
    scope = scope or settings.EDM_UNSUBSCRIBE_SCOPE
    now = timezone.now()
    with transaction.atomic():
        _, first = Unsubscribe.objects.get_or_create(
            campaign=campaign,
            contact=contact,
            defaults={"method": method, "scope": scope, "created_at": now},
        )
        if scope == Unsubscribe.Scope.ALL:
            label = Unsubscribe.Method(method).label
            contact_unsubscribe(contact=contact, source=f"{label}, campaign “{campaign.name}”")
        else:
            for contact_list in campaign.lists.all() if lists is None else lists:
                membership_unsubscribe(contact_list=contact_list, contact=contact)
        if first:
            counters.add(
                CampaignStats,
                key={"campaign_id": campaign.pk},
                increments={"unsubscribed": 1},
                latest={"updated_at": now},
            )
    return Unsubscribed(campaign, contact, scope, first)
