"""A campaign's report, read from the counters the engine keeps.

Every query here reads aggregate rows (CampaignStats, SiteStats, MinuteStats) or a bounded
number of rows through an index, so a page costs the same number of queries, and about the
same time, for a campaign of 100 or of 1,000,000 deliveries ("Dashboards" in
docs/BENCHMARKS.md).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import BigIntegerField, Count, F, Func, Sum
from django.utils import timezone

from campaigns.models import Campaign
from delivery.bounces import SENDER_SIDE
from delivery.models import (
    Attempt,
    Batch,
    BounceEvent,
    CampaignStats,
    MinuteStats,
    ReasonStats,
    SiteStats,
)
from delivery.selectors.counters import Counters
from delivery.selectors.sites import site_states
from delivery.throttle import SiteState

Status = Campaign.Status
FINAL = frozenset({Status.FINISHED, Status.CANCELLED})
RECENT_MINUTES = 5  # the pace (and the ETA) is read over the last minutes
CHART_POINTS = 720  # at most this many points on the throughput chart (12 hours of minutes)
SITE_ROWS = 25  # sites shown one by one; the rest are summed in one row
EVENTS = 20
DURING_DELIVERY = BounceEvent.Source.DELIVERY  # such bounce events are attempts already

# The bounce taxonomy's names (delivery/bounces/reasons.py) in words a marketer reads.
REASON_LABELS = {
    "userunknown": "Unknown address",
    "hostunknown": "Domain does not exist",
    "hasmoved": "Address has moved",
    "notaccept": "Domain takes no mail",
    "mailboxfull": "Mailbox full",
    "suspend": "Mailbox suspended",
    "exceedlimit": "Message over the recipient's limit",
    "systemfull": "Recipient's server full",
    "filtered": "Filtered by the recipient",
    "rejected": "Sender rejected",
    "blocked": "Sender's IP blocked",
    "badreputation": "Sender reputation",
    "requireptr": "No reverse DNS for our IP",
    "authfailure": "SPF/DKIM/DMARC failure",
    "spamdetected": "Judged as spam",
    "virusdetected": "Virus detected",
    "policyviolation": "Policy violation",
    "securityerror": "Security error",
    "norelaying": "Relaying denied",
    "speeding": "Sending too fast",
    "toomanyconn": "Too many connections",
    "mesgtoobig": "Message too big",
    "contenterror": "Content refused",
    "notcompliantrfc": "Message not RFC compliant",
    "expired": "Retries expired",
    "networkerror": "Network error",
    "systemerror": "Recipient's system error",
    "mailererror": "Mailer error",
    "failedstarttls": "STARTTLS failed",
    "syntaxerror": "Protocol error",
    "suppressed": "Suppressed by the provider",
    "onhold": "On hold",
    "undefined": "Unclassified",
}


def reason_label(reason: str) -> str:
    return REASON_LABELS.get(reason, reason or "Unclassified")


@dataclass(frozen=True)
class Throughput:
    """Messages per minute over the campaign's life, in buckets of `bucket` minutes."""

    x: list[int]  # start of each bucket, seconds since the epoch
    sent: list[float]
    deferred: list[float]
    bounced: list[float]
    bucket: int  # minutes per point: 1 until the campaign's life exceeds CHART_POINTS minutes
    recent_per_minute: float  # answers a minute over the last RECENT_MINUTES (recent_pace)

    def as_dict(self) -> dict[str, object]:
        """uPlot's column layout: x in seconds since the epoch, then one list per series."""
        return {
            "x": self.x,
            "sent": self.sent,
            "deferred": self.deferred,
            "bounced": self.bounced,
            "bucket": self.bucket,
            "recent_per_minute": self.recent_per_minute,
        }


@dataclass(frozen=True)
class SiteRow:
    site: str
    queued: int
    sent: int
    deferred: int
    bounced: int
    failed: int
    last_code: int | None
    last_reply: str
    last_at: dt.datetime | None
    state: SiteState | None  # None when Redis did not answer


@dataclass(frozen=True)
class SiteTable:
    rows: list[SiteRow]
    others: SiteRow | None  # the sites not shown, summed (its `site` says how many)
    total_sites: int


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    hard: bool
    count: int
    share: float  # of the campaign's bounces, 0–1

    @property
    def label(self) -> str:
        return reason_label(self.reason)

    @property
    def about_sender(self) -> bool:
        return self.reason in SENDER_SIDE


@dataclass(frozen=True)
class Event:
    """Something that happened to one delivery: an SMTP attempt, or a bounce or complaint
    received after delivery."""

    at: dt.datetime
    kind: str  # an attempt's outcome (sent, deferred, bounced…), "bounce report", "complaint"
    email: str
    delivery_id: int
    host: str  # the MX host of an attempt; how a received report came (bounce message, SES…)
    tls_version: str
    code: int | None
    enhanced: str
    text: str


@dataclass(frozen=True)
class CampaignReport:
    campaign: Campaign
    counters: Counters
    throughput: Throughput
    eta: dt.datetime | None  # when the queued deliveries should be done at the recent pace
    sites: SiteTable
    reasons: list[ReasonCount]
    events: list[Event]
    at: dt.datetime = field(default_factory=timezone.now)

    @property
    def final(self) -> bool:
        """Nothing will change any more (but late bounces and complaints)."""
        return self.campaign.status in FINAL

    @property
    def can_pause(self) -> bool:
        return self.campaign.status == Status.SENDING

    @property
    def can_resume(self) -> bool:
        return self.campaign.status == Status.PAUSED

    @property
    def can_cancel(self) -> bool:
        return self.campaign.status not in FINAL


def campaign_report_get(campaign: Campaign, *, now: dt.datetime | None = None) -> CampaignReport:
    """Everything the report page and its live fragment show (about 8 queries, any size)."""
    now = now or timezone.now()
    stats = CampaignStats.objects.filter(campaign=campaign).first()
    counters = Counters.of(stats, in_flight=campaign_in_flight(campaign))
    throughput = campaign_throughput(campaign, now=now)
    return CampaignReport(
        campaign=campaign,
        counters=counters,
        throughput=throughput,
        eta=campaign_eta(campaign, counters, throughput, now=now),
        sites=campaign_sites(campaign),
        reasons=campaign_bounce_reasons(campaign),
        events=campaign_events(campaign, until=stats.updated_at if stats else None),
        at=now,
    )


def campaign_in_flight(campaign: Campaign) -> int:
    """Deliveries in the batches being sent right now."""
    running = Batch.objects.filter(campaign=campaign, state=Batch.State.RUNNING)
    return running.aggregate(n=Sum("size"))["n"] or 0


class EpochSeconds(Func):
    """Seconds since 1970 of a timestamp column, computed by the database (PostgreSQL, and
    SQLite below): the chart reads a row per minute of a campaign's life, and building an
    aware datetime per row in Python costs more than the query."""

    template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS bigint)"
    output_field = BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        template = "CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400) AS integer)"
        return self.as_sql(compiler, connection, template=template, **extra)


def campaign_throughput(campaign: Campaign, *, now: dt.datetime) -> Throughput:
    """The campaign's outcomes per minute from its first minute to its last (to the current
    minute while it sends), and its recent pace (one query)."""
    rows = list(
        MinuteStats.objects.filter(campaign=campaign)
        .order_by("minute")
        .values_list(EpochSeconds("minute"), "sent", "deferred", "bounced")
    )
    now_s = now.timestamp()
    since = campaign.started_at.timestamp() if campaign.started_at else None
    pace = recent_pace([(at, s + d + b) for at, s, d, b in rows], now=now_s, since=since)
    if not rows:
        return Throughput([], [], [], [], 1, pace)
    first, last = rows[0][0], rows[-1][0]
    if campaign.status == Status.SENDING:
        last = max(last, int(now_s) // 60 * 60)
    span = (last - first) // 60 + 1
    bucket = max(1, math.ceil(span / CHART_POINTS))
    points = math.ceil(span / bucket)
    sent, deferred, bounced = [0.0] * points, [0.0] * points, [0.0] * points
    for at, s, d, b in rows:
        i = (at - first) // 60 // bucket
        sent[i] += s / bucket
        deferred[i] += d / bucket
        bounced[i] += b / bucket
    x = [first + i * bucket * 60 for i in range(points)]
    return Throughput(x, sent, deferred, bounced, bucket, pace)


def recent_pace(
    per_minute: list[tuple[int, int]], *, now: float, since: float | None = None
) -> float:
    """Messages a minute over the last RECENT_MINUTES (or since `since`, when later), the
    current minute included; a window shorter than a minute counts as one minute. Times
    are seconds since the epoch; `per_minute` holds (start of the minute, messages)."""
    start = now - RECENT_MINUTES * 60
    if since is not None and since > start:
        start = since
    first_minute = start - start % 60
    count = sum(n for minute, n in per_minute if first_minute <= minute <= now)
    return count / max((now - start) / 60, 1.0)


def campaign_eta(
    campaign: Campaign, counters: Counters, throughput: Throughput, *, now: dt.datetime
) -> dt.datetime | None:
    """When the queued deliveries will be done at the recent pace; None when not sending or
    without a recent pace. Deferred deliveries come back later, at their own times."""
    if campaign.status != Status.SENDING or not counters.queued:
        return None
    if throughput.recent_per_minute <= 0:
        return None
    return now + dt.timedelta(minutes=counters.queued / throughput.recent_per_minute)


def campaign_sites(campaign: Campaign, *, limit: int = SITE_ROWS) -> SiteTable:
    """The sites with most left to send (then most sent) with their throttle state; the
    others summed in one row."""
    rows = list(
        SiteStats.objects.filter(campaign=campaign)
        .alias(pending=F("queued") + F("deferred"))
        .order_by("-pending", "-sent", "site")[:limit]
    )
    states = site_states(row.site for row in rows)
    shown = [
        SiteRow(
            site=row.site,
            queued=row.queued,
            sent=row.sent,
            deferred=row.deferred,
            bounced=row.bounced,
            failed=row.failed,
            last_code=row.last_code,
            last_reply=row.last_reply,
            last_at=row.last_at,
            state=states.get(row.site),
        )
        for row in rows
    ]
    if len(rows) < limit:
        return SiteTable(shown, None, len(rows))
    totals = SiteStats.objects.filter(campaign=campaign).aggregate(
        sites=Count("id"),
        queued=Sum("queued"),
        sent=Sum("sent"),
        deferred=Sum("deferred"),
        bounced=Sum("bounced"),
        failed=Sum("failed"),
    )
    hidden = totals["sites"] - len(rows)
    if not hidden:
        return SiteTable(shown, None, len(rows))
    others = SiteRow(
        site=f"{hidden} other site{'s' if hidden != 1 else ''}",
        last_code=None,
        last_reply="",
        last_at=None,
        state=None,
        **{
            name: totals[name] - sum(getattr(row, name) for row in rows)
            for name in ("queued", "sent", "deferred", "bounced", "failed")
        },
    )
    return SiteTable(shown, others, totals["sites"])


def campaign_bounce_reasons(campaign: Campaign) -> list[ReasonCount]:
    """The campaign's bounces by reason and hard/soft, most frequent first (counter rows)."""
    groups = list(
        ReasonStats.objects.filter(campaign=campaign, bounced__gt=0)
        .order_by("-bounced", "reason")
        .values_list("reason", "hard", "bounced")
    )
    total = sum(n for _, _, n in groups)
    return [ReasonCount(reason, hard, n, n / total) for reason, hard, n in groups]


def campaign_events(
    campaign: Campaign, *, until: dt.datetime | None = None, limit: int = EVENTS
) -> list[Event]:
    """The campaign's latest SMTP attempts and received bounces and complaints, newest first
    (two queries of at most `limit` rows each).

    Attempts carry no campaign column, so the query walks the attempt_at index backwards
    from the campaign's last recorded result (`until`, CampaignStats.updated_at) and keeps
    the campaign's own: it stops after `limit` of them, however old the campaign is. Bounce
    events are read newest first along their (campaign, id) index; those refused during
    delivery are attempts already and are left out.
    """
    attempts = Attempt.objects.filter(delivery__campaign=campaign)
    if until is not None:
        attempts = attempts.filter(at__lte=until)
    rows = attempts.order_by("-at").values_list(
        "at",
        "outcome",
        "delivery__email",
        "delivery_id",
        "host",
        "tls_version",
        "code",
        "enhanced",
        "text",
    )[:limit]
    events = [Event(*row) for row in rows]
    received = BounceEvent.objects.filter(campaign=campaign).order_by("-id")[:limit]
    events += [_received(event) for event in received if event.source != DURING_DELIVERY]
    events.sort(key=lambda event: event.at, reverse=True)
    return events[:limit]


def _received(event: BounceEvent) -> Event:
    complaint = event.kind == BounceEvent.Kind.COMPLAINT
    return Event(
        at=event.at,
        kind="complaint" if complaint else "bounce report",
        email=event.email,
        delivery_id=event.delivery_id,
        host=event.get_source_display(),
        tls_version="",
        code=event.code,
        enhanced=event.status,
        text=event.feedback_type if complaint else f"{event.reason}: {event.diagnostic}",
    )
