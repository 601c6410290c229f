"""Reading campaigns: the audience a campaign would reach now, and what the pages list."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet

from campaigns.models import Campaign, Contact, ContactList, Membership
from campaigns.selectors.contacts import suppressed


def audience(
    lists: Iterable[ContactList | int], exclusion_lists: Iterable[ContactList | int] = ()
) -> QuerySet[Contact]:
    """Distinct eligible contacts: subscribed to a target list, enabled, not suppressed, and
    on no exclusion list (whatever their status there). One SQL query, no DISTINCT needed."""
    targets = Membership.objects.filter(
        contact=OuterRef("pk"), list__in=list(lists), status=Membership.Status.SUBSCRIBED
    )
    excluded = Membership.objects.filter(contact=OuterRef("pk"), list__in=list(exclusion_lists))
    return (
        Contact.objects.filter(Exists(targets), status=Contact.Status.ENABLED)
        .exclude(Exists(excluded))
        .exclude(suppressed())
    )


def campaign_audience(campaign: Campaign) -> QuerySet[Contact]:
    """The contacts `campaign` would be sent to if it started now."""
    return audience(
        campaign.lists.values_list("pk", flat=True),
        campaign.exclusion_lists.values_list("pk", flat=True),
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
