"""Recording what happened to a batch: delivery rows, attempts, counters, bounce effects.

One transaction per batch run. Every delivery of a running batch is `queued`; each result
moves it to sent, deferred (with its next try), failed (its retry window is over) or bounced,
and the counters move with it, so CampaignStats and SiteStats always add up to the audience.
Bounces go through `bounce_record`, the one service every source of bounces ends in, which
moves their deliveries and counters and applies the contact side.
`not_attempted` results (no slot, or the campaign was paused) leave the delivery queued.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from campaigns.models import Campaign
from delivery import counters
from delivery.bounce_effects import Bounce, bounce_record
from delivery.models import Attempt, BounceEvent, CampaignStats, Delivery, MinuteStats, SiteStats
from delivery.sending import Outcome, Result

Status = Delivery.Status


@dataclass(frozen=True)
class Recorded:
    sent: int
    deferred: int
    bounced: int
    failed: int
    untouched: int


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff: EDM_RETRY_FIRST_MINUTES doubling per attempt, capped, ±10% jitter
    so deferred mail of one site does not all come back in the same second."""
    first = settings.EDM_RETRY_FIRST_MINUTES * 60
    seconds = min(first * 2 ** max(0, attempts - 1), settings.EDM_RETRY_MAX_MINUTES * 60)
    return dt.timedelta(seconds=seconds * random.uniform(0.9, 1.1))  # noqa: S311 - not security


def results_record(campaign: Campaign, site: str, results: Sequence[Result]) -> Recorded:
    """Apply the results of sending to `site` (a batch run) in one transaction."""
    attempted = [r for r in results if r.outcome is not Outcome.NOT_ATTEMPTED]
    if not attempted:
        return Recorded(0, 0, 0, 0, len(results))
    # Read as tuples: a model instance per delivery cost more than the statement itself.
    deliveries = {
        row[0]: _Known(*row)
        for row in Delivery.objects.filter(pk__in=[r.delivery_id for r in attempted]).values_list(
            "pk", "attempts", "status", "batch_id"
        )
    }
    now = timezone.now()
    window_end = (campaign.started_at or now) + campaign.retry_window
    changed: list[Delivery] = []
    sent_ids: list[int] = []
    bounces: list[Bounce] = []
    tally: Counter[str] = Counter()
    per_minute: Counter[tuple[dt.datetime, str]] = Counter()
    for result in attempted:
        delivery = deliveries.get(result.delivery_id)
        if delivery is None or delivery.status != Status.QUEUED:
            continue  # recorded by an earlier run of this batch, or cancelled meanwhile
        status = _status(result, delivery.attempts + 1, window_end)
        per_minute[(result.at.replace(second=0, microsecond=0), status)] += 1
        if status == Status.BOUNCED:
            bounces.append(_bounce(result))
            continue
        tally[status] += 1
        if status == Status.SENT:
            sent_ids.append(delivery.pk)
            continue
        changed.append(_applied(delivery, result, status, now))

    with transaction.atomic():
        if sent_ids:
            Delivery.objects.filter(pk__in=sent_ids, status=Status.QUEUED).update(
                status=Status.SENT,
                sent_at=now,
                updated_at=now,
                attempts=F("attempts") + 1,
                last_code=250,
                last_enhanced="",
                last_reply="",
                reason="",
            )
        Delivery.objects.bulk_update(
            changed,
            [
                "status",
                "attempts",
                "next_attempt_at",
                "last_code",
                "last_enhanced",
                "last_reply",
                "reason",
                "hard",
                "batch",
                "updated_at",
            ],
            batch_size=500,
        )
        if bounces:
            Delivery.objects.filter(pk__in=[b.delivery_id for b in bounces]).update(
                attempts=F("attempts") + 1
            )
        _attempts_insert([r for r in attempted if r.delivery_id in deliveries])
        _count(campaign.pk, site, tally, per_minute, attempted)
        bounced = bounce_record(bounces).bounced
    return Recorded(
        sent=tally[Status.SENT],
        deferred=tally[Status.DEFERRED],
        bounced=bounced,
        failed=tally[Status.FAILED],
        untouched=len(results) - len(attempted),
    )


def _status(result: Result, attempts: int, window_end: dt.datetime) -> str:
    if result.outcome is Outcome.SENT:
        return Status.SENT
    if result.outcome is Outcome.BOUNCED:
        return Status.BOUNCED
    if result.outcome is Outcome.FAILED:
        return Status.FAILED
    if timezone.now() + retry_delay(attempts) > window_end:
        return Status.FAILED  # deferred, but the retry window ends before the next try
    return Status.DEFERRED


def _bounce(result: Result) -> Bounce:
    """A 5xx reply (or a domain that takes no mail) as a bounce of its delivery."""
    reply = result.reply
    return Bounce(
        delivery_id=result.delivery_id,
        kind=BounceEvent.Kind.BOUNCE,
        source=BounceEvent.Source.DELIVERY,
        report="reply",  # a delivery is refused during delivery at most once
        reason=result.reason,
        hard=result.hard,
        status=(reply.enhanced or "") if reply else "",
        code=reply.code if reply else None,
        diagnostic=(reply.text if reply else result.detail) or "",
        at=result.at,
    )


class _Known(NamedTuple):
    """What recording needs of a delivery before it changes it."""

    pk: int
    attempts: int
    status: str
    batch_id: int | None


def _applied(known: _Known, result: Result, status: str, now: dt.datetime) -> Delivery:
    """The delivery with the result's fields set, for bulk_update (which writes only those)."""
    delivery = Delivery(pk=known.pk, batch_id=known.batch_id)
    delivery.status = status
    delivery.attempts = known.attempts + 1
    delivery.updated_at = now
    reply = result.reply
    delivery.last_code = reply.code if reply else None
    delivery.last_enhanced = (reply.enhanced or "") if reply else ""
    delivery.last_reply = (reply.text if reply else result.detail)[:1000]
    expired = status == Status.FAILED and result.outcome is Outcome.DEFERRED
    delivery.reason = "expired" if expired else result.reason
    delivery.hard = None
    if status == Status.DEFERRED:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        delivery.batch = None  # the retry sweep gives it a new batch when it is due
    else:
        delivery.next_attempt_at = None
    return delivery


ATTEMPT_COLUMNS = (
    "delivery_id",
    "at",
    "outcome",
    "host",
    "address",
    "tls_version",
    "tls_fallback",
    "code",
    "enhanced",
    "text",
)
ATTEMPTS_PER_STATEMENT = 500


def _attempts_insert(results: Sequence[Result]) -> None:
    """One attempt row per result, as plain multi-row INSERTs (no model instance per row)."""
    adapt_time = connection.ops.adapt_datetimefield_value
    rows = [
        (
            r.delivery_id,
            adapt_time(r.at),
            str(r.outcome),
            r.host,
            r.address,
            r.tls_version or "",
            r.tls_fallback,
            r.reply.code if r.reply else None,
            (r.reply.enhanced or "") if r.reply else "",
            ((r.reply.text if r.reply else r.detail) or "")[:1000],
        )
        for r in results
    ]
    table = connection.ops.quote_name(Attempt._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in ATTEMPT_COLUMNS)
    placeholders = "(" + ", ".join(["%s"] * len(ATTEMPT_COLUMNS)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ATTEMPTS_PER_STATEMENT):
            chunk = rows[start : start + ATTEMPTS_PER_STATEMENT]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 - names from the model
                + ", ".join([placeholders] * len(chunk)),
                [value for row in chunk for value in row],
            )


def _count(
    campaign_id: int,
    site: str,
    tally: Counter[str],
    per_minute: Counter[tuple[dt.datetime, str]],
    results: Sequence[Result],
) -> None:
    # Bounced deliveries are counted by bounce_record.
    moved = sum(tally[s] for s in (Status.SENT, Status.DEFERRED, Status.FAILED))
    now = timezone.now()
    if moved:
        CampaignStats.objects.filter(campaign_id=campaign_id).update(
            queued=F("queued") - moved,
            sent=F("sent") + tally[Status.SENT],
            deferred=F("deferred") + tally[Status.DEFERRED],
            failed=F("failed") + tally[Status.FAILED],
            updated_at=now,
        )
    last = next((r for r in reversed(results) if r.reply is not None), None)
    counters.add(
        SiteStats,
        key={"campaign_id": campaign_id, "site": site},
        increments={
            "queued": -moved,
            "sent": tally[Status.SENT],
            "deferred": tally[Status.DEFERRED],
            "failed": tally[Status.FAILED],
        },
        latest={
            "last_code": last.reply.code if last else None,
            "last_reply": str(last.reply)[:1000] if last else None,
            "last_at": now,
        },
    )
    minutes: dict[dt.datetime, dict[str, int]] = {}
    for (minute, status), count in per_minute.items():
        row = minutes.setdefault(minute, {"sent": 0, "deferred": 0, "bounced": 0})
        if status in row:
            row[status] += count
    counters.add_many(
        MinuteStats,
        key_columns=["campaign_id", "minute"],
        rows=[{"campaign_id": campaign_id, "minute": m, **row} for m, row in minutes.items()],
        increment_columns=["sent", "deferred", "bounced"],
    )
