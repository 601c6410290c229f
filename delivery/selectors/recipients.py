"""One recipient's story: a campaign's deliveries found by email, a contact's deliveries
across campaigns, each with its attempts; and every delivery of a campaign for the export.

Lookups go through indexes ((campaign, email), (contact), (delivery) of attempts) and read
a page of rows plus their attempts in one more query. The export reads the campaign's
deliveries in keyset chunks along the (campaign, contact) unique index: each chunk is one
short query, so a million rows stream without a long transaction or a server-side cursor
(PostgreSQL materializes a WITH HOLD cursor's whole result before the first row).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from campaigns.models import Campaign, Contact
from delivery.models import Attempt, Delivery

LOOKUP_ROWS = 50
HISTORY_PAGE = 50
EXPORT_CHUNK = 5000
# Sorts after every character, so [prefix, prefix + HIGHEST) is "starts with prefix" in code
# point order (SQLite BINARY; PostgreSQL "C", which delivery's migration 0004 sets up).
HIGHEST = "\U0010ffff"

EXPORT_HEADER = [
    "email",
    "status",
    "reason",
    "hard bounce",
    "attempts",
    "last code",
    "last enhanced code",
    "last reply",
    "sent at",
    "last change at",
    "next attempt at",
    "first open at",  # by a person (machine opens never set it)
    "first click at",
]
_EXPORT_FIELDS = [
    "email",
    "status",
    "reason",
    "hard",
    "attempts",
    "last_code",
    "last_enhanced",
    "last_reply",
    "sent_at",
    "updated_at",
    "next_attempt_at",
    "opened_at",
    "clicked_at",
]


@dataclass(frozen=True)
class RecipientRow:
    delivery: Delivery
    attempts: list[Attempt]


def _with_attempts(deliveries: list[Delivery]) -> list[RecipientRow]:
    """The deliveries with their attempts, oldest first (one query for all of them)."""
    attempts: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in Attempt.objects.filter(delivery__in=[d.pk for d in deliveries]).order_by(
        "at", "id"
    ):
        attempts[attempt.delivery_id].append(attempt)
    return [RecipientRow(d, attempts[d.pk]) for d in deliveries]


def _starts_with(prefix: str) -> Q:
    return Q(email__gte=prefix, email__lt=prefix + HIGHEST)


def campaign_recipients_find(
    campaign: Campaign, query: str, *, limit: int = LOOKUP_ROWS
) -> list[RecipientRow]:
    """The campaign's deliveries whose email starts with `query` (as typed, or lower-cased:
    domains are stored lower-case, local parts as written), in email order.

    One range scan of the (campaign, email) index per spelling, each stopping after `limit`
    rows: an OR of both would read every match of a one-letter query before sorting.
    """
    query = query.strip()
    if not query:
        return []
    found: dict[int, Delivery] = {}
    for prefix in dict.fromkeys([query, query.lower()]):
        deliveries = Delivery.objects.filter(campaign=campaign).filter(_starts_with(prefix))
        found |= {d.pk: d for d in deliveries.order_by("email")[:limit]}
    return _with_attempts(sorted(found.values(), key=lambda d: d.email)[:limit])


@dataclass(frozen=True)
class HistoryPage:
    rows: list[RecipientRow]
    next_before: int | None  # the `before` cursor of the next (older) page


def contact_history_page(
    contact: Contact, *, before: int | None = None, size: int = HISTORY_PAGE
) -> HistoryPage:
    """The contact's deliveries in every campaign, newest first, with their attempts."""
    deliveries = (
        Delivery.objects.filter(contact=contact)
        .select_related("campaign")
        .defer("campaign__html", "campaign__text")
    )
    if before is not None:
        deliveries = deliveries.filter(pk__lt=before)
    found = list(deliveries.order_by("-pk")[: size + 1])
    rows = _with_attempts(found[:size])
    return HistoryPage(rows, found[size - 1].pk if len(found) > size else None)


def campaign_deliveries_iter(
    campaign: Campaign, *, chunk: int = EXPORT_CHUNK
) -> Iterator[tuple[object, ...]]:
    """Every delivery of the campaign as a row of EXPORT_HEADER, in contact order; deliveries
    whose contact was deleted come last."""
    deliveries = Delivery.objects.filter(campaign=campaign)
    yield from _keyset(deliveries, "contact_id", chunk)  # NULL contacts never match `> after`
    yield from _keyset(deliveries.filter(contact=None), "pk", chunk)


def _keyset(deliveries: QuerySet[Delivery], key: str, chunk: int) -> Iterator[tuple[object, ...]]:
    after = 0  # ids start at 1
    while True:
        rows = list(
            deliveries.filter(**{f"{key}__gt": after})
            .order_by(key)
            .values_list(*_EXPORT_FIELDS, key)[:chunk]
        )
        yield from (_export_row(row[:-1]) for row in rows)
        if len(rows) < chunk:
            return
        after = rows[-1][-1]


def _export_row(values: tuple[object, ...]) -> tuple[object, ...]:
    row = [_iso(v) if isinstance(v, dt.datetime) else v for v in values]
    hard = _EXPORT_FIELDS.index("hard")
    row[hard] = {True: "yes", False: "no"}.get(row[hard], "")
    return tuple(row)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")
