"""What the preference centre shows: the lists a contact is or was on, never any other."""

from __future__ import annotations

from typing import NamedTuple

from campaigns.models import Contact, ContactList, Membership


class ListChoice(NamedTuple):
    contact_list: ContactList
    subscribed: bool


def preference_lists(contact: Contact) -> list[ListChoice]:
    """The contact's lists with whether it is subscribed to each, by name (one query)."""
    memberships = (
        Membership.objects.filter(contact=contact).select_related("list").order_by("list__name")
    )
    return [ListChoice(m.list, m.status == Membership.Status.SUBSCRIBED) for m in memberships]
