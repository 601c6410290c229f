"""Reading what a signed unsubscribe or view-online link points at, for the public pages."""

from __future__ import annotations

from django.conf import settings

from campaigns.links import LinkTarget
from campaigns.models import Campaign, Contact, Membership, Unsubscribe


class LinkTargetGoneError(LookupError):
    """The campaign or the contact a link was made for has been deleted."""


def link_target(target: LinkTarget) -> tuple[Campaign, Contact]:
    """The campaign and contact of a verified link; LinkTargetGoneError if either is deleted."""
    campaign = Campaign.objects.select_related("layout").filter(pk=target.campaign_id).first()
    contact = Contact.objects.filter(pk=target.contact_id).first()
    if campaign is None or contact is None:
        raise LinkTargetGoneError("This link is no longer valid.")
    return campaign, contact


def unsubscribed_already(campaign: Campaign, contact: Contact) -> bool:
    """Whether unsubscribing through this campaign would change nothing (the page says so)."""
    if settings.EDM_UNSUBSCRIBE_SCOPE == Unsubscribe.Scope.ALL:
        return contact.status != Contact.Status.ENABLED
    return not Membership.objects.filter(
        contact=contact, list__in=campaign.lists.all(), status=Membership.Status.SUBSCRIBED
    ).exists()
