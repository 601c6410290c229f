"""The redirect and the pixel answer at once, write no database row, and queue one event."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delivery.engagement.classify import Agent, Network
from delivery.engagement.events import EVENTS_KEY, Event
from delivery.engagement.tokens import EventKind, Mark, click_token, open_token
from delivery.engagement.views import PIXEL_GIF
from delivery.message import Recipient, render_recipient
from delivery.prepared import prepared_campaign
from tests.engagement_factories import sent_campaign
from tests.workers import run_burst

pytestmark = pytest.mark.usefixtures("redis_db")

SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Safari/605.1.15"
)


def queued(redis_db) -> list[Event]:
    return [Event.decode(raw) for raw in redis_db.lrange(EVENTS_KEY, 0, -1)]


def message_links(campaign, delivery) -> list[str]:
    recipient = Recipient(delivery.pk, delivery.contact_id, delivery.email, tracked=True)
    html = render_recipient(prepared_campaign(campaign).compiled, recipient).html
    return re.findall(r'href="http://testserver(/l/[^"]+)"', html)


@pytest.fixture
def public_url(settings):
    settings.EDM_PUBLIC_URL = "http://testserver"


@pytest.mark.django_db
def test_a_tracked_link_redirects_to_its_url_writing_nothing(client, redis_db, public_url):
    campaign, d = sent_campaign(["ann@example.com"])
    link = message_links(campaign, d["ann@example.com"])[1]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(link, HTTP_USER_AGENT=SAFARI, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example/new"
    assert not [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    (event,) = queued(redis_db)
    assert event.kind is EventKind.CLICK
    assert event.mark == Mark(campaign.pk, d["ann@example.com"].pk, 2)
    assert (event.signals.agent, event.signals.network, event.signals.head) == (
        Agent.BROWSER,
        Network.OTHER,
        False,
    )


@pytest.mark.django_db
def test_the_links_table_is_read_once_per_process_not_per_click(
    client, public_url, django_assert_num_queries
):
    campaign, d = sent_campaign(["ann@example.com"])
    link = message_links(campaign, d["ann@example.com"])[0]
    client.get(link)
    with django_assert_num_queries(0):
        for _ in range(5):
            assert client.get(link).status_code == 302


@pytest.mark.django_db
def test_the_pixel_is_a_gif_no_cache_keeps_and_its_event_is_queued(client, redis_db, settings):
    campaign, d = sent_campaign(["ann@example.com"])
    token = open_token(Mark(campaign.pk, d["ann@example.com"].pk), "unused")
    assert client.get(f"/o/{token}.gif").status_code == 404  # signed with another secret
    token = open_token(Mark(campaign.pk, d["ann@example.com"].pk), settings.SECRET_KEY)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            f"/o/{token}.gif", HTTP_USER_AGENT="Mozilla/5.0", REMOTE_ADDR="17.58.1.2"
        )
    assert not queries.captured_queries
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content == PIXEL_GIF and len(PIXEL_GIF) == 43
    assert "no-store" in response["Cache-Control"] and "no-cache" in response["Cache-Control"]
    (event,) = queued(redis_db)
    assert (event.kind, event.signals.agent, event.signals.network) == (
        EventKind.OPEN,
        Agent.GENERIC,
        Network.APPLE,
    )


@pytest.mark.django_db
def test_a_head_request_is_answered_and_queued_as_a_head(client, redis_db, public_url):
    campaign, d = sent_campaign(["ann@example.com"])
    link = message_links(campaign, d["ann@example.com"])[0]
    assert client.head(link).status_code == 302
    assert queued(redis_db)[0].signals.head


@pytest.mark.django_db
def test_bad_tokens_are_a_plain_404_that_echoes_nothing(client, redis_db, settings):
    campaign, d = sent_campaign(["ann@example.com"])
    good = click_token(Mark(campaign.pk, d["ann@example.com"].pk, 1), settings.SECRET_KEY)
    unknown_link = click_token(Mark(campaign.pk, d["ann@example.com"].pk, 99), settings.SECRET_KEY)
    for path in [
        f"/l/{good[:-2]}xx",
        f"/l/{unknown_link}",
        "/l/<script>alert(1)",
        "/o/%3Cb%3E.gif",
        "/l/" + "9" * 500,
    ]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("text/plain")
        assert b"script" not in response.content and b"<b>" not in response.content
    assert queued(redis_db) == []


@pytest.mark.django_db
def test_a_post_to_a_tracked_link_is_refused(client, settings):
    assert client.post("/l/1-1-1-AAAAAAAAAAAAAAAA").status_code == 405


@pytest.mark.django_db
def test_with_tracking_off_globally_links_still_redirect_and_nothing_is_queued(
    client, redis_db, settings, public_url
):
    campaign, d = sent_campaign(["ann@example.com"])
    link = message_links(campaign, d["ann@example.com"])[0]
    settings.EDM_TRACKING = False
    assert client.get(link)["Location"] == "https://shop.example/sale"
    assert queued(redis_db) == []


@pytest.mark.django_db
def test_a_forwarded_address_is_believed_only_from_the_local_proxy(client, redis_db, settings):
    campaign, d = sent_campaign(["ann@example.com"])
    token = open_token(Mark(campaign.pk, d["ann@example.com"].pk), settings.SECRET_KEY)
    apple = {"HTTP_X_FORWARDED_FOR": "198.51.100.1, 17.1.1.1", "HTTP_USER_AGENT": SAFARI}
    client.get(f"/o/{token}.gif", REMOTE_ADDR="127.0.0.1", **apple)
    client.get(f"/o/{token}.gif", REMOTE_ADDR="203.0.113.5", **apple)
    assert [e.signals.network for e in queued(redis_db)] == [Network.APPLE, Network.OTHER]


@pytest.mark.django_db(transaction=True)
def test_the_first_event_wakes_a_recorder_in_a_worker_that_records_it(client, public_url):
    campaign, d = sent_campaign(["ann@example.com", "bo@example.com"])
    for delivery in d.values():
        assert (
            client.get(message_links(campaign, delivery)[0], HTTP_USER_AGENT=SAFARI).status_code
            == 302
        )
    run_burst("default")
    campaign.engagement_stats.refresh_from_db()
    assert (campaign.engagement_stats.clicked, campaign.engagement_stats.opened) == (2, 2)
