"""The recorder turns queued events into honest counters and first-open / first-click times."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import Contact, Unsubscribe
from delivery.engagement.classify import BURST_SECONDS, Agent, Network
from delivery.engagement.events import EVENTS_KEY, event_push
from delivery.engagement.recording import engagement_record
from delivery.engagement.tokens import EventKind
from delivery.models import Delivery, EngagementStats, HourEngagement, Link, SiteEngagement
from tests.engagement_factories import event, sent_campaign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("redis_db")]

OPEN, CLICK = EventKind.OPEN, EventKind.CLICK
EMAILS = ["ann@gmail.com", "bo@icloud.com", "cy@corp.example"]


def stats(campaign) -> EngagementStats:
    return EngagementStats.objects.get(campaign=campaign)


def push(*events) -> None:
    for e in events:
        event_push(e)


def test_a_person_opening_five_times_is_one_unique_open_and_five_opens(redis_db):
    campaign, d = sent_campaign(EMAILS)
    start = timezone.now().replace(microsecond=0)  # events keep milliseconds
    push(*(event(OPEN, d["ann@gmail.com"], at=start + dt.timedelta(minutes=i)) for i in range(5)))
    assert engagement_record() == 5
    s = stats(campaign)
    assert (s.opened, s.opens, s.opens_machine) == (1, 5, 0)
    assert Delivery.objects.get(pk=d["ann@gmail.com"].pk).opened_at == start
    assert redis_db.llen(EVENTS_KEY) == 0


def test_a_later_batch_never_moves_the_first_open_or_counts_the_person_again():
    campaign, d = sent_campaign(EMAILS)
    first = timezone.now().replace(microsecond=0)  # events keep milliseconds
    push(event(OPEN, d["ann@gmail.com"], at=first))
    engagement_record()
    push(event(OPEN, d["ann@gmail.com"], at=first + dt.timedelta(hours=2)))
    engagement_record()
    assert (stats(campaign).opened, stats(campaign).opens) == (1, 2)
    assert Delivery.objects.get(pk=d["ann@gmail.com"].pk).opened_at == first


def test_opens_through_apples_proxy_are_machine_opens_and_set_no_open_time():
    campaign, d = sent_campaign(EMAILS)
    push(
        event(OPEN, d["bo@icloud.com"], agent=Agent.GENERIC, network=Network.APPLE),
        event(OPEN, d["cy@corp.example"], agent=Agent.GENERIC),
    )
    engagement_record()
    s = stats(campaign)
    assert (s.opened, s.opens, s.opens_machine) == (0, 0, 2)
    assert not Delivery.objects.filter(campaign=campaign, opened_at__isnull=False).exists()


def test_googles_image_proxy_counts_as_the_person_opening():
    campaign, d = sent_campaign(EMAILS)
    push(event(OPEN, d["ann@gmail.com"], agent=Agent.PERSON_PROXY))
    engagement_record()
    assert (stats(campaign).opened, stats(campaign).opens_machine) == (1, 0)


def test_a_scanner_hitting_every_link_of_a_message_counts_bot_clicks_only():
    campaign, d = sent_campaign(EMAILS)
    start = timezone.now().replace(microsecond=0)  # events keep milliseconds
    step = dt.timedelta(seconds=BURST_SECONDS / 10)
    push(*(event(CLICK, d["cy@corp.example"], link=i, at=start + i * step) for i in (1, 2, 3)))
    engagement_record()
    s = stats(campaign)
    assert (s.clicked, s.clicks, s.clicks_bot, s.opened) == (0, 0, 3, 0)
    links = Link.objects.filter(campaign=campaign).order_by("index")
    assert [(link.clicks, link.unique_clicks, link.bot_clicks) for link in links] == [(0, 0, 1)] * 3
    assert Delivery.objects.get(pk=d["cy@corp.example"].pk).clicked_at is None


def test_head_requests_and_scanner_agents_are_bot_clicks():
    campaign, d = sent_campaign(EMAILS)
    push(
        event(CLICK, d["ann@gmail.com"], link=1, head=True),
        event(CLICK, d["bo@icloud.com"], link=1, agent=Agent.SCANNER),
    )
    engagement_record()
    assert (stats(campaign).clicks, stats(campaign).clicks_bot) == (0, 2)


def test_a_click_seconds_after_delivery_is_a_scanners():
    sent_at = timezone.now().replace(microsecond=0)  # events keep milliseconds
    campaign, d = sent_campaign(EMAILS, sent_at=sent_at)
    push(event(CLICK, d["ann@gmail.com"], link=1, at=sent_at + dt.timedelta(seconds=1)))
    engagement_record()
    assert (stats(campaign).clicked, stats(campaign).clicks_bot) == (0, 1)


def test_a_person_clicking_counts_a_unique_click_per_link_and_an_open():
    campaign, d = sent_campaign(EMAILS)
    start = timezone.now().replace(microsecond=0)  # events keep milliseconds
    ann = d["ann@gmail.com"]
    push(
        event(CLICK, ann, link=1, at=start),
        event(CLICK, ann, link=1, at=start + dt.timedelta(minutes=5)),
        event(CLICK, ann, link=2, at=start + dt.timedelta(minutes=9)),
        event(CLICK, d["bo@icloud.com"], link=1, at=start + dt.timedelta(minutes=1)),
    )
    engagement_record()
    s = stats(campaign)
    assert (s.clicked, s.clicks, s.opened, s.clicks_bot) == (2, 4, 2, 0)
    links = {link.index: link for link in Link.objects.filter(campaign=campaign)}
    assert (links[1].url, links[1].clicks, links[1].unique_clicks) == (
        "https://shop.example/sale",
        3,
        2,
    )
    assert (links[2].clicks, links[2].unique_clicks, links[3].clicks) == (1, 1, 0)
    row = Delivery.objects.get(pk=ann.pk)
    assert row.clicked_at == start and row.opened_at == start


def test_unique_link_clicks_hold_across_batches():
    campaign, d = sent_campaign(EMAILS)
    push(event(CLICK, d["ann@gmail.com"], link=1))
    engagement_record()
    push(event(CLICK, d["ann@gmail.com"], link=1))
    engagement_record()
    link = Link.objects.get(campaign=campaign, index=1)
    assert (link.clicks, link.unique_clicks) == (2, 1)


def test_opens_and_clicks_are_counted_per_hour_for_the_chart():
    campaign, d = sent_campaign(EMAILS)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=3)
    push(
        event(OPEN, d["ann@gmail.com"], at=hour + dt.timedelta(minutes=10)),
        event(OPEN, d["bo@icloud.com"], at=hour + dt.timedelta(minutes=50), network=Network.APPLE),
        event(CLICK, d["ann@gmail.com"], link=1, at=hour + dt.timedelta(hours=1, minutes=1)),
    )
    engagement_record()
    rows = HourEngagement.objects.filter(campaign=campaign).order_by("hour")
    assert [(r.hour, r.opens, r.opens_machine, r.clicks) for r in rows] == [
        (hour, 1, 1, 0),
        (hour + dt.timedelta(hours=1), 0, 0, 1),
    ]


def test_unique_opens_and_clicks_are_counted_per_site():
    sites = {"gmail.com": "google", "icloud.com": "apple", "corp.example": "corp.example"}
    campaign, d = sent_campaign(EMAILS, sites=sites)
    push(event(OPEN, d["ann@gmail.com"]), event(CLICK, d["bo@icloud.com"], link=2))
    engagement_record()
    rows = SiteEngagement.objects.filter(campaign=campaign).order_by("site")
    assert [(r.site, r.opened, r.clicked) for r in rows] == [("apple", 1, 1), ("google", 1, 0)]


def test_a_contact_who_asked_not_to_be_tracked_is_not_recorded():
    campaign, d = sent_campaign(EMAILS)
    Contact.objects.filter(email="ann@gmail.com").update(do_not_track=True)
    push(event(OPEN, d["ann@gmail.com"]), event(CLICK, d["ann@gmail.com"], link=1))
    engagement_record()
    assert not EngagementStats.objects.filter(campaign=campaign).exists()
    assert Delivery.objects.get(pk=d["ann@gmail.com"].pk).opened_at is None


def test_events_after_an_unsubscribe_are_dropped_and_those_before_kept():
    campaign, d = sent_campaign(EMAILS)
    left = timezone.now().replace(microsecond=0)  # events keep milliseconds
    contact = Contact.objects.get(email="ann@gmail.com")
    Unsubscribe.objects.create(
        campaign=campaign, contact=contact, method="web", scope="list", created_at=left
    )
    push(
        event(OPEN, d["ann@gmail.com"], at=left - dt.timedelta(minutes=1)),
        event(OPEN, d["ann@gmail.com"], at=left + dt.timedelta(minutes=1)),
        event(CLICK, d["ann@gmail.com"], link=1, at=left + dt.timedelta(minutes=2)),
    )
    engagement_record()
    s = stats(campaign)
    assert (s.opened, s.opens, s.clicks) == (1, 1, 0)


def test_a_contact_unsubscribed_from_everything_is_never_tracked_again():
    campaign, d = sent_campaign(EMAILS)
    Contact.objects.filter(email="bo@icloud.com").update(status=Contact.Status.UNSUBSCRIBED)
    push(event(OPEN, d["bo@icloud.com"]))
    engagement_record()
    assert not EngagementStats.objects.filter(campaign=campaign).exists()


def test_events_naming_a_delivery_of_another_campaign_or_none_are_dropped(redis_db):
    campaign, d = sent_campaign(EMAILS)
    other = event(OPEN, d["ann@gmail.com"])
    push(
        other._replace(mark=other.mark._replace(campaign_id=campaign.pk + 1)),
        other._replace(mark=other.mark._replace(delivery_id=10**9)),
    )
    redis_db.rpush(EVENTS_KEY, b"not an event")
    assert engagement_record() == 3
    assert not EngagementStats.objects.filter(campaign=campaign).exists()
    assert redis_db.llen(EVENTS_KEY) == 0


def test_a_burst_of_clicks_costs_a_fixed_number_of_statements(django_assert_max_num_queries):
    campaign, d = sent_campaign(EMAILS)
    start = timezone.now().replace(microsecond=0)  # events keep milliseconds
    for minute in range(300):
        for n, delivery in enumerate(d.values()):
            at = start + dt.timedelta(minutes=minute, seconds=n)
            event_push(event(CLICK, delivery, link=1 + minute % 3, at=at))
    with django_assert_max_num_queries(16):
        assert engagement_record() == 900
    assert stats(campaign).clicks == 900
