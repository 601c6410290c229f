"""What the contact page shows besides the form: status per list, bounces and complaints,
suppression, and the data-rights record. One query each, whatever the contact's history."""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.models import Consent, Contact, DataRightsAction, Membership, Suppression
from campaigns.selectors.suppressions import suppression_find
from delivery.models import BounceEvent

EVENTS_SHOWN = 20
CONSENTS_SHOWN = 20
ACTIONS_SHOWN = 10


@dataclass(frozen=True)
class ContactOverview:
    memberships: list[Membership]  # with their lists, by list name
    consents: list[Consent]  # what the contact agreed to, newest first, at most CONSENTS_SHOWN
    events: list[BounceEvent]  # bounces and complaints, newest first, at most EVENTS_SHOWN
    more_events: bool
    suppression: Suppression | None  # what stops sending to the address, if anything
    actions: list[DataRightsAction]  # exports and erasures, newest first


def contact_overview(contact: Contact) -> ContactOverview:
    """The contact page's sections (BounceEvent's (contact, at) index serves the events)."""
    memberships = list(
        Membership.objects.filter(contact=contact).select_related("list").order_by("list__name")
    )
    consents = list(
        Consent.objects.filter(contact=contact)
        .select_related("list", "form")
        .order_by("-requested_at", "-pk")[:CONSENTS_SHOWN]
    )
    events = list(
        BounceEvent.objects.filter(contact=contact)
        .select_related("campaign")
        .only(
            "at",
            "kind",
            "hard",
            "reason",
            "code",
            "status",
            "diagnostic",
            "feedback_type",
            "campaign__name",
        )
        .order_by("-at", "-pk")[: EVENTS_SHOWN + 1]
    )
    actions = list(DataRightsAction.objects.filter(contact_id=contact.pk)[:ACTIONS_SHOWN])
    return ContactOverview(
        memberships=memberships,
        consents=consents,
        events=events[:EVENTS_SHOWN],
        more_events=len(events) > EVENTS_SHOWN,
        suppression=suppression_find(contact.email),
        actions=actions,
    )
