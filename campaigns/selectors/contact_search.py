"""Finding contacts across lists: by address, and by email or name prefix, status and list."""

from __future__ import annotations

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Collate, Lower

from campaigns.emails import InvalidEmailError, normalize_email
from campaigns.models import Contact, Membership
from campaigns.selectors.contacts import HIGHEST


def contact_by_email(email: str) -> Contact | None:
    """The contact with this address in any spelling of its local part's case, or None."""
    try:
        address = normalize_email(email)
    except InvalidEmailError:
        return None
    return Contact.objects.filter(email_key=address.key).first()


def contacts_matching(
    *, search: str = "", status: str = "", list_id: int | None = None
) -> QuerySet[Contact]:
    """Contacts whose email or name starts with `search`, with a status, on a list."""
    contacts = Contact.objects.all()
    if status:
        contacts = contacts.filter(status=status)
    if list_id is not None:
        contacts = contacts.filter(
            Exists(Membership.objects.filter(list_id=list_id, contact=OuterRef("pk")))
        )
    search = search.strip()
    if search:
        name_key = Lower("name")
        if connection.vendor == "postgresql":
            name_key = Collate(name_key, "C")  # matches the index of migration 0002
        contacts = contacts.alias(name_key=name_key).filter(
            _starts("email_key", search.lower()) | _starts("name_key", search.lower())
        )
    return contacts


def _starts(expression: str, prefix: str) -> Q:
    # A range, not LIKE: the unique index on email_key (code point order) serves it.
    return Q(**{f"{expression}__gte": prefix, f"{expression}__lt": prefix + HIGHEST})
