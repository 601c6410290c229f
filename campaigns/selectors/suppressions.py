"""Reading suppressions: is an address suppressed, and pages of the suppression list."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from campaigns.address_hash import address_hashes
from campaigns.emails import InvalidEmailError, normalize_email
from campaigns.models import Suppression
from campaigns.selectors.contacts import HIGHEST, PAGE_SIZE


def suppression_find(email: str) -> Suppression | None:
    """The suppression that covers this address (itself in any case once erased, or its
    domain), or None.

    An address that is not valid is never sendable, but has no suppression: None.
    """
    try:
        address = normalize_email(email)
    except InvalidEmailError:
        return None
    hashes = list(address_hashes([address.email]))
    entries = {
        s.value: s
        for s in Suppression.objects.filter(value__in=[address.key, address.domain, *hashes])
    }
    erased = next((entries[h] for h in hashes if h in entries), None)
    return entries.get(address.key) or erased or entries.get(address.domain)


def email_is_suppressed(email: str) -> bool:
    """Whether nothing may be sent to this address because of a suppression."""
    return suppression_find(email) is not None


LOOKUP_CHUNK = 5000


def erased_among(emails: Iterable[str]) -> set[str]:
    """Which of these normalized addresses were erased (in any case): the ones that must not
    come back as contacts. Costs one index probe when nothing was ever erased."""
    emails = list(emails)
    hashed = Suppression.objects.filter(scope=Suppression.Scope.HASH)
    if not emails or not hashed.exists():
        return set()
    hashes = address_hashes(emails)
    values = list(hashes)
    found: set[str] = set()
    for start in range(0, len(values), LOOKUP_CHUNK):  # SQLite's limit of bound parameters
        chunk = values[start : start + LOOKUP_CHUNK]
        found.update(hashed.filter(value__in=chunk).values_list("value", flat=True))
    return {hashes[value] for value in found}


def address_erased(email: str) -> bool:
    """Whether this address (normalized) was erased at the person's request."""
    return bool(erased_among([email]))


@dataclass
class SuppressionPage:
    suppressions: list[Suppression]
    next_after: str | None


def suppression_page(
    *, search: str = "", after: str = "", size: int = PAGE_SIZE
) -> SuppressionPage:
    """Suppressions in value order whose value starts with `search`, after the cursor."""
    entries = Suppression.objects.order_by("value")
    search = search.strip().lower()
    if search:
        entries = entries.filter(Q(value__gte=search) & Q(value__lt=search + HIGHEST))
    if after:
        entries = entries.filter(value__gt=after)
    rows = list(entries[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return SuppressionPage(rows, rows[-1].value if more else None)
