"""Reading campaigns: the audience a campaign would reach now, and what the pages list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet

from campaigns.models import Campaign, Contact, ContactList, Membership
from campaigns.segments.compiler import segment_q
from campaigns.segments.definition import Group
from campaigns.selectors.contacts import suppressed
from campaigns.selectors.segments import segment_group


def audience(
    lists: Iterable[ContactList | int],
    exclusion_lists: Iterable[ContactList | int] = (),
    segment: Group | None = None,
    *,
    now: dt.datetime | None = None,
) -> QuerySet[Contact]:
    """Distinct eligible contacts: subscribed to a target list, enabled, not suppressed, on
    no exclusion list (whatever their status there), and matching the segment if one is
    given (it narrows the lists, never adds to them). One SQL query, no DISTINCT needed."""
    targets = Membership.objects.filter(
        contact=OuterRef("pk"), list__in=list(lists), status=Membership.Status.SUBSCRIBED
    )
    excluded = Membership.objects.filter(contact=OuterRef("pk"), list__in=list(exclusion_lists))
    contacts = Contact.objects.filter(Exists(targets), status=Contact.Status.ENABLED)
    if segment is not None:
        contacts = contacts.filter(segment_q(segment, now=now))
    return contacts.exclude(Exists(excluded)).exclude(suppressed())


def campaign_audience(campaign: Campaign, *, now: dt.datetime | None = None) -> QuerySet[Contact]:
    """The contacts `campaign` would be sent to if it started now."""
    return audience(
        campaign.lists.values_list("pk", flat=True),
        campaign.exclusion_lists.values_list("pk", flat=True),
        segment_group(campaign.segment) if campaign.segment_id else None,
        now=now,
    )


def campaign_audience_size(campaign: Campaign) -> int:
    return campaign_audience(campaign).count()


def campaign_preview_contact(campaign: Campaign) -> Contact | None:
    """The contact the campaign page previews the message for: the first of its audience."""
    return campaign_audience(campaign).order_by("pk").first()


def sender_defaults() -> dict[str, str]:
    """The sender of the latest campaign, for a new one to start from."""
    latest = Campaign.objects.order_by("-pk").values("from_name", "from_email", "reply_to")
    return latest.first() or {}
