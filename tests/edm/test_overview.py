"""The overview: sent today and this week, pace, queues and workers, deferred backlog, sites
deferring most, campaigns running or due, deliverability alarms."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from delivery.dispatch import throttle
from delivery.models import CampaignStats, MinuteStats, SiteStats
from delivery.selectors.overview import alarms, overview_get
from tests.factories import make_campaign, make_list
from tests.net import free_port

pytestmark = pytest.mark.django_db

OVERVIEW_QUERIES = 12
WEDNESDAY_NOON = dt.datetime(2026, 11, 25, 12, 0, 30, tzinfo=dt.UTC)


def campaign_with_stats(name: str, status: str = Campaign.Status.SENDING, **stats) -> Campaign:
    campaign = make_campaign(lists=[make_list(f"{name} list")], name=name, status=status)
    if status == Campaign.Status.FINISHED:
        Campaign.objects.filter(pk=campaign.pk).update(finished_at=timezone.now())
    CampaignStats.objects.create(campaign=campaign, **stats)
    return campaign


def minutes(campaign: Campaign, sent_at: dict[dt.datetime, int]) -> None:
    for minute, sent in sent_at.items():
        MinuteStats.objects.create(campaign=campaign, minute=minute, sent=sent)


def fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-field="(\w+)">([^<]*)<', html))


def test_sent_today_and_this_week_are_sums_of_the_minute_counters(redis_db):
    campaign = campaign_with_stats("Weekly")
    monday = WEDNESDAY_NOON.replace(day=23, hour=0, minute=0, second=0)
    minutes(
        campaign,
        {
            WEDNESDAY_NOON.replace(hour=9, minute=0, second=0): 5,
            WEDNESDAY_NOON.replace(hour=0, minute=0, second=0): 6,  # midnight counts as today
            monday: 7,
            monday - dt.timedelta(minutes=1): 100,  # Sunday: last week
        },
    )
    overview = overview_get(now=WEDNESDAY_NOON)
    assert (overview.sent_today, overview.sent_this_week) == (11, 18)


def test_pace_and_last_hour_come_from_the_minutes_of_every_campaign(redis_db):
    first, second = campaign_with_stats("First"), campaign_with_stats("Second")
    this_minute = WEDNESDAY_NOON.replace(second=0)
    for ago in range(1, 6):
        minutes(first, {this_minute - dt.timedelta(minutes=ago): 30})
        minutes(second, {this_minute - dt.timedelta(minutes=ago): 20})
    minutes(first, {this_minute: 50, this_minute - dt.timedelta(minutes=61): 999})
    overview = overview_get(now=WEDNESDAY_NOON)
    assert overview.per_minute == 60.0  # 300 messages from 11:55:30 to 12:00:30
    assert len(overview.last_hour) == 60
    assert overview.last_hour[-1].sent == 50
    assert sum(m.sent for m in overview.last_hour) == 6 * 50


def test_alarms_name_sender_rejections_complaints_and_hard_bounces():
    campaign_with_stats("Blocked", sent=100, bounced_soft=3, sender_rejected=3)
    campaign_with_stats("Complained", sent=1000, complained=1)
    campaign_with_stats("Bouncy", sent=98, bounced_hard=2)
    campaign_with_stats("Fine", sent=1001, complained=1, bounced_hard=1)
    old = campaign_with_stats("Old", Campaign.Status.FINISHED, sent=10, bounced_hard=5)
    Campaign.objects.filter(pk=old.pk).update(finished_at=timezone.now() - dt.timedelta(days=8))
    campaign_with_stats("Recent", Campaign.Status.FINISHED, sent=10, bounced_hard=5)
    found = {(a.campaign.name, a.kind) for a in alarms(now=timezone.now())}
    assert found == {
        ("Blocked", "sender_rejected"),
        ("Complained", "complaints"),
        ("Bouncy", "hard_bounces"),
        ("Recent", "hard_bounces"),
    }


def test_overview_page_shows_backlog_deferring_sites_campaigns_and_alarms(admin_client, redis_db):
    sending = campaign_with_stats("Autumn sale", audience=100, sent=40, deferred=30, queued=30)
    paused = campaign_with_stats("Paused one", Campaign.Status.PAUSED, deferred=500)
    for site, deferred in (("slow.example", 20), ("fine.example", 10)):
        SiteStats.objects.create(campaign=sending, site=site, deferred=deferred)
    SiteStats.objects.create(campaign=paused, site="paused.example", deferred=500)
    throttle().slow_down("slow.example", reason="421 4.7.28 rate limited")
    due = make_campaign(lists=[make_list()], name="Winter sale", status="scheduled")
    Campaign.objects.filter(pk=due.pk).update(scheduled_at=timezone.now() + dt.timedelta(days=1))
    campaign_with_stats("Complained", sent=1000, complained=3)

    html = admin_client.get(reverse("overview")).content.decode()
    assert fields(html)["deferred_backlog"] == "30"  # sending campaigns only
    sites = re.findall(r'<tr data-site="([\w.]+)">', html)
    assert sites == ["slow.example", "fine.example"]
    slow = html[html.index('data-site="slow.example"') :].split("</tr>")[0]
    assert "slowed" in slow
    assert "Autumn sale" in html and "Paused one" in html
    assert "Winter sale" in html
    assert 'data-alarm="complaints"' in html
    assert "complaint rate 0.30% (alarm at 0.1%)" in html
    assert re.findall(r'<tr data-queue="(\w+)">', html) == [
        "transactional",
        "default",
        "imports",
        "delivery",
    ]
    assert "No worker is running" in html
    assert "/static/vendor/uplot/uPlot.iife.min.js" in html


def test_a_fresh_install_points_to_the_lists(admin_client, redis_db):
    html = admin_client.get(reverse("overview")).content.decode()
    assert "No campaigns have been sent yet" in html
    assert reverse("campaigns:list_index") in html


@pytest.mark.parametrize("campaigns", [1, 30])
def test_overview_queries_do_not_grow_with_campaigns_and_sites(
    admin_client, redis_db, django_assert_max_num_queries, campaigns
):
    for i in range(campaigns):
        campaign = campaign_with_stats(f"C{i}", sent=100, complained=i % 2, deferred=i)
        for s in range(3):
            SiteStats.objects.create(campaign=campaign, site=f"s{s}.example", deferred=s + i)
        minutes(campaign, {timezone.now().replace(second=0, microsecond=0): i})
    with django_assert_max_num_queries(OVERVIEW_QUERIES):
        assert admin_client.get(reverse("overview")).status_code == 200


def test_the_overview_shows_site_states_unknown_when_redis_does_not_answer(admin_client, settings):
    campaign = campaign_with_stats("Autumn sale", deferred=3)
    SiteStats.objects.create(campaign=campaign, site="slow.example", deferred=3)
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = admin_client.get(reverse("overview"))
    assert response.status_code == 200
    slow = response.content.decode().split('data-site="slow.example"')[1].split("</tr>")[0]
    assert "unknown" in slow


def test_a_real_worker_shows_as_alive(rq_worker, admin_client):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        html = admin_client.get(reverse("overview")).content.decode()
        if fields(html)["workers"] == "1":
            break
        time.sleep(0.3)
    assert fields(html)["workers"] == "1", rq_worker.output()
    assert "No worker is running" not in html
