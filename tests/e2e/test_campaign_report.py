"""Browser: a campaign's report follows a real worker sending it, without reloading the page,
in capture mode (what `make run` does) and in mx mode against a loopback SMTP server that
refuses some recipients.

The mx test saves screenshots of the overview and the report to $EDM_SCREENSHOTS_DIR when it
is set (docs/screenshots/README.md says how the ones in docs/ were made), to the test's
temporary directory otherwise.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from campaigns.models import Contact
from campaigns.services.campaigns import campaign_start
from delivery import capture
from delivery.models import CampaignStats, CapturedMessage, SiteSetting
from tests.dnsserver import DnsServer
from tests.factories import make_campaign, make_contact, make_list
from tests.smtpd_thread import running_smtpd

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 400  # two batches of 200


@pytest.fixture
def capture_mode(settings, monkeypatch):
    """capture mode (as `make run` sends) into a capture SMTP server on a loopback port."""
    with running_smtpd(capture.CaptureHandler(), hostname=capture.HOSTNAME) as port:
        monkeypatch.setenv("EDM_DELIVERY_MODE", "capture")
        monkeypatch.setenv("EDM_CAPTURE_PORT", str(port))
        settings.EDM_DELIVERY_MODE = "capture"
        settings.EDM_CAPTURE_PORT = port
        yield port


@pytest.fixture
def capture_worker(capture_mode, rq_worker):
    """A real worker started after capture mode is set, so it sends to the capture server."""
    return rq_worker


ZONE = """
    mail.example.        300 MX 10 mx1.mail.example.
    mx1.mail.example.    300 A  127.0.0.1
    post.example.        300 MX 10 mx.post.example.
    mx.post.example.     300 A  127.0.0.1
"""
REFUSED = {
    **{f"gone{i}@mail.example": "550 5.1.1 The email account does not exist" for i in range(9)},
    **{f"full{i}@post.example": "552 5.2.2 Mailbox full" for i in range(4)},
    "strict@post.example": "554 5.7.1 Client host blocked using a DNS blocklist",
}


@pytest.fixture
def mx_mode(starttls_server, settings, monkeypatch):
    """mx mode: MX lookups answered by a nameserver on loopback, pointing at a STARTTLS SMTP
    server on loopback that refuses the REFUSED recipients."""
    starttls_server.recorder.script.rcpt.update(REFUSED)
    with DnsServer() as dns:
        dns.load(ZONE)
        nameserver = f"{dns.address[0]}:{dns.address[1]}"
        for name, value in {
            "EDM_DELIVERY_MODE": "mx",
            "EDM_SMTP_PORT": str(starttls_server.port),
            "EDM_DNS_NAMESERVERS": nameserver,
            "EDM_BOUNCE_DOMAIN": "bounces.edm.example",
        }.items():
            monkeypatch.setenv(name, value)
        settings.EDM_DELIVERY_MODE = "mx"
        settings.EDM_SMTP_PORT = starttls_server.port
        settings.EDM_DNS_NAMESERVERS = [dns.address]
        settings.EDM_BOUNCE_DOMAIN = "bounces.edm.example"
        yield starttls_server


@pytest.fixture
def mx_worker(mx_mode, rq_worker):
    return rq_worker


def newsletter_campaign():
    readers = make_list("Newsletter readers")
    for i in range(RECIPIENTS):
        make_contact(f"reader{i:03d}@mail.example", contact_list=readers, name=f"Reader {i}")
    # One connection at 80 messages a second: the second batch starts when the first ends,
    # so the report has something to show in between.
    SiteSetting.objects.create(site="capture", max_connections=1, rate="80/s")
    return make_campaign(lists=[readers], name="Autumn sale", subject="Autumn sale starts now")


def watch_to_100_percent(page, midway=lambda: None) -> set[int]:
    """The report's progress values seen until 100 (or 90 s); `midway` runs once in between."""
    bar = page.get_by_role("progressbar", name="Campaign progress")
    seen, called = set(), False
    deadline = time.monotonic() + 90
    while 100 not in seen and time.monotonic() < deadline:
        seen.add(int(bar.get_attribute("aria-valuenow")))
        if not called and 0 < max(seen) < 100:
            midway()
            called = True
        time.sleep(0.2)
    return seen


def test_the_report_updates_by_itself_to_100_percent_while_a_worker_sends(
    logged_in_page, capture_worker
):
    page = logged_in_page
    campaign = newsletter_campaign()
    page.goto(f"/campaigns/{campaign.pk}/report/")
    expect(page.get_by_text("Not started yet.")).to_be_visible()
    page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded

    campaign_start(campaign)
    seen = watch_to_100_percent(page)
    assert 100 in seen, f"progress seen: {sorted(seen)}"
    assert any(0 < value < 100 for value in seen), f"progress seen: {sorted(seen)}"
    assert page.evaluate("window.loadedOnce") is True

    expect(page.locator("[data-field=status]")).to_have_text("finished")
    expect(page.locator("[data-field=sent]")).to_have_text(f"{RECIPIENTS:,}")
    assert CapturedMessage.objects.count() == RECIPIENTS
    assert CampaignStats.objects.get(campaign=campaign).sent == RECIPIENTS
    expect(page.locator("#throughput-chart canvas")).to_have_count(1)
    expect(page.locator('tr[data-site="capture"]')).to_contain_text(f"{RECIPIENTS:,}")
    expect(page.locator("table.events tbody tr").first).to_contain_text("capture.localhost")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)


def test_the_report_shows_refusals_by_site_and_reason_as_they_happen(
    logged_in_page, mx_mode, mx_worker, screenshot
):
    readers = make_list("Newsletter readers")
    for i in range(300):
        make_contact(f"reader{i:03d}@mail.example", contact_list=readers, name=f"Reader {i}")
    for i in range(100):
        make_contact(f"reader{i:03d}@post.example", contact_list=readers)
    for address in REFUSED:
        make_contact(address, contact_list=readers)
    SiteSetting.objects.create(site="mail.example", max_connections=1, rate="60/s")
    campaign = make_campaign(lists=[readers], name="Autumn sale", subject="Autumn sale starts")
    page = logged_in_page
    page.goto(f"/campaigns/{campaign.pk}/report/")
    page.evaluate("window.loadedOnce = true")

    def overview_midway():
        overview = page.context.new_page()
        overview.goto("/")
        expect(overview.get_by_role("link", name="Autumn sale").first).to_be_visible()
        screenshot(overview, "overview")
        overview.close()

    campaign_start(campaign)
    seen = watch_to_100_percent(page, overview_midway)
    assert 100 in seen, f"progress seen: {sorted(seen)}"
    assert page.evaluate("window.loadedOnce") is True

    received = len(mx_mode.messages)
    assert received == 400
    expect(page.locator("[data-field=sent]")).to_have_text(f"{received:,}")
    expect(page.locator("[data-field=bounced_hard]")).to_have_text("9")
    expect(page.locator("[data-field=bounced_soft]")).to_have_text("5")
    reasons = page.locator("[data-region=reasons] li")
    expect(reasons).to_have_count(3)
    expect(reasons.nth(0)).to_contain_text("Unknown address")
    expect(reasons.nth(0)).to_contain_text("9")
    expect(reasons.nth(1)).to_contain_text("Mailbox full")
    expect(reasons.nth(2)).to_contain_text("Sender's IP blocked")
    expect(page.locator('tr[data-site="mail.example"]')).to_contain_text("0 / 1")
    expect(page.locator('tr[data-site="mail.example"]')).to_contain_text("60/s")
    assert Contact.objects.get(email="gone0@mail.example").status == "bounced"
    assert Contact.objects.get(email="strict@post.example").status == "enabled"
    page.goto(f"/campaigns/{campaign.pk}/report/recipients/?q=gone0")
    expect(page.locator("table.attempts")).to_contain_text("550 5.1.1 The email account")
    page.goto(f"/campaigns/{campaign.pk}/report/")
    expect(page.locator("[data-field=status]")).to_have_text("finished")
    screenshot(page, "campaign-report")


def test_pausing_from_the_report_stops_the_campaign_and_says_so(logged_in_page, redis_db):
    readers = make_list("Readers")
    make_contact("reader@mail.example", contact_list=readers)
    campaign = make_campaign(lists=[readers], status="sending")
    page = logged_in_page
    page.goto(f"/campaigns/{campaign.pk}/report/")
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("Paused: running batches stop within seconds.")).to_be_visible()
    expect(page.locator("[data-field=status]")).to_have_text("paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text("Resumed.")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel campaign").click()
    expect(page.locator("[data-field=status]")).to_have_text("cancelled")
