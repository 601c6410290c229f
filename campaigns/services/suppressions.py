"""Adding and removing suppressions: addresses and domains nothing is ever sent to."""

from __future__ import annotations

import re
from typing import NamedTuple

from django.db import transaction

from campaigns.emails import InvalidEmailError, normalize_domain, normalize_email
from campaigns.models import Suppression

SEPARATORS = re.compile(r"[\s,;]+")


class SuppressionsAdded(NamedTuple):
    added: int
    already: int
    invalid: list[tuple[str, str]]  # (text as given, why it is not an address or domain)


def suppression_parse(value: str) -> tuple[str, str]:
    """(scope, value) of an address (its email_key) or a domain; InvalidEmailError otherwise."""
    if "@" in value.strip().lstrip("@"):
        return Suppression.Scope.EMAIL, normalize_email(value).key
    return Suppression.Scope.DOMAIN, normalize_domain(value)


def suppression_add(
    *, value: str, reason: str = Suppression.Reason.MANUAL, source: str = "", by=None
) -> tuple[Suppression, bool]:
    """Suppress an address or a whole domain; (entry, created). Raises InvalidEmailError."""
    scope, normalized = suppression_parse(value)
    return Suppression.objects.get_or_create(
        value=normalized,
        defaults={"scope": scope, "reason": reason, "source": source[:200], "created_by": by},
    )


def suppression_add_many(
    *, text: str, reason: str = Suppression.Reason.MANUAL, source: str = "", by=None
) -> SuppressionsAdded:
    """Suppress every address or domain in pasted text (one a line, or comma-separated)."""
    entries: dict[str, str] = {}
    invalid = []
    for item in SEPARATORS.split(text):
        if not item:
            continue
        try:
            scope, value = suppression_parse(item)
        except InvalidEmailError as exc:
            invalid.append((item, str(exc)))
            continue
        entries.setdefault(value, scope)
    with transaction.atomic():
        existing = set(
            Suppression.objects.filter(value__in=list(entries)).values_list("value", flat=True)
        )
        Suppression.objects.bulk_create(
            [
                Suppression(scope=scope, value=value, reason=reason, source=source, created_by=by)
                for value, scope in entries.items()
                if value not in existing
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
    return SuppressionsAdded(len(entries) - len(existing), len(existing), invalid)


def suppression_remove(suppression: Suppression) -> None:
    """Allow sending to the address or domain again (contact statuses are left as they are)."""
    suppression.delete()
