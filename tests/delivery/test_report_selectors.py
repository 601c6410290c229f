"""Selectors behind the dashboards: rates and alarms, throughput, ETA, bounce reasons, site
states, queue status and the export's rows."""

from __future__ import annotations

import datetime as dt

import django_rq
import pytest
from django.utils import timezone

from campaigns.models import Campaign, Contact
from delivery.bounce_effects import Bounce, bounce_record
from delivery.bounces.reasons import Reason
from delivery.dispatch import throttle
from delivery.limits import SiteLimits
from delivery.models import BounceEvent, CampaignStats, Delivery, MinuteStats, ReasonStats
from delivery.selectors.counters import Counters
from delivery.selectors.overview import queue_status
from delivery.selectors.recipients import EXPORT_HEADER, campaign_deliveries_iter
from delivery.selectors.reports import (
    CHART_POINTS,
    REASON_LABELS,
    campaign_bounce_reasons,
    campaign_eta,
    campaign_events,
    campaign_throughput,
)
from tests.factories import make_campaign, make_list
from tests.report_factories import planned_campaign, record

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 25, 12, 0, 30, tzinfo=dt.UTC)


def test_complaint_alarm_starts_at_one_complaint_per_thousand_sent():
    assert Counters(sent=1000, complained=1).complaint_alarm
    assert not Counters(sent=1001, complained=1).complaint_alarm
    assert not Counters(sent=0, complained=0).complaint_alarm
    assert Counters(sent=1000, complained=1).complaint_rate == 0.001


def test_hard_bounce_alarm_starts_at_two_percent_of_answered_messages():
    assert Counters(sent=98, bounced_hard=2).hard_bounce_alarm
    assert not Counters(sent=99, bounced_hard=2).hard_bounce_alarm
    assert not Counters(sent=98, bounced_soft=2).hard_bounce_alarm
    assert Counters(sent=98, bounced_hard=1, bounced_soft=1).bounce_rate == 0.02


def test_progress_counts_every_final_outcome_and_nothing_before_planning():
    counters = Counters(audience=10, queued=2, deferred=1, sent=4, bounced_hard=1, failed=1)
    assert counters.done == 6  # sent, bounced and failed
    assert counters.progress == 60.0
    assert Counters().progress == 0.0
    assert Counters().bounce_rate is None


def minute_rows(campaign: Campaign, rows: dict[int, tuple[int, int, int]], start=NOW) -> None:
    first = start.replace(second=0, microsecond=0)
    MinuteStats.objects.bulk_create(
        MinuteStats(
            campaign=campaign,
            minute=first + dt.timedelta(minutes=offset),
            sent=sent,
            deferred=deferred,
            bounced=bounced,
        )
        for offset, (sent, deferred, bounced) in rows.items()
    )


def test_throughput_has_a_point_per_minute_with_idle_minutes_at_zero():
    campaign = make_campaign(lists=[make_list()])
    minute_rows(campaign, {0: (10, 1, 0), 3: (20, 0, 2)})
    chart = campaign_throughput(campaign, now=NOW + dt.timedelta(minutes=10))
    assert chart.bucket == 1
    assert chart.sent == [10, 0, 0, 20]
    assert chart.deferred == [1, 0, 0, 0]
    assert chart.bounced == [0, 0, 0, 2]
    assert chart.x == [int(NOW.replace(second=0).timestamp()) + 60 * i for i in range(4)]


def test_a_long_campaigns_throughput_is_averaged_into_fewer_points():
    campaign = make_campaign(lists=[make_list()])
    minute_rows(campaign, {0: (10, 0, 0), 1: (30, 0, 0), 2 * CHART_POINTS - 1: (4, 0, 0)})
    chart = campaign_throughput(campaign, now=NOW)
    assert chart.bucket == 2
    assert len(chart.sent) == CHART_POINTS
    assert chart.sent[0] == 20.0  # (10 + 30) messages over 2 minutes
    assert chart.sent[-1] == 2.0


def test_eta_is_the_queued_deliveries_at_the_pace_of_the_last_five_minutes():
    campaign = make_campaign(lists=[make_list()], status=Campaign.Status.SENDING)
    # 12:00:30 looks back to 11:55:30: the minutes 11:55 to 12:00 count, 11:51 does not.
    minute_rows(campaign, {-9: (900, 0, 0), **{-i: (90, 5, 5) for i in range(1, 6)}})
    minute_rows(campaign, {0: (500, 0, 0)})
    chart = campaign_throughput(campaign, now=NOW)
    assert chart.recent_per_minute == 200.0
    eta = campaign_eta(campaign, Counters(audience=2000, queued=1000), chart, now=NOW)
    assert eta == NOW + dt.timedelta(minutes=5)
    campaign.status = Campaign.Status.PAUSED
    assert campaign_eta(campaign, Counters(audience=2000, queued=1000), chart, now=NOW) is None


def test_a_campaign_started_seconds_ago_is_paced_over_at_least_a_minute():
    campaign = make_campaign(
        lists=[make_list()],
        status=Campaign.Status.SENDING,
        started_at=NOW - dt.timedelta(seconds=20),
    )
    minute_rows(campaign, {0: (150, 0, 0)})
    chart = campaign_throughput(campaign, now=NOW)
    assert chart.recent_per_minute == 150.0
    assert chart.sent == [150.0]


def test_a_sending_campaigns_chart_runs_to_the_current_minute():
    campaign = make_campaign(lists=[make_list()], status=Campaign.Status.SENDING)
    minute_rows(campaign, {-3: (10, 0, 0)})
    assert campaign_throughput(campaign, now=NOW).sent == [10, 0, 0, 0]
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.FINISHED)
    campaign.refresh_from_db()
    assert campaign_throughput(campaign, now=NOW).sent == [10]


def test_recording_counts_bounces_by_reason_and_hard_or_soft(redis_db):
    emails = ["a@mail.example", "b@mail.example", "c@mail.example", "d@mail.example"]
    campaign = planned_campaign(emails)
    record(campaign, {"a@mail.example": "unknown", "b@mail.example": "unknown"})
    record(campaign, {"c@mail.example": "full", "d@mail.example": "sent"})
    counts = set(ReasonStats.objects.values_list("reason", "hard", "bounced"))
    assert counts == {("userunknown", True, 2), ("mailboxfull", False, 1)}


def test_export_rows_follow_contacts_chunk_by_chunk_and_keep_deleted_contacts(redis_db):
    emails = [f"p{i}@mail.example" for i in range(7)]
    campaign = planned_campaign(emails)
    record(campaign, {"p1@mail.example": "sent"})
    Contact.objects.filter(email="p2@mail.example").delete()  # its delivery stays, contact NULL
    rows = list(campaign_deliveries_iter(campaign, chunk=2))
    assert [row[0] for row in rows] == [e for e in emails if e != "p2@mail.example"] + [
        "p2@mail.example"
    ]
    assert len(rows[0]) == len(EXPORT_HEADER)
    sent = dict(zip(EXPORT_HEADER, rows[1], strict=True))
    assert (sent["status"], sent["last code"], sent["attempts"]) == ("sent", 250, 1)
    assert sent["sent at"].endswith("+00:00")


def test_site_states_of_many_sites_equal_one_by_one_reads(redis_db):
    reader = throttle()
    reader.slow_down("slow.example", reason="421 4.7.0 Slow down")
    reader.suspend("dead.example", 300, reason="no host answered")
    limits = {site: SiteLimits() for site in ("slow.example", "dead.example", "fine.example")}
    together = reader.states(limits)
    for site, site_limits in limits.items():
        alone = reader.state(site, site_limits)
        assert together[site].status == alone.status
        assert together[site].limits == alone.limits
        assert together[site].reason == alone.reason
    assert [together[s].status for s in limits] == ["slowed", "suspended", "normal"]


def test_queue_status_counts_waiting_jobs(redis_db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # django-rq enqueues on commit
        django_rq.get_queue("imports").enqueue("campaigns.jobs.import_run", 1)
    status = queue_status()
    assert {q.name: q.waiting for q in status.queues} == {
        "transactional": 0,
        "default": 0,
        "imports": 1,
        "delivery": 0,
    }
    assert status.workers == []
    assert status.error == ""


def test_latest_events_read_attempts_up_to_the_last_recorded_result(redis_db):
    campaign = planned_campaign(["a@mail.example"])
    record(campaign, {"a@mail.example": "sent"}, at=timezone.now() - dt.timedelta(hours=1))
    stats = CampaignStats.objects.get(campaign=campaign)
    assert [e.email for e in campaign_events(campaign, until=stats.updated_at)] == [
        "a@mail.example"
    ]
    assert campaign_events(campaign, until=timezone.now() - dt.timedelta(hours=2)) == []


def test_every_bounce_reason_has_words_for_the_reasons_chart():
    assert {reason.value for reason in Reason} - {"feedback", "vacation", "delivered"} <= set(
        REASON_LABELS
    )


def test_a_late_report_of_a_dead_address_moves_its_bounce_from_soft_to_hard(redis_db):
    campaign = planned_campaign(["box@mail.example", "other@mail.example"])
    record(campaign, {"box@mail.example": "full", "other@mail.example": "sent"})
    delivery = Delivery.objects.get(email="box@mail.example")
    late = Bounce(
        delivery_id=delivery.pk,
        kind=BounceEvent.Kind.BOUNCE,
        source=BounceEvent.Source.MAIL,
        report="mail:<late@mx.mail.example>",
        reason="userunknown",
        hard=True,
    )
    bounce_record([late])
    bounce_record([late])  # the same report again counts once
    counts = dict(
        ((reason, hard), n)
        for reason, hard, n in ReasonStats.objects.values_list("reason", "hard", "bounced")
    )
    assert counts == {("mailboxfull", False): 0, ("userunknown", True): 1}
    assert [r.reason for r in campaign_bounce_reasons(campaign)] == ["userunknown"]
