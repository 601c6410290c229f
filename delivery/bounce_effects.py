"""bounce_record: what bounces and complaints do, whatever brought them.

Every source ends here (like listmonk's RecordBounce): replies refused while we delivered
(delivery/recording.py), DSNs and ARF reports received by bounce-in or read from the mailbox,
and provider webhooks (delivery/inbound/processing.py). In one transaction, per bounce:

- a BounceEvent row, once per (delivery, report): recording the same report again adds nothing;
- the delivery: queued, deferred or sent → bounced (reason, hard); a soft-bounced delivery
  that later bounces hard becomes hard; sent → complained for a complaint;
- the counters (CampaignStats, SiteStats, ReasonStats) move only when the delivery's status
  does, so they keep adding up to the audience and a report processed twice counts once;
  bounces about the sender also count in CampaignStats.sender_rejected, the deliverability
  alarm;
- the contact: a hard bounce marks it bounced and suppresses the address; soft bounces about
  the recipient (mailbox full, filtered…) do the same once EDM_SOFT_BOUNCE_LIMIT deliveries
  bounced within EDM_SOFT_BOUNCE_DAYS; bounces about the sender (blocked, spam-detected,
  policy, authentication, reputation…) never touch it; a complaint marks it complained,
  suppresses it and unsubscribes it from every list.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services.contacts import contact_mark_bounced, contact_mark_complained
from delivery import counters
from delivery.bounces import SENDER_SIDE
from delivery.bounces.reasons import NOT_BOUNCES
from delivery.models import BounceEvent, CampaignStats, Delivery, ReasonStats, SiteStats

Status = Delivery.Status
Kind = BounceEvent.Kind
# Statuses a bounce moves to bounced: the message is out, or was about to go (a DSN can race
# the recording of its own acceptance after a worker crash).
BOUNCEABLE = (Status.QUEUED, Status.DEFERRED, Status.SENT)
NOT_ABOUT_RECIPIENT = frozenset({*SENDER_SIDE, *NOT_BOUNCES})
REPORT_MAX = 200
MOVED_FIELDS = (
    "status",
    "reason",
    "hard",
    "last_code",
    "last_enhanced",
    "last_reply",
    "next_attempt_at",
    "updated_at",
)


@dataclass(frozen=True)
class Bounce:
    """One bounce or complaint about one delivery, as one report (or reply) said it."""

    delivery_id: int
    kind: str  # BounceEvent.Kind
    source: str  # BounceEvent.Source
    report: str  # identifies the report (notices.report_key): the same one counts once
    reason: str  # delivery/bounces/reasons.py; complaints: "feedback"
    hard: bool = False
    status: str = ""  # enhanced status code
    code: int | None = None  # SMTP reply code
    diagnostic: str = ""
    feedback_type: str = ""  # complaints: abuse, fraud, virus…
    inbound_id: int | None = None  # the received message it came in, if any
    at: dt.datetime | None = None  # when it happened; default now


class BouncesRecorded(NamedTuple):
    known: int  # bounces about a delivery that exists
    bounced: int  # deliveries that became bounced, or went from soft to hard
    complained: int  # deliveries that became complained


def bounce_record(bounces: Sequence[Bounce]) -> BouncesRecorded:
    """Record bounces and complaints: events, deliveries, counters, contacts (see the module)."""
    if not bounces:
        return BouncesRecorded(0, 0, 0)
    now = timezone.now()
    with transaction.atomic():
        deliveries = {
            d.pk: d
            for d in Delivery.objects.select_for_update()
            .filter(pk__in={b.delivery_id for b in bounces})
            .order_by("pk")
            .only("pk", "campaign_id", "contact_id", "email", "site", "status", "hard", "reason")
        }
        known = [b for b in bounces if b.delivery_id in deliveries]
        BounceEvent.objects.bulk_create(
            [_event(b, deliveries[b.delivery_id], now) for b in known],
            ignore_conflicts=True,  # the same report again: its row is already there
            batch_size=500,
        )
        moves = _Moves()
        changed: dict[int, Delivery] = {}
        for bounce in known:
            delivery = deliveries[bounce.delivery_id]
            if _move(delivery, bounce, now, moves):
                changed[delivery.pk] = delivery
        Delivery.objects.bulk_update(changed.values(), MOVED_FIELDS, batch_size=500)
        moves.save(now)
        _contacts_apply(known, deliveries, now)
    return BouncesRecorded(len(known), moves.bounced, moves.complained)


def _event(bounce: Bounce, delivery: Delivery, now: dt.datetime) -> BounceEvent:
    return BounceEvent(
        at=bounce.at or now,
        kind=bounce.kind,
        source=bounce.source,
        delivery_id=delivery.pk,
        campaign_id=delivery.campaign_id,
        contact_id=delivery.contact_id,
        email=delivery.email,
        reason=bounce.reason,
        hard=bounce.hard and bounce.kind == Kind.BOUNCE,
        feedback_type=bounce.feedback_type[:32],
        status=bounce.status[:16],
        code=bounce.code,
        diagnostic=bounce.diagnostic[:1000],
        report=bounce.report[:REPORT_MAX],
        inbound_id=bounce.inbound_id,
    )


class _Moves:
    """Counter changes, per campaign and per (campaign, site), saved in one statement each."""

    SITE_COLUMNS = ("queued", "deferred", "sent", "bounced")

    def __init__(self):
        self.campaigns: defaultdict[int, Counter[str]] = defaultdict(Counter)
        self.sites: defaultdict[tuple[int, str], Counter[str]] = defaultdict(Counter)
        self.reasons: Counter[tuple[int, str, bool]] = Counter()
        self.bounced = 0
        self.complained = 0

    def campaign(self, delivery: Delivery, column: str, n: int) -> None:
        self.campaigns[delivery.campaign_id][column] += n

    def site(self, delivery: Delivery, column: str, n: int) -> None:
        if delivery.site:  # not routed yet: SiteStats never counted it
            self.sites[(delivery.campaign_id, delivery.site)][column] += n

    def reason(self, delivery: Delivery, reason: str, hard: bool, n: int) -> None:
        self.reasons[(delivery.campaign_id, reason, hard)] += n

    def save(self, now: dt.datetime) -> None:
        for campaign_id, moved in self.campaigns.items():
            CampaignStats.objects.filter(campaign_id=campaign_id).update(
                **{column: F(column) + n for column, n in moved.items()}, updated_at=now
            )
        counters.add_many(
            SiteStats,
            key_columns=["campaign_id", "site"],
            rows=[
                {"campaign_id": c, "site": s, **{k: moved[k] for k in self.SITE_COLUMNS}}
                for (c, s), moved in self.sites.items()
            ],
            increment_columns=self.SITE_COLUMNS,
        )
        counters.add_many(
            ReasonStats,
            key_columns=["campaign_id", "reason", "hard"],
            rows=[
                {"campaign_id": c, "reason": reason, "hard": hard, "bounced": n}
                for (c, reason, hard), n in self.reasons.items()
                if n
            ],
            increment_columns=["bounced"],
        )


def _move(delivery: Delivery, bounce: Bounce, now: dt.datetime, moves: _Moves) -> bool:
    """Change the delivery's status for this bounce, and the counters with it; whether it did."""
    if bounce.kind == Kind.COMPLAINT:
        if delivery.status != Status.SENT:
            return False  # complained already, or never delivered: nothing to count
        delivery.status, delivery.reason, delivery.updated_at = Status.COMPLAINED, "feedback", now
        moves.campaign(delivery, "complained", 1)  # on top of sent (docs/DELIVERY.md "Counters")
        moves.complained += 1
        return True
    if delivery.status in BOUNCEABLE:
        moves.campaign(delivery, delivery.status, -1)
        moves.site(delivery, delivery.status, -1)
        moves.site(delivery, "bounced", 1)
        if bounce.reason in SENDER_SIDE:
            moves.campaign(delivery, "sender_rejected", 1)
    elif delivery.status == Status.BOUNCED and delivery.hard is False and bounce.hard:
        moves.campaign(delivery, "bounced_soft", -1)  # a later report found the address dead
        moves.reason(delivery, delivery.reason, False, -1)
    else:
        return False
    moves.campaign(delivery, "bounced_hard" if bounce.hard else "bounced_soft", 1)
    moves.reason(delivery, bounce.reason, bounce.hard, 1)
    moves.bounced += 1
    delivery.status = Status.BOUNCED
    delivery.reason = bounce.reason
    delivery.hard = bounce.hard
    delivery.last_code = bounce.code
    delivery.last_enhanced = bounce.status[:16]
    delivery.last_reply = bounce.diagnostic[:1000]
    delivery.next_attempt_at = None
    delivery.updated_at = now
    return True


def _contacts_apply(
    bounces: Iterable[Bounce], deliveries: dict[int, Delivery], now: dt.datetime
) -> None:
    """The contact side: suppress dead addresses, addresses soft-bouncing too often, and
    complainers; never a recipient for a bounce about the sender."""
    hard: dict[str, Bounce] = {}
    soft: dict[int, tuple[str, Bounce]] = {}
    complained: dict[str, Bounce] = {}
    for bounce in bounces:
        delivery = deliveries[bounce.delivery_id]
        if not delivery.email:
            continue  # erased: its hashed suppression stands, and there is no address to mark
        if bounce.kind == Kind.COMPLAINT:
            complained.setdefault(delivery.email, bounce)
        elif bounce.reason in NOT_ABOUT_RECIPIENT:
            continue
        elif bounce.hard:
            hard.setdefault(delivery.email, bounce)
        elif delivery.contact_id is not None:
            soft[delivery.contact_id] = (delivery.email, bounce)
    names = _campaign_names(
        deliveries[b.delivery_id] for b in [*hard.values(), *complained.values()]
    )
    for email, bounce in hard.items():
        campaign = names[deliveries[bounce.delivery_id].campaign_id]
        contact_mark_bounced(email=email, source=f"hard bounce ({bounce.reason}), {campaign}")
    for email, bounce in complained.items():
        campaign = names[deliveries[bounce.delivery_id].campaign_id]
        kind = bounce.feedback_type or "abuse"
        contact_mark_complained(email=email, source=f"complaint ({kind}), {campaign}")
    limit, days = settings.EDM_SOFT_BOUNCE_LIMIT, settings.EDM_SOFT_BOUNCE_DAYS
    for contact_id in _soft_bouncing(soft, since=now - dt.timedelta(days=days), limit=limit):
        email, bounce = soft[contact_id]
        contact_mark_bounced(
            email=email, source=f"{limit} soft bounces in {days} days (last: {bounce.reason})"
        )


def _soft_bouncing(
    soft: dict[int, tuple[str, Bounce]], *, since: dt.datetime, limit: int
) -> list[int]:
    """Contacts among `soft` with soft bounces about them on `limit` deliveries since `since`."""
    if not soft:
        return []
    counted = (
        BounceEvent.objects.filter(
            contact_id__in=list(soft), kind=Kind.BOUNCE, hard=False, at__gte=since
        )
        .exclude(reason__in=NOT_ABOUT_RECIPIENT)
        .values("contact_id")
        .annotate(deliveries=Count("delivery_id", distinct=True))
        .filter(deliveries__gte=limit)
    )
    return [row["contact_id"] for row in counted]


def _campaign_names(deliveries: Iterable[Delivery]) -> dict[int, str]:
    ids = {d.campaign_id for d in deliveries}
    if not ids:
        return {}
    return {
        pk: f"campaign “{name}”"
        for pk, name in Campaign.objects.filter(pk__in=ids).values_list("pk", "name")
    }
