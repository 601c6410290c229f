"""Changing contacts and their memberships: add, edit, remove, unsubscribe, bounce, blocklist.

Bounce processing, complaint handling and the unsubscribe page call the `contact_mark_*`,
`contact_unsubscribe` and `membership_unsubscribe` services here; each records a suppression
where the outcome must hold for every list.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.emails import normalize_email
from campaigns.models import Contact, ContactList, Membership, Suppression
from campaigns.selectors.suppressions import address_erased


class ContactExistsError(Exception):
    """Another contact already has this email address."""


class ContactErasedError(Exception):
    """The address was erased at the person's request; it does not come back as a contact."""


def _refuse_erased(email: str) -> None:
    if address_erased(email):
        raise ContactErasedError(
            "This address was erased at the person's request and cannot be added again; "
            "remove its hashed suppression first if the person asked to come back."
        )


def contact_add(
    *,
    contact_list: ContactList,
    email: str,
    name: str = "",
    attributes: dict | None = None,
    do_not_track: bool = False,
) -> tuple[Contact, bool]:
    """Put an address on a list, creating its contact if new; (contact, created).

    Raises InvalidEmailError, ContactErasedError. An existing contact keeps its status and
    data; a membership that was unsubscribed stays unsubscribed.
    """
    address = normalize_email(email)
    _refuse_erased(address.email)
    with transaction.atomic():
        contact, created = Contact.objects.get_or_create(
            email_key=address.key,
            defaults={
                "email": address.email,
                "domain": address.domain,
                "name": name.strip(),
                "attributes": attributes or {},
                "status": _status_from_suppression(address.key),
                "do_not_track": do_not_track,
            },
        )
        Membership.objects.get_or_create(list=contact_list, contact=contact)
    return contact, created


def _status_from_suppression(key: str) -> str:
    reason = Suppression.objects.filter(value=key).values_list("reason", flat=True).first()
    if reason is None:
        return Contact.Status.ENABLED
    if reason in (Contact.Status.BOUNCED, Contact.Status.COMPLAINED, Contact.Status.UNSUBSCRIBED):
        return reason
    return Contact.Status.BLOCKLISTED


def contact_update(
    contact: Contact,
    *,
    email: str,
    name: str,
    attributes: dict,
    do_not_track: bool | None = None,
) -> Contact:
    """Change a contact's address, name, attributes and (when given) do-not-track;
    ContactExistsError on a taken address, ContactErasedError on an erased one.

    A new spelling of the same address (`User@x.com` for `user@x.com`) is kept as written."""
    address = normalize_email(email)
    if address.email != contact.email:
        _refuse_erased(address.email)
    contact.email, contact.email_key, contact.domain = address.email, address.key, address.domain
    contact.name, contact.attributes = name.strip(), attributes
    if do_not_track is not None:
        contact.do_not_track = do_not_track
    contact.updated_at = timezone.now()
    fields = ["email", "email_key", "domain", "name", "attributes", "do_not_track", "updated_at"]
    try:
        with transaction.atomic():
            contact.save(update_fields=fields)
    except IntegrityError:
        if not _address_taken(address.key, other_than=contact.pk):
            raise  # another constraint: saying "exists" would send the caller the wrong way
        raise ContactExistsError(
            f"Another contact already has the address {address.email}."
        ) from None
    return contact


def _address_taken(key: str, *, other_than: int | None = None) -> bool:
    return Contact.objects.filter(email_key=key).exclude(pk=other_than).exists()


def contact_delete(contact: Contact) -> None:
    """Delete the contact from every list (suppressions of its address stay)."""
    contact.delete()


def membership_remove(*, contact_list: ContactList, contact: Contact) -> None:
    """Take the contact off the list (the contact stays, with its other lists)."""
    Membership.objects.filter(list=contact_list, contact=contact).delete()


def membership_unsubscribe(*, contact_list: ContactList, contact: Contact) -> None:
    """Unsubscribe the contact from one list; other lists are not affected."""
    Membership.objects.filter(list=contact_list, contact=contact).update(
        status=Membership.Status.UNSUBSCRIBED, updated_at=timezone.now()
    )


def contact_unsubscribe(*, contact: Contact, source: str) -> None:
    """Unsubscribe the contact from everything: its status and a suppression of its address."""
    _contact_suppress(contact.email_key, Contact.Status.UNSUBSCRIBED, source=source)


def contact_blocklist(*, contact: Contact, source: str = "added by hand", by=None) -> None:
    """Never send to this contact again, from any list."""
    _contact_suppress(contact.email_key, Contact.Status.BLOCKLISTED, source=source, by=by)


def contact_mark_bounced(*, email: str, source: str) -> None:
    """A hard bounce: the address is suppressed, its contact (if any) bounced. InvalidEmailError."""
    _contact_suppress(normalize_email(email).key, Contact.Status.BOUNCED, source=source)


def contact_mark_complained(*, email: str, source: str) -> None:
    """A spam complaint: the address is complained and suppressed, and its contact unsubscribed
    from every list. InvalidEmailError."""
    key = normalize_email(email).key
    with transaction.atomic():
        _contact_suppress(key, Contact.Status.COMPLAINED, source=source)
        Membership.objects.filter(
            contact__email_key=key, status=Membership.Status.SUBSCRIBED
        ).update(status=Membership.Status.UNSUBSCRIBED, updated_at=timezone.now())


# A contact's status only moves towards the stronger reason: a blocklisted contact that
# bounces stays blocklisted, an unsubscribed one that complains becomes complained.
STRENGTH = [
    Contact.Status.ENABLED,
    Contact.Status.UNSUBSCRIBED,
    Contact.Status.BOUNCED,
    Contact.Status.COMPLAINED,
    Contact.Status.BLOCKLISTED,
]


def _contact_suppress(key: str, status: str, *, source: str, by=None) -> None:
    """Set the contact's status (if it exists) and suppress its address (by its email_key,
    so every spelling is covered), in one transaction."""
    now = timezone.now()
    weaker = STRENGTH[: STRENGTH.index(status)]
    with transaction.atomic():
        Contact.objects.filter(email_key=key, status__in=weaker).update(
            status=status, updated_at=now
        )
        Suppression.objects.get_or_create(
            value=key,
            defaults={
                "scope": Suppression.Scope.EMAIL,
                "reason": status,
                "source": source[:200],
                "created_by": by,
                "created_at": now,
            },
        )


def contact_create(
    *,
    email: str,
    name: str = "",
    attributes: dict | None = None,
    lists: Iterable[ContactList] = (),
    do_not_track: bool = False,
) -> Contact:
    """A new contact, subscribed to `lists`; ContactExistsError if the address is taken.

    Raises InvalidEmailError, ContactErasedError. A suppressed address gets the status that
    says why.
    """
    address = normalize_email(email)
    _refuse_erased(address.email)
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                email=address.email,
                email_key=address.key,
                domain=address.domain,
                name=name.strip(),
                attributes=attributes or {},
                status=_status_from_suppression(address.key),
                do_not_track=do_not_track,
            )
            Membership.objects.bulk_create(
                [Membership(list=contact_list, contact=contact) for contact_list in lists]
            )
    except IntegrityError:
        if not _address_taken(address.key):
            raise  # another constraint: saying "exists" would send the caller the wrong way
        raise ContactExistsError(f"A contact with the address {address.email} exists.") from None
    return contact
