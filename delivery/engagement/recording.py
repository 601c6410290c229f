"""The engagement recorder: drains events from Redis in batches into counters and deliveries.

One recorder runs at a time (a Redis lock), so "first open" is decided without races: for
each batch it reads the deliveries concerned once, classifies every event, then in one
transaction sets `opened_at` / `clicked_at` where they are still empty (one statement each)
and adds to the counters (one upsert per table). A burst of a thousand clicks is a handful
of statements.

Unique counts are those first-time transitions: `EngagementStats.opened` grows by the
deliveries whose `opened_at` this recorder set, so a person opening five times is one. A
click by a person also sets `opened_at`: they saw the message even if images were blocked,
so the click-to-open rate never exceeds 100%.

Events are dropped, not recorded, for a delivery that no longer exists, a contact who asked
not to be tracked, who is unsubscribed, or who unsubscribed through this campaign before the
event. They are removed from Redis only after their transaction commits: a recorder killed
in between records that batch again when the next one runs (counts may then be high by one
batch; unique counts and first times are not affected).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.db import transaction
from django.db.models import Case, DateTimeField, Value, When
from django.utils import timezone

from campaigns.models import Contact, Unsubscribe
from delivery import counters, jobs_queue
from delivery.engagement import events as event_queue
from delivery.engagement.classify import Click, Verdict, burst_clicks, classify_click, classify_open
from delivery.engagement.events import Event
from delivery.engagement.links import link_url
from delivery.engagement.tokens import EventKind
from delivery.models import (
    Delivery,
    EngagementStats,
    HourEngagement,
    Link,
    LinkClick,
    SiteEngagement,
)
from edm import queues
from edm.redis import connection

BATCH = 1000
# One recorder job records at most this many batches, then hands over to a new job, so no
# job runs into RQ's timeout.
BATCHES_PER_JOB = 100
LOCK_KEY = "edm:engagement:recorder"
LOCK_SECONDS = 120  # a recorder that died frees the lock after this long
# A recorder woken just as another finishes waits for it this long (its last look at the
# list and the release take microseconds).
LOCK_WAIT_SECONDS = 5


def engagement_record() -> int:
    """Record every queued engagement event; returns how many events were taken."""
    lock = connection().lock(LOCK_KEY, timeout=LOCK_SECONDS, blocking_timeout=LOCK_WAIT_SECONDS)
    # A recorder still holding the lock after the wait is draining, and will drain what woke
    # this one too (it looks at the list again before it stops).
    if not lock.acquire():
        return 0
    taken = 0
    try:
        for _ in range(BATCHES_PER_JOB):
            raw = event_queue.events_peek(BATCH)
            if not raw:
                if event_queue.recorder_sleep():
                    return taken
                continue
            with transaction.atomic():
                events_record([e for e in map(Event.decode, raw) if e is not None])
            event_queue.events_drop(len(raw))
            taken += len(raw)
            lock.reacquire()
        jobs_queue.enqueue_now(queues.DEFAULT, event_queue.RECORD_JOB)
        return taken
    finally:
        lock.release()


class _Target(NamedTuple):
    """What recording needs of the delivery an event names."""

    pk: int
    campaign_id: int
    site: str
    sent_at: dt.datetime | None
    opened_at: dt.datetime | None
    clicked_at: dt.datetime | None
    contact_id: int | None
    contact_status: str | None
    do_not_track: bool | None


class _Tally:
    """What one batch adds, by table."""

    def __init__(self):
        self.campaigns: dict[int, Counter] = defaultdict(Counter)
        # Keyed by the counter row's key columns.
        self.hours: dict[tuple[int, dt.datetime], Counter] = defaultdict(Counter)
        self.links: dict[tuple[int, int], Counter] = defaultdict(Counter)
        self.sites: dict[tuple[int, str], Counter] = defaultdict(Counter)
        self.first_open: dict[int, dt.datetime] = {}
        self.first_click: dict[int, dt.datetime] = {}
        self.link_clicks: dict[tuple[int, int], dt.datetime] = {}

    def add(self, event: Event, target: _Target, verdict: Verdict) -> None:
        campaign = target.campaign_id
        at = event.signals.at
        hour = at.replace(minute=0, second=0, microsecond=0)
        if event.kind is EventKind.OPEN:
            name = "opens" if verdict is Verdict.HUMAN else "opens_machine"
        else:
            name = "clicks" if verdict is Verdict.HUMAN else "clicks_bot"
            link = (campaign, event.mark.link_index)
            self.links[link]["clicks" if verdict is Verdict.HUMAN else "bot_clicks"] += 1
        self.campaigns[campaign][name] += 1
        self.hours[(campaign, hour)][name] += 1
        if verdict is not Verdict.HUMAN:
            return
        if target.opened_at is None:
            _earliest(self.first_open, target.pk, at)
        if event.kind is EventKind.CLICK:
            if target.clicked_at is None:
                _earliest(self.first_click, target.pk, at)
            _earliest(self.link_clicks, (target.pk, event.mark.link_index), at)


def events_record(events: Sequence[Event]) -> None:
    """Classify and record one batch of events (inside the caller's transaction)."""
    targets = _targets({e.mark.delivery_id for e in events})
    left = _unsubscribed_at(targets.values())
    events = [
        e
        for e in events
        if (t := targets.get(e.mark.delivery_id)) is not None
        and t.campaign_id == e.mark.campaign_id
        and _trackable(t, e, left)
    ]
    tally = _Tally()
    for event, verdict in _classified(events, targets):
        tally.add(event, targets[event.mark.delivery_id], verdict)
    _write(tally, targets)


def _targets(delivery_ids: set[int]) -> dict[int, _Target]:
    rows = Delivery.objects.filter(pk__in=delivery_ids).values_list(
        "pk",
        "campaign_id",
        "site",
        "sent_at",
        "opened_at",
        "clicked_at",
        "contact_id",
        "contact__status",
        "contact__do_not_track",
    )
    return {row[0]: _Target(*row) for row in rows}


def _unsubscribed_at(targets: Iterable[_Target]) -> dict[tuple[int, int], dt.datetime]:
    """When each of these recipients unsubscribed through the campaign, for those who did."""
    targets = list(targets)
    rows = Unsubscribe.objects.filter(
        campaign_id__in={t.campaign_id for t in targets},
        contact_id__in={t.contact_id for t in targets if t.contact_id is not None},
    ).values_list("campaign_id", "contact_id", "created_at")
    return {(campaign, contact): at for campaign, contact, at in rows}


def _trackable(target: _Target, event: Event, left: dict[tuple[int, int], dt.datetime]) -> bool:
    if target.contact_id is None or target.do_not_track:
        return False
    if target.contact_status == Contact.Status.UNSUBSCRIBED:
        return False
    unsubscribed = left.get((target.campaign_id, target.contact_id))
    return unsubscribed is None or event.signals.at < unsubscribed


def _classified(
    events: Sequence[Event], targets: dict[int, _Target]
) -> Iterable[tuple[Event, Verdict]]:
    clicks_by_delivery: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        if event.kind is EventKind.OPEN:
            yield event, classify_open(event.signals)
        else:
            clicks_by_delivery[event.mark.delivery_id].append(event)
    for delivery_id, clicks in clicks_by_delivery.items():
        burst = burst_clicks([Click(e.mark.link_index, e.signals.at) for e in clicks])
        sent_at = targets[delivery_id].sent_at
        for position, event in enumerate(clicks):
            yield event, classify_click(event.signals, sent_at=sent_at, in_burst=position in burst)


def _write(tally: _Tally, targets: dict[int, _Target]) -> None:
    for field, firsts, name in (
        ("opened_at", tally.first_open, "opened"),
        ("clicked_at", tally.first_click, "clicked"),
    ):
        _set_first(field, firsts)
        for delivery_id in firsts:
            target = targets[delivery_id]
            tally.campaigns[target.campaign_id][name] += 1
            tally.sites[(target.campaign_id, target.site)][name] += 1
    _add_link_clicks(tally, targets)
    now = timezone.now()
    _add(
        EngagementStats,
        {(c,): {"updated_at": now, **n} for c, n in tally.campaigns.items()},
        ["campaign_id"],
        ["opened", "clicked", "opens", "clicks", "opens_machine", "clicks_bot"],
        latest=["updated_at"],
    )
    _add(
        HourEngagement,
        tally.hours,
        ["campaign_id", "hour"],
        ["opens", "clicks", "opens_machine", "clicks_bot"],
    )
    # The url only makes the row valid to insert; the row exists (stored at compiling).
    _add(
        Link,
        {(c, i): {"url": link_url(c, i) or "", **n} for (c, i), n in tally.links.items()},
        ["campaign_id", "index"],
        ["clicks", "unique_clicks", "bot_clicks"],
        latest=["url"],
    )
    _add(SiteEngagement, tally.sites, ["campaign_id", "site"], ["opened", "clicked"])


def _add(model, tallies: dict[tuple, dict], keys: list[str], counted: list[str], latest=()):
    """Add each key's tally to the model's counter row (zero for what it did not count)."""
    rows = [
        {
            **dict(zip(keys, key, strict=True)),
            **{name: tally.get(name, 0) for name in counted},
            **{name: tally[name] for name in latest},
        }
        for key, tally in tallies.items()
    ]
    counters.add_many(
        model, key_columns=keys, rows=rows, increment_columns=counted, latest_columns=latest
    )


def _set_first(field: str, firsts: dict[int, dt.datetime]) -> None:
    """Set `field` of these deliveries where it is still empty, in one statement."""
    if not firsts:
        return
    value = Case(
        *(When(pk=pk, then=Value(at)) for pk, at in firsts.items()),
        output_field=DateTimeField(),
    )
    Delivery.objects.filter(pk__in=firsts, **{f"{field}__isnull": True}).update(**{field: value})


def _add_link_clicks(tally: _Tally, targets: dict[int, _Target]) -> None:
    """Store first clicks per delivery and link; the new ones are unique clicks of the link."""
    if not tally.link_clicks:
        return
    known = set(
        LinkClick.objects.filter(delivery_id__in={d for d, _ in tally.link_clicks}).values_list(
            "delivery_id", "link_index"
        )
    )
    new = [(pair, at) for pair, at in tally.link_clicks.items() if pair not in known]
    LinkClick.objects.bulk_create(
        [LinkClick(delivery_id=d, link_index=i, at=at) for (d, i), at in new]
    )
    for (delivery_id, index), _at in new:
        tally.links[(targets[delivery_id].campaign_id, index)]["unique_clicks"] += 1


def _earliest(firsts: dict, key, at: dt.datetime) -> None:
    if key not in firsts or at < firsts[key]:
        firsts[key] = at
