"""Creating, renaming and deleting contact lists."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from campaigns.models import ContactList


class ListNameTakenError(Exception):
    """Another list already has this name."""


def list_create(*, name: str, description: str = "") -> ContactList:
    """A new, empty list; ListNameTakenError if the name is in use."""
    try:
        with transaction.atomic():
            return ContactList.objects.create(name=name.strip(), description=description.strip())
    except IntegrityError:
        raise ListNameTakenError(f"A list called “{name.strip()}” already exists.") from None


def list_update(contact_list: ContactList, *, name: str, description: str) -> ContactList:
    """Rename the list or change its description."""
    contact_list.name, contact_list.description = name.strip(), description.strip()
    try:
        with transaction.atomic():
            contact_list.save(update_fields=["name", "description"])
    except IntegrityError:
        raise ListNameTakenError(f"A list called “{name.strip()}” already exists.") from None
    return contact_list


def list_delete(contact_list: ContactList) -> None:
    """Delete the list and its memberships; the contacts themselves stay."""
    contact_list.delete()
