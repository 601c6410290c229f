"""Engagement on the report, its live fragment, the contact history and the export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Contact
from delivery.engagement.classify import Agent, Network
from delivery.engagement.events import event_push
from delivery.engagement.recording import engagement_record
from delivery.engagement.tokens import EventKind
from tests.campaigns.test_reports import REPORT_QUERIES
from tests.engagement_factories import event, sent_campaign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("redis_db")]

OPEN, CLICK = EventKind.OPEN, EventKind.CLICK
EMAILS = ["ann@gmail.com", "bo@icloud.com", "cy@corp.example", "dee@gmail.com"]
SITES = {"gmail.com": "google", "icloud.com": "apple", "corp.example": "corp.example"}


def text_of(markup: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)))


@pytest.fixture
def engaged():
    """Four sent: Ann opens twice and clicks link 2, Apple's proxy opens Bo's, a scanner
    clicks every link of Cy's, Dee does nothing."""
    campaign, d = sent_campaign(EMAILS, sites=SITES)
    start = timezone.now().replace(microsecond=0)
    for e in [
        event(OPEN, d["ann@gmail.com"], at=start, agent=Agent.PERSON_PROXY),
        event(OPEN, d["ann@gmail.com"], at=start + dt.timedelta(minutes=20)),
        event(CLICK, d["ann@gmail.com"], link=2, at=start + dt.timedelta(minutes=21)),
        event(OPEN, d["bo@icloud.com"], agent=Agent.GENERIC, network=Network.APPLE),
        *(event(CLICK, d["cy@corp.example"], link=i, at=start) for i in (1, 2, 3)),
    ]:
        event_push(e)
    engagement_record()
    return campaign


def test_the_report_shows_people_first_with_rates_and_machines_beside(admin_client, engaged):
    html = admin_client.get(reverse("campaigns:campaign_report", args=[engaged.pk])).content
    region = re.search(r'data-region="engagement">(.*?)</section>', html.decode(), re.S).group(1)
    text = text_of(region)
    assert "1 opened 25.00% of sent" in text
    assert "1 clicked 25.00% click-through" in text
    assert "100.00% click-to-open" in text
    assert "1 machine opens" in text and "3 bot clicks" in text
    assert text.index("opened") < text.index("machine opens")


def test_top_links_are_most_clicked_by_people_first(admin_client, engaged):
    html = admin_client.get(reverse("campaigns:campaign_report", args=[engaged.pk])).content
    rows = re.findall(r'<tr data-link="(\d+)">(.*?)</tr>', html.decode(), re.S)
    assert [(index, text_of(cells).split()) for index, cells in rows] == [
        ("2", ["https://shop.example/new", "1", "1", "1"]),
        ("1", ["https://shop.example/sale", "0", "0", "1"]),
        ("3", ["https://shop.example/stores", "0", "0", "1"]),
    ]


def test_engagement_is_shown_per_site(admin_client, engaged):
    html = admin_client.get(reverse("campaigns:campaign_report", args=[engaged.pk])).content
    table = re.search(r'<table class="engagement-sites">(.*?)</table>', html.decode(), re.S)
    assert text_of(table.group(1)).split()[4:] == ["google", "2", "1", "50.00%", "1", "50.00%"]


def test_the_live_fragment_carries_engagement_and_the_hourly_chart(admin_client, engaged):
    data = admin_client.get(reverse("campaigns:campaign_report_live", args=[engaged.pk])).json()
    assert "engagement" in data["html"]
    assert (data["engagement"]["opened"], data["engagement"]["clicks_bot"]) == (1, 3)
    chart = data["engagement_chart"]
    assert sum(chart["opens"]) == 2 and sum(chart["clicks"]) == 1
    assert chart["x"][0] == 0 and chart["x"] == sorted(chart["x"])


@pytest.mark.parametrize("clickers", [2, 60])
def test_report_queries_do_not_grow_with_engagement(
    admin_client, django_assert_max_num_queries, clickers
):
    emails = [f"p{i}@site{i % 30}.example" for i in range(clickers)]
    campaign, d = sent_campaign(emails)
    for delivery in d.values():
        event_push(event(OPEN, delivery))
        event_push(event(CLICK, delivery, link=1))
    engagement_record()
    for name in ("campaigns:campaign_report", "campaigns:campaign_report_live"):
        with django_assert_max_num_queries(REPORT_QUERIES):
            assert admin_client.get(reverse(name, args=[campaign.pk])).status_code == 200


def test_the_contact_history_shows_first_open_first_click_and_links_followed(admin_client, engaged):
    ann = Contact.objects.get(email="ann@gmail.com")
    html = admin_client.get(reverse("campaigns:contact_history", args=[ann.pk])).content.decode()
    line = text_of(
        re.search(r"<p class=\"engagement\" data-engagement>(.*?)</p>", html, re.S)[1]
    ).strip()
    assert line.startswith("Opened first ") and "clicked first " in line
    assert "followed 1 link: https://shop.example/new" in line
    dee = Contact.objects.get(email="dee@gmail.com")
    html = admin_client.get(reverse("campaigns:contact_history", args=[dee.pk])).content.decode()
    assert "Not opened by a person · no clicks" in text_of(html)


def test_the_export_has_first_open_and_first_click_columns(admin_client, engaged):
    response = admin_client.get(reverse("campaigns:campaign_export", args=[engaged.pk]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(body))}
    assert rows["ann@gmail.com"]["first open at"].startswith(str(timezone.now().year))
    assert rows["ann@gmail.com"]["first click at"]
    assert rows["bo@icloud.com"]["first open at"] == ""  # Apple's proxy is not a person
    assert rows["cy@corp.example"]["first click at"] == ""  # nor is a link scanner
