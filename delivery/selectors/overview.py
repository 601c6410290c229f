"""The overview: what went out today and this week, the pace now, queues and workers, what is
waiting, which sites push back, the campaigns running or due, and deliverability alarms.

Read from counter rows only (MinuteStats through its minute index, CampaignStats, SiteStats
of sending campaigns) plus a few Redis round trips (queues, workers, site states): about 9
queries, whatever the number of deliveries.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import redis
from django.db.models import F, Q, Sum
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import CampaignStats, MinuteStats, SiteStats
from delivery.selectors.campaigns import CONTENT_FIELDS, CampaignRow
from delivery.selectors.counters import (
    COMPLAINT_ALARM_ONE_IN,
    HARD_BOUNCE_ALARM_ONE_IN,
    Counters,
    stats_of,
)
from delivery.selectors.queues import QueueDepth, WorkerSummary, queue_depths, workers_alive
from delivery.selectors.reports import recent_pace
from delivery.selectors.sites import site_states
from delivery.throttle import SiteState

log = logging.getLogger(__name__)

Status = Campaign.Status
CHART_MINUTES = 60
DEFERRING_SITES = 5
CAMPAIGNS_SHOWN = 10
ALARM_DAYS = 7  # finished campaigns are watched for alarms this long after they end


@dataclass(frozen=True)
class MinuteCount:
    minute: dt.datetime
    sent: int
    deferred: int
    bounced: int


@dataclass(frozen=True)
class DeferringSite:
    site: str
    deferred: int
    queued: int
    state: SiteState | None  # None when Redis did not answer


@dataclass(frozen=True)
class Alarm:
    campaign: Campaign
    kind: str  # sender_rejected, complaints, hard_bounces
    text: str


@dataclass(frozen=True)
class QueueStatus:
    queues: list[QueueDepth]
    workers: list[WorkerSummary]
    error: str = ""  # set when Redis did not answer


@dataclass(frozen=True)
class Overview:
    sent_today: int
    sent_this_week: int
    per_minute: float  # answers a minute over the last minutes (reports.recent_pace)
    last_hour: list[MinuteCount]
    queues: QueueStatus
    deferred_backlog: int
    deferring_sites: list[DeferringSite]
    active: list[CampaignRow]
    scheduled: list[Campaign]
    alarms: list[Alarm]
    has_campaigns: bool  # False on a fresh install: the page says where to start
    at: dt.datetime = field(default_factory=timezone.now)

    def last_hour_chart(self) -> dict[str, list]:
        """uPlot's column layout of the last hour, one point per minute."""
        return {
            "x": [int(m.minute.timestamp()) for m in self.last_hour],
            "sent": [m.sent for m in self.last_hour],
            "deferred": [m.deferred for m in self.last_hour],
            "bounced": [m.bounced for m in self.last_hour],
        }


def overview_get(*, now: dt.datetime | None = None) -> Overview:
    """Everything the overview page shows."""
    now = now or timezone.now()
    today, week = _day_and_week_start(now)
    sent = MinuteStats.objects.filter(minute__gte=min(today, week)).aggregate(
        week=Sum("sent", filter=Q(minute__gte=week)),
        today=Sum("sent", filter=Q(minute__gte=today)),
    )
    last_hour = _last_hour(now)
    backlog = CampaignStats.objects.filter(campaign__status=Status.SENDING).aggregate(
        n=Sum("deferred")
    )["n"]
    return Overview(
        sent_today=sent["today"] or 0,
        sent_this_week=sent["week"] or 0,
        per_minute=recent_pace(
            [(m.minute.timestamp(), m.sent + m.deferred + m.bounced) for m in last_hour],
            now=now.timestamp(),
        ),
        last_hour=last_hour,
        queues=queue_status(),
        deferred_backlog=backlog or 0,
        deferring_sites=deferring_sites(),
        active=[
            CampaignRow(c, Counters.of(stats_of(c)))
            for c in Campaign.objects.filter(status__in=[Status.SENDING, Status.PAUSED])
            .select_related("stats")
            .defer(*CONTENT_FIELDS)
            .order_by("-id")[:CAMPAIGNS_SHOWN]
        ],
        scheduled=list(
            Campaign.objects.filter(status=Status.SCHEDULED)
            .defer(*CONTENT_FIELDS)
            .order_by("scheduled_at", "id")[:CAMPAIGNS_SHOWN]
        ),
        alarms=alarms(now=now),
        has_campaigns=Campaign.objects.exists(),
        at=now,
    )


def queue_status() -> QueueStatus:
    """Jobs per queue and the workers alive; the error instead when Redis does not answer."""
    try:
        return QueueStatus(queue_depths(), workers_alive())
    except redis.RedisError as exc:
        log.warning("Redis did not answer the queue status.", exc_info=True)
        return QueueStatus([], [], error=f"Redis did not answer: {exc}")


def _day_and_week_start(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Midnight today and on Monday, in the product's time zone (TIME_ZONE)."""
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight, midnight - dt.timedelta(days=local.weekday())


def _last_hour(now: dt.datetime) -> list[MinuteCount]:
    """Every campaign's outcomes per minute over the last hour, zeros included."""
    this_minute = now.replace(second=0, microsecond=0)
    start = this_minute - dt.timedelta(minutes=CHART_MINUTES - 1)
    rows = (
        MinuteStats.objects.filter(minute__gte=start)
        .values("minute")
        .annotate(sent=Sum("sent"), deferred=Sum("deferred"), bounced=Sum("bounced"))
        .order_by()
    )
    found = {row["minute"]: row for row in rows}
    minutes = [start + dt.timedelta(minutes=i) for i in range(CHART_MINUTES)]
    return [
        MinuteCount(m, *(found.get(m, {}).get(k) or 0 for k in ("sent", "deferred", "bounced")))
        for m in minutes
    ]


def deferring_sites(limit: int = DEFERRING_SITES) -> list[DeferringSite]:
    """The sites with most deliveries waiting for a retry, over every sending campaign."""
    rows = list(
        SiteStats.objects.filter(campaign__status=Status.SENDING, deferred__gt=0)
        .values("site")
        .annotate(deferred=Sum("deferred"), queued=Sum("queued"))
        .order_by("-deferred", "site")[:limit]
    )
    states = site_states(row["site"] for row in rows)
    return [
        DeferringSite(row["site"], row["deferred"], row["queued"], states.get(row["site"]))
        for row in rows
    ]


def alarms(*, now: dt.datetime) -> list[Alarm]:
    """Campaigns sending, paused or finished within ALARM_DAYS whose numbers should worry:
    any bounce about the sender, complaint rate ≥ 0.1 %, hard bounce rate ≥ 2 % (one query)."""
    answered = F("sent") + F("bounced_hard") + F("bounced_soft")
    worrying = (
        Q(sender_rejected__gt=0)
        | Q(complained__gt=0, complaints_scaled__gte=F("sent"))
        | Q(bounced_hard__gt=0, hard_bounces_scaled__gte=answered)
    )
    watched = Q(campaign__status__in=[Status.SENDING, Status.PAUSED]) | Q(
        campaign__finished_at__gte=now - dt.timedelta(days=ALARM_DAYS)
    )
    found = (
        CampaignStats.objects.alias(
            complaints_scaled=F("complained") * COMPLAINT_ALARM_ONE_IN,
            hard_bounces_scaled=F("bounced_hard") * HARD_BOUNCE_ALARM_ONE_IN,
        )
        .filter(watched)
        .filter(worrying)
        .select_related("campaign")
        .defer(*(f"campaign__{name}" for name in CONTENT_FIELDS))
        .order_by("-campaign_id")[:CAMPAIGNS_SHOWN]
    )
    return [alarm for stats in found for alarm in _alarms_of(stats)]


def _alarms_of(stats: CampaignStats) -> list[Alarm]:
    counters = Counters.of(stats)
    found = []
    if counters.sender_rejected:
        n = counters.sender_rejected
        found.append(
            Alarm(
                stats.campaign,
                "sender_rejected",
                f"{n:,} bounce{'s' if n != 1 else ''} about the sender "
                "(blocked, spam, policy, authentication)",
            )
        )
    if counters.complaint_alarm:
        rate = counters.complaint_rate
        found.append(
            Alarm(stats.campaign, "complaints", f"complaint rate {rate:.2%} (alarm at 0.1%)")
        )
    if counters.hard_bounce_alarm:
        rate = counters.hard_bounce_rate
        found.append(
            Alarm(stats.campaign, "hard_bounces", f"hard bounce rate {rate:.2%} (alarm at 2%)")
        )
    return found
