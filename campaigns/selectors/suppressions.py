"""Reading suppressions: is an address suppressed, and pages of the suppression list."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from campaigns.emails import InvalidEmailError, normalize_email
from campaigns.models import Suppression
from campaigns.selectors.contacts import HIGHEST, PAGE_SIZE


def suppression_find(email: str) -> Suppression | None:
    """The suppression that covers this address (itself, or its domain), or None.

    An address that is not valid is never sendable, but has no suppression: None.
    """
    try:
        address = normalize_email(email)
    except InvalidEmailError:
        return None
    entries = {
        s.value: s for s in Suppression.objects.filter(value__in=[address.key, address.domain])
    }
    return entries.get(address.key) or entries.get(address.domain)


def email_is_suppressed(email: str) -> bool:
    """Whether nothing may be sent to this address because of a suppression."""
    return suppression_find(email) is not None


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
