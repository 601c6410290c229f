"""Unsubscribing by mail: a message to the mailto address of List-Unsubscribe (RFC 2369).

A minimal stand-in for campaigns/services/unsubscribe.py:unsubscribe_record(target, method),
which the unsubscribe page's work brings: the contact is unsubscribed from the lists the
campaign was sent to (its other lists are not affected), and the campaign counts one
unsubscribe the first time only.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from campaigns.links import LinkTarget
from campaigns.models import Campaign, Contact, Membership
from campaigns.services.contacts import membership_unsubscribe
from delivery.models import CampaignStats


def mail_unsubscribe(target: LinkTarget) -> list[str] | None:
    """Unsubscribe the contact from the campaign's lists; their names, None if either is gone."""
    contact = Contact.objects.filter(pk=target.contact_id).first()
    campaign = Campaign.objects.filter(pk=target.campaign_id).first()
    if contact is None or campaign is None:
        return None
    with transaction.atomic():
        subscribed = Membership.objects.filter(
            contact=contact, list__in=campaign.lists.all(), status=Membership.Status.SUBSCRIBED
        ).select_related("list")
        lists = [membership.list for membership in subscribed]
        for contact_list in lists:
            membership_unsubscribe(contact_list=contact_list, contact=contact)
        if lists:
            CampaignStats.objects.filter(campaign=campaign).update(
                unsubscribed=F("unsubscribed") + 1
            )
    return [contact_list.name for contact_list in lists]
