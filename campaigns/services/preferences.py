"""The preference centre's changes: stay on some lists, leave others or all, correct a name.

Reached only through a verified unsubscribe link, which proves the person received a
campaign at the contact's address. Leaving goes through `unsubscribe_record` like every
unsubscribe (recorded and counted once per campaign); rejoining a list the person had left
is recorded as a Consent (method `preferences`), since that link is what they acted on.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from campaigns.links import LinkTarget
from campaigns.models import Consent, Contact, ContactList, Membership, Unsubscribe
from campaigns.models.contacts import NAME_MAX_LENGTH
from campaigns.selectors.links import link_target
from campaigns.services.unsubscribe import unsubscribe_record


class PreferencesSaved(NamedTuple):
    contact: Contact
    left: list[ContactList]
    joined: list[ContactList]
    renamed: bool
    left_all: bool


def preferences_update(
    target: LinkTarget,
    *,
    keep_list_ids: Collection[int] = (),
    name: str | None = None,
    leave_all: bool = False,
    client_address: str | None = None,
    user_agent: str = "",
) -> PreferencesSaved:
    """Apply the preference centre's form. Lists the contact was never on are ignored (the
    page shows no others). Raises LinkTargetGoneError."""
    _, contact = link_target(target)
    now = timezone.now()
    memberships = list(Membership.objects.filter(contact=contact).select_related("list"))
    if leave_all:
        unsubscribe_record(target, Unsubscribe.Method.PREFERENCES, scope=Unsubscribe.Scope.ALL)
        return PreferencesSaved(contact, [m.list for m in memberships], [], False, True)
    subscribed = Membership.Status.SUBSCRIBED
    left = [
        m.list for m in memberships if m.status == subscribed and m.list_id not in keep_list_ids
    ]
    joined = [
        m.list
        for m in memberships
        if m.status != subscribed and m.list_id in keep_list_ids and contact.sendable
    ]
    renamed = name is not None and name.strip()[:NAME_MAX_LENGTH] != contact.name
    with transaction.atomic():
        if left:
            unsubscribe_record(
                target, Unsubscribe.Method.PREFERENCES, scope=Unsubscribe.Scope.LIST, lists=left
            )
        if joined:
            Membership.objects.filter(contact=contact, list__in=joined).update(
                status=subscribed, updated_at=now
            )
            Consent.objects.bulk_create(
                [
                    Consent(
                        contact=contact,
                        list=item,
                        method=Consent.Method.PREFERENCES,
                        client_address=client_address,
                        user_agent=user_agent,
                        requested_at=now,
                        confirmed_at=now,
                    )
                    for item in joined
                ]
            )
        if renamed:
            contact.name, contact.updated_at = name.strip()[:NAME_MAX_LENGTH], now
            contact.save(update_fields=["name", "updated_at"])
    return PreferencesSaved(contact, left, joined, renamed, False)
