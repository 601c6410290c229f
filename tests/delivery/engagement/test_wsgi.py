"""The WSGI entry point serves the tracking endpoints before Django's middleware, the same way."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core import signals
from django.db import close_old_connections

from delivery.engagement.events import EVENTS_KEY
from delivery.engagement.tokens import Mark, click_token, open_token
from delivery.engagement.views import PIXEL_GIF
from edm.wsgi import application
from tests.engagement_factories import sent_campaign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("redis_db", "test_connection_kept")]


@pytest.fixture
def test_connection_kept():
    """Keep the test's database connection (its transaction) across requests, as Django's
    test client does: the request signals would close it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def call(path: str, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    """One request through the WSGI callable gunicorn serves."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http",
    }
    started = {}

    def start_response(status, headers):
        started["status"], started["headers"] = status, dict(headers)

    result = application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()
    return started["status"], started["headers"], body


def test_a_click_is_redirected_and_queued_without_the_middleware(redis_db):
    campaign, d = sent_campaign(["ann@example.com"])
    token = click_token(Mark(campaign.pk, d["ann@example.com"].pk, 3), settings.SECRET_KEY)
    status, headers, _ = call(f"/l/{token}")
    assert status == "302 Found"
    assert headers["Location"] == "https://shop.example/stores"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in headers
    assert redis_db.llen(EVENTS_KEY) == 1


def test_the_pixel_and_its_refusals_answer_as_the_views_do(redis_db):
    campaign, d = sent_campaign(["ann@example.com"])
    token = open_token(Mark(campaign.pk, d["ann@example.com"].pk), settings.SECRET_KEY)
    status, headers, body = call(f"/o/{token}.gif")
    assert (status, headers["Content-Type"], body) == ("200 OK", "image/gif", PIXEL_GIF)
    assert call(f"/o/{token[:-1]}x.gif")[0] == "404 Not Found"
    assert call(f"/o/{token}.gif", method="POST")[0] == "405 Method Not Allowed"
    assert redis_db.llen(EVENTS_KEY) == 1


def test_every_other_path_is_left_to_django():
    assert call("/healthz")[0] == "200 OK"
    assert call("/login/")[0] == "200 OK"
    assert call("/l/")[0] == "404 Not Found"
