"""Engagement over the API: the stats gain people's opens and clicks, and links are listed."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from campaigns.models import Contact
from delivery.engagement.classify import Agent, Network
from delivery.engagement.events import event_push
from delivery.engagement.recording import engagement_record
from delivery.engagement.tokens import EventKind
from tests.engagement_factories import event, sent_campaign
from tests.factories import make_campaign, make_list

EMAILS = ["ann@example.com", "bo@example.com", "cy@example.com"]


def test_stats_count_people_apart_from_machines_and_bots(api):
    campaign, d = sent_campaign(EMAILS)
    start = timezone.now()
    for e in [
        event(EventKind.OPEN, d["ann@example.com"], at=start),
        event(EventKind.OPEN, d["ann@example.com"], at=start + dt.timedelta(minutes=3)),
        event(EventKind.OPEN, d["bo@example.com"], agent=Agent.GENERIC, network=Network.APPLE),
        event(EventKind.CLICK, d["ann@example.com"], link=2, at=start + dt.timedelta(minutes=4)),
        event(EventKind.CLICK, d["cy@example.com"], link=1, head=True),
    ]:
        event_push(e)
    engagement_record()
    stats = api.get(f"/campaigns/{campaign.pk}/stats").json()
    assert (stats["opened"], stats["opened_machine"], stats["clicked"], stats["clicked_bot"]) == (
        1,
        1,
        1,
        1,
    )
    links = api.get(f"/campaigns/{campaign.pk}/links").json()
    assert [
        (r["url"], r["clicks"], r["unique_clicks"], r["bot_clicks"]) for r in links["items"]
    ] == [
        ("https://shop.example/sale", 0, 0, 1),
        ("https://shop.example/new", 1, 1, 0),
        ("https://shop.example/stores", 0, 0, 0),
    ]


def test_a_campaign_not_yet_opened_has_zero_engagement_and_no_links(api):
    campaign = make_campaign(lists=[make_list("L")])
    stats = api.get(f"/campaigns/{campaign.pk}/stats").json()
    assert (stats["opened"], stats["clicked"], stats["opened_machine"], stats["clicked_bot"]) == (
        0,
        0,
        0,
        0,
    )
    assert api.get(f"/campaigns/{campaign.pk}/links").json()["items"] == []


def test_tracking_switches_are_set_and_read_through_the_api(api):
    body = {"name": "Quiet", "from_email": "news@shop.example", "subject": "Hi", "html": "<p>x</p>"}
    created = api.post("/campaigns", body | {"track_opens": False}).json()
    assert (created["track_opens"], created["track_clicks"]) == (False, True)
    changed = api.patch(f"/campaigns/{created['id']}", {"track_clicks": False}).json()
    assert (changed["track_opens"], changed["track_clicks"]) == (False, False)


def test_do_not_track_is_set_and_read_through_the_contacts_api(api):
    created = api.post("/contacts", {"email": "dee@example.com", "do_not_track": True}).json()
    assert created["do_not_track"] is True
    changed = api.patch(f"/contacts/{created['id']}", {"name": "Dee"}).json()
    assert (changed["name"], changed["do_not_track"]) == ("Dee", True)
    changed = api.patch(f"/contacts/{created['id']}", {"do_not_track": False}).json()
    assert not Contact.objects.get(pk=created["id"]).do_not_track and not changed["do_not_track"]
