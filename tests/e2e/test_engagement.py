"""Browser: a tracked campaign is sent in capture mode, its captured messages are opened in
Chromium (the pixel loads) and their links followed, and the live report shows people's opens
and clicks by itself, with Apple-proxy opens and a scanner's clicks counted apart.

All traffic stays on loopback: the campaign's links point at the live server itself, and the
"Apple proxy" is a request with Apple's signature (a bare "Mozilla/5.0" and an Apple address
forwarded by a proxy on this host, as nginx does in production).
"""

from __future__ import annotations

import datetime as dt
import email
import time
from email import policy

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.services.campaigns import campaign_start
from delivery import capture
from delivery.engagement.classify import SCANNER_SECONDS
from delivery.models import CapturedMessage, Delivery
from tests.factories import make_campaign, make_contact, make_list
from tests.smtpd_thread import running_smtpd

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

READER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SCANNER_AGENT = "Mozilla/5.0 (compatible; Proofpoint URL Defense)"
WAIT_MS = 90_000  # the report polls every 20 s once the campaign is over


@pytest.fixture
def tracked_sending(settings, monkeypatch, live_server):
    """Capture mode, links under the live server's URL, then a real worker (which reads both
    from its environment when it starts)."""
    with running_smtpd(capture.CaptureHandler(), hostname=capture.HOSTNAME) as port:
        for name, value in {
            "EDM_DELIVERY_MODE": "capture",
            "EDM_CAPTURE_PORT": str(port),
            "EDM_PUBLIC_URL": live_server.url,
        }.items():
            monkeypatch.setenv(name, value)
        settings.EDM_DELIVERY_MODE = "capture"
        settings.EDM_CAPTURE_PORT = port
        settings.EDM_PUBLIC_URL = live_server.url
        yield live_server.url


@pytest.fixture
def worker(tracked_sending, rq_worker):
    return rq_worker


def wait_for(condition, what: str, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def html_of(message: CapturedMessage) -> str:
    parsed = email.message_from_bytes(bytes(message.raw), policy=policy.default)
    return parsed.get_body(("html",)).get_content()


def test_opens_and_clicks_reach_the_live_report_people_apart_from_machines(
    logged_in_page, browser, tracked_sending, worker
):
    base = tracked_sending
    readers = make_list("Readers")
    for name in ("ann", "bo", "cy"):
        make_contact(f"{name}@mail.example", contact_list=readers)
    html = (
        "<html><body><h1>Autumn sale</h1>"
        f'<p><a id="sale" href="{base}/healthz?link=sale">See the sale</a></p>'
        f'<p><a id="new" href="{base}/healthz?link=new">New arrivals</a></p>'
        f'<p><a id="stores" href="{base}/healthz?link=stores">Our stores</a></p>'
        '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>'
    )
    campaign = make_campaign(lists=[readers], name="Tracked sale", html=html)
    page = logged_in_page
    page.goto(f"/campaigns/{campaign.pk}/report/")
    page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded

    campaign_start(campaign)
    wait_for(lambda: CapturedMessage.objects.count() == 3, "three captured messages")
    messages = {m.recipients[0]: m for m in CapturedMessage.objects.all()}
    # A click seconds after delivery is a scanner's: a reader comes later.
    last_sent = max(Delivery.objects.filter(campaign=campaign).values_list("sent_at", flat=True))
    ready = last_sent + dt.timedelta(seconds=SCANNER_SECONDS + 1)
    wait_for(lambda: timezone.now() > ready, "the scanners' window after delivery")

    reader = browser.new_context(user_agent=READER_AGENT)
    try:
        for address, link in (("ann@mail.example", "#sale"), ("bo@mail.example", "#new")):
            tab = reader.new_page()
            with tab.expect_response(lambda r: "/o/" in r.url and r.status == 200):
                tab.set_content(html_of(messages[address]))  # its images load: the pixel
            with tab.expect_navigation(url=f"**/healthz?link={link[1:]}"):
                tab.click(link)
            tab.close()
    finally:
        reader.close()

    # Cy's message: Apple's proxy fetches its images, a scanner follows all its links.
    cy = html_of(messages["cy@mail.example"])
    tab = browser.new_page()
    try:
        tab.set_content("<p>scanner</p>")
        pixel = cy.split('<img src="', 1)[1].split('"', 1)[0]
        apple = {"User-Agent": "Mozilla/5.0", "X-Forwarded-For": "17.58.63.12"}
        assert tab.request.get(pixel, headers=apple).status == 200
        for href in [h.split('"', 1)[0] for h in cy.split('href="')[1:]]:
            if "/l/" in href:
                response = tab.request.get(
                    href, headers={"User-Agent": SCANNER_AGENT}, max_redirects=0
                )
                assert response.status == 302
    finally:
        tab.close()

    expect(page.locator("[data-field=opened]")).to_have_text("2", timeout=WAIT_MS)
    expect(page.locator("[data-field=clicked]")).to_have_text("2", timeout=WAIT_MS)
    expect(page.locator("[data-field=opens_machine]")).to_have_text("1", timeout=WAIT_MS)
    expect(page.locator("[data-field=clicks_bot]")).to_have_text("3", timeout=WAIT_MS)
    expect(page.locator("[data-field=click_to_open_rate]")).to_have_text("100.00%")
    expect(page.locator('tr[data-link="1"]')).to_contain_text("1")
    expect(page.locator("#engagement-chart canvas")).to_have_count(1, timeout=WAIT_MS)
    assert page.evaluate("window.loadedOnce") is True
