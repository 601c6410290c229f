"""Reading lists and contacts: list counts, keyset pages of a list's contacts, audiences."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Collate, Lower

from campaigns.models import Contact, ContactList, Membership, Suppression

PAGE_SIZE = 50
# Sorts after every character, so [prefix, prefix + HIGHEST) is exactly "starts with prefix"
# in code point order (SQLite BINARY, PostgreSQL "C", which migration 0002 sets up).
HIGHEST = "\U0010ffff"

# Status filter of a list's contacts page: value -> (label, condition on memberships).
STATUS_FILTERS = {
    "": ("All", Q()),
    "subscribed": ("Subscribed", Q(status=Membership.Status.SUBSCRIBED)),
    "unsubscribed": ("Unsubscribed from this list", Q(status=Membership.Status.UNSUBSCRIBED)),
    "unconfirmed": ("Waiting for confirmation", Q(status=Membership.Status.UNCONFIRMED)),
    # Prefixed: a contact's own "unsubscribed" (from everything) is not the membership's.
    **{
        f"contact-{status}": (f"Contact {label}", Q(contact__status=status))
        for status, label in Contact.Status.choices
    },
}


@dataclass
class ListSummary:
    """A list with its contacts counted by membership and contact status."""

    contact_list: ContactList
    total: int = 0
    subscribed: int = 0
    unsubscribed: int = 0
    unconfirmed: int = 0  # signed up through a double opt-in form, not confirmed yet
    by_contact_status: dict[str, int] = field(default_factory=dict)  # not "enabled" only
    not_sendable: int = 0  # subscribed here, but the contact is not enabled

    @property
    def sendable(self) -> int:
        """Subscribed to the list with an enabled contact (suppressions not counted here)."""
        return self.subscribed - self.not_sendable


def list_summaries(lists: QuerySet[ContactList] | None = None) -> list[ListSummary]:
    """Every list (or those given) with counts, from a few grouped queries.

    Only the total walks every membership (on the unique index); unsubscribed and
    unconfirmed memberships and contacts that are not enabled are few and counted from their
    partial indexes.
    """
    lists = list(ContactList.objects.all() if lists is None else lists)
    summaries = {item.pk: ListSummary(item) for item in lists}
    members = Membership.objects.filter(list__in=summaries).order_by()
    for list_id, n in members.values_list("list_id").annotate(n=Count("*")):
        summaries[list_id].total = summaries[list_id].subscribed = n
    unsubscribed = members.filter(status=Membership.Status.UNSUBSCRIBED)
    for list_id, n in unsubscribed.values_list("list_id").annotate(n=Count("*")):
        summaries[list_id].unsubscribed = n
        summaries[list_id].subscribed -= n
    unconfirmed = members.filter(status=Membership.Status.UNCONFIRMED)
    for list_id, n in unconfirmed.values_list("list_id").annotate(n=Count("*")):
        summaries[list_id].unconfirmed = n
        summaries[list_id].subscribed -= n
    not_enabled = members.exclude(contact__status=Contact.Status.ENABLED)
    for list_id, status, n in not_enabled.values_list("list_id", "contact__status").annotate(
        n=Count("*")
    ):
        summaries[list_id].by_contact_status[status] = n
    not_enabled_subscribed = not_enabled.filter(status=Membership.Status.SUBSCRIBED)
    for list_id, n in not_enabled_subscribed.values_list("list_id").annotate(n=Count("*")):
        summaries[list_id].not_sendable = n
    return [summaries[item.pk] for item in lists]


@dataclass
class ContactPage:
    memberships: list[Membership]
    next_after: str | None  # the `after` cursor of the next page, None on the last page


def _prefix(field_expression, prefix: str) -> Q:
    return Q(**{f"{field_expression}__gte": prefix, f"{field_expression}__lt": prefix + HIGHEST})


def list_members(contact_list: ContactList, *, search: str = "", status: str = "") -> QuerySet:
    """Memberships of the list whose contact matches an email or name prefix, and a status."""
    members = Membership.objects.filter(list=contact_list).select_related("contact")
    members = members.filter(STATUS_FILTERS.get(status, STATUS_FILTERS[""])[1])
    search = search.strip()
    if search:
        name_key = Lower("contact__name")
        if connection.vendor == "postgresql":
            name_key = Collate(name_key, "C")  # matches the index of migration 0002
        members = members.alias(name_key=name_key).filter(
            _prefix("contact__email_key", search.lower()) | _prefix("name_key", search.lower())
        )
    # By key, not as written: the key has the unique index, and USER7@ sorts next to user8@.
    return members.order_by("contact__email_key")


def list_contacts_page(
    contact_list: ContactList,
    *,
    search: str = "",
    status: str = "",
    after: str = "",
    size: int = PAGE_SIZE,
) -> ContactPage:
    """One page of the list's contacts in email_key order, after the cursor (an email_key;
    keyset, no OFFSET)."""
    members = list_members(contact_list, search=search, status=status)
    if after:
        members = members.filter(contact__email_key__gt=after)
    rows = list(members[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return ContactPage(rows, rows[-1].contact.email_key if more else None)


def list_members_iter(
    contact_list: ContactList, *, search: str = "", status: str = "", chunk: int = 2000
) -> Iterator[Membership]:
    """Every matching membership, read in keyset chunks (for exports of any size)."""
    after = ""
    while True:
        page = list_contacts_page(
            contact_list, search=search, status=status, after=after, size=chunk
        )
        yield from page.memberships
        if page.next_after is None:
            return
        after = page.next_after


def list_attribute_keys(contact_list: ContactList) -> list[str]:
    """Every attribute name used by a contact of the list, sorted (the export's columns)."""
    if connection.vendor == "postgresql":
        sql = (
            "SELECT DISTINCT jsonb_object_keys(c.attributes) FROM campaigns_membership m "
            "JOIN campaigns_contact c ON c.id = m.contact_id WHERE m.list_id = %s"
        )
    else:
        sql = (
            "SELECT DISTINCT j.key FROM campaigns_membership m "
            "JOIN campaigns_contact c ON c.id = m.contact_id, json_each(c.attributes) j "
            "WHERE m.list_id = %s"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [contact_list.pk])
        return sorted(row[0] for row in cursor.fetchall())


def suppressed() -> Exists:
    """True for a contact whose address or domain is suppressed (use in filter/annotate)."""
    return Exists(
        Suppression.objects.filter(Q(value=OuterRef("email_key")) | Q(value=OuterRef("domain")))
    )


def list_audience(contact_list: ContactList) -> QuerySet[Contact]:
    """Contacts a campaign to this list may send to: subscribed, enabled, not suppressed."""
    return Contact.objects.filter(
        memberships__list=contact_list,
        memberships__status=Membership.Status.SUBSCRIBED,
        status=Contact.Status.ENABLED,
    ).exclude(suppressed())


def contacts_by_email_prefix(
    prefix: str, *, lists: Iterable[ContactList | int] = (), limit: int = 10
) -> list[Contact]:
    """Contacts whose address starts with `prefix` (in any case), in email_key order;
    only members of `lists` when any are given (the preview's contact picker)."""
    contacts = Contact.objects.all()
    lists = list(lists)
    if lists:
        contacts = contacts.filter(
            Exists(Membership.objects.filter(contact=OuterRef("pk"), list__in=lists))
        )
    prefix = prefix.strip()
    if prefix:
        contacts = contacts.filter(_prefix("email_key", prefix.lower()))
    return list(contacts.order_by("email_key")[:limit])
