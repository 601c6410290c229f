"""What the Bounces page reads: events by filter, counts per reason, received messages.

Pages are cut by id (keyset), never by OFFSET, so the thousandth page costs what the first does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from campaigns.models import Campaign
from delivery.bounces import SENDER_SIDE
from delivery.models import Attempt, BounceEvent, InboundMessage

PAGE_SIZE = 50
Kind = BounceEvent.Kind

# The "type" filter: which events each choice keeps.
TYPES = {
    "hard": Q(kind=Kind.BOUNCE, hard=True),
    "soft": Q(kind=Kind.BOUNCE, hard=False) & ~Q(reason__in=SENDER_SIDE),
    "sender": Q(kind=Kind.BOUNCE, reason__in=SENDER_SIDE),
    "complaint": Q(kind=Kind.COMPLAINT),
}


@dataclass(frozen=True)
class BounceFilters:
    campaign_id: int | None = None
    reason: str = ""
    type: str = ""  # a key of TYPES
    since: dt.date | None = None  # first day, inclusive
    until: dt.date | None = None  # last day, inclusive


@dataclass(frozen=True)
class Page:
    rows: list
    older: int | None  # `before` of the next page of older rows
    newer: int | None  # `after` of the previous page of newer rows


@dataclass(frozen=True)
class ReasonCount:
    kind: str
    reason: str
    hard: bool
    count: int

    @property
    def sender_side(self) -> bool:
        return self.reason in SENDER_SIDE


def bounce_events(filters: BounceFilters) -> QuerySet[BounceEvent]:
    """The events that pass the filters, unordered."""
    events = BounceEvent.objects.all()
    if filters.campaign_id:
        events = events.filter(campaign_id=filters.campaign_id)
    if filters.reason:
        events = events.filter(reason=filters.reason)
    if filters.type in TYPES:
        events = events.filter(TYPES[filters.type])
    if filters.since:
        events = events.filter(at__gte=_midnight(filters.since))
    if filters.until:
        events = events.filter(at__lt=_midnight(filters.until + dt.timedelta(days=1)))
    return events


def bounce_events_page(
    filters: BounceFilters, *, before: int | None = None, after: int | None = None
) -> Page:
    """Newest events first, PAGE_SIZE at a time: older than `before`, or newer than `after`."""
    events = bounce_events(filters).select_related("campaign")
    return _page(events, before=before, after=after)


def bounce_reason_counts(filters: BounceFilters) -> list[ReasonCount]:
    """How many events of each reason pass the filters, most first."""
    rows = (
        bounce_events(filters)
        .values("kind", "reason", "hard")
        .annotate(count=Count("id"))
        .order_by("-count", "reason")
    )
    return [ReasonCount(**row) for row in rows]


def bounce_campaigns() -> list[tuple[int, str]]:
    """(id, name) of the campaigns that have bounce events, newest first."""
    has_events = Exists(BounceEvent.objects.filter(campaign=OuterRef("pk")))
    return list(Campaign.objects.filter(has_events).order_by("-id").values_list("id", "name"))


def bounce_event_get(pk: int) -> BounceEvent | None:
    """One event with its campaign, delivery and received message."""
    return (
        BounceEvent.objects.select_related("campaign", "delivery", "inbound").filter(pk=pk).first()
    )


def delivery_attempts(delivery_id: int) -> list[Attempt]:
    """The SMTP tries of a delivery, in order (for bounces refused during delivery)."""
    return list(Attempt.objects.filter(delivery_id=delivery_id).order_by("at", "id"))


def inbound_messages_page(
    *, state: str = "", before: int | None = None, after: int | None = None
) -> Page:
    """Received messages, newest first, without their raw text; `state` filters."""
    messages = InboundMessage.objects.defer("raw", "parsed")
    if state:
        messages = messages.filter(state=state)
    return _page(messages, before=before, after=after)


def inbound_message_get(pk: int) -> InboundMessage | None:
    return InboundMessage.objects.filter(pk=pk).first()


def inbound_message_events(message: InboundMessage) -> list[BounceEvent]:
    return list(message.bounce_events.select_related("campaign").order_by("id"))


def _page(rows: QuerySet, *, before: int | None, after: int | None) -> Page:
    if after is not None:
        found = list(rows.filter(id__gt=after).order_by("id")[: PAGE_SIZE + 1])[::-1]
    else:
        below = rows.filter(id__lt=before) if before is not None else rows
        found = list(below.order_by("-id")[: PAGE_SIZE + 1])
    if after is not None:
        more_newer, found = len(found) > PAGE_SIZE, found[-PAGE_SIZE:]
        more_older = bool(found) and rows.filter(id__lt=found[-1].id).exists()
    else:
        more_older, found = len(found) > PAGE_SIZE, found[:PAGE_SIZE]
        more_newer = before is not None and bool(found) and rows.filter(id__gt=found[0].id).exists()
    return Page(
        found,
        older=found[-1].id if more_older else None,
        newer=found[0].id if more_newer else None,
    )


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))
