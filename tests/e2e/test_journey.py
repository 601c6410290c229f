"""The whole journey of a new user, on the product started like `make run` (capture mode):
log in → create a list → upload a CSV → create a template and a campaign → send → watch the
report reach 100% with the numbers the SMTP server received → a bounce sent to bounce-in
shows in the report and suppresses the contact → export the deliveries as CSV.

UNFINISHED ON THIS BRANCH (dashboards), marked xfail(strict=True) so that it runs, is never
counted as passing, and fails loudly once everything it needs is merged and it passes:

- the template and campaign editor (branch campaign-ui) is not on main yet: the campaign is
  made with the ORM and started with the service, in the two blocks marked STAND-IN; the
  lead replaces them with the editor's pages (create template, create campaign, Send);
- bounce processing (branch bounce-flow) is not on main yet: bounce-in stores the DSN but
  nothing turns it into a bounce, so the step "the bounce shows in the report" fails here.
"""

from __future__ import annotations

import csv
import io
import smtplib

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Campaign, Contact, ContactList
from campaigns.services.campaigns import campaign_start
from delivery import capture
from delivery.inbound.receiver import BounceHandler
from delivery.models import CapturedMessage
from tests.factories import csv_text
from tests.smtpd_thread import running_smtpd

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xfail(
        strict=True,
        reason="needs the campaign editor (campaign-ui) and bounce processing (bounce-flow); "
        "the lead finishes this test after merging them",
    ),
]

PEOPLE = 250
BOUNCE_DOMAIN = "bounces.edm.example"


@pytest.fixture
def like_make_run(settings, monkeypatch):
    """The processes of `make run` that a journey needs, besides the web server and a worker:
    the capture SMTP server and bounce-in, on loopback ports."""
    with (
        running_smtpd(capture.CaptureHandler(), hostname=capture.HOSTNAME) as capture_port,
        running_smtpd(BounceHandler(BOUNCE_DOMAIN)) as bounce_port,
    ):
        for name, value in {
            "EDM_DELIVERY_MODE": "capture",
            "EDM_CAPTURE_PORT": str(capture_port),
            "EDM_BOUNCE_DOMAIN": BOUNCE_DOMAIN,
        }.items():
            monkeypatch.setenv(name, value)
        settings.EDM_DELIVERY_MODE = "capture"
        settings.EDM_CAPTURE_PORT = capture_port
        settings.EDM_BOUNCE_DOMAIN = BOUNCE_DOMAIN
        yield bounce_port


@pytest.fixture
def worker(like_make_run, rq_worker):
    return rq_worker


def dsn(return_path: str, recipient: str) -> bytes:
    """A delivery status notification (RFC 3464) saying `recipient` does not exist."""
    return (
        f"From: MAILER-DAEMON@mx1.mail.example\r\n"
        f"To: {return_path}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {timezone.now():%a, %d %b %Y %H:%M:%S +0000}\r\n"
        f"Message-ID: <dsn-1@mx1.mail.example>\r\n"
        f"MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        f"\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
        f"This is the mail system at host mx1.mail.example. Your message could not be\r\n"
        f"delivered to {recipient}: the mailbox does not exist.\r\n"
        f"\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx1.mail.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Action: failed\r\n"
        f"Status: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: "
        f"User unknown\r\n"
        f"\r\n--b1--\r\n"
    ).encode()


def test_a_new_user_sends_a_campaign_and_follows_it_to_the_last_bounce(
    page, user, like_make_run, worker, tmp_path
):
    # Log in.
    page.goto("/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    # Create a list.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Lists").click()
    page.get_by_label("Name").fill("Newsletter")
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("heading", name="Newsletter")).to_be_visible()

    # Upload a CSV.
    rows = [["email", "name"]] + [[f"person{i}@mail.example", f"Person {i}"] for i in range(PEOPLE)]
    source = tmp_path / "newsletter.csv"
    source.write_text(csv_text(rows), encoding="utf-8")
    page.get_by_role("link", name="Import contacts").click()
    page.set_input_files("input[type=file]", str(source))
    page.get_by_role("button", name="Upload").click()
    page.get_by_label("Name column").select_option(label="name")
    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_role("progressbar", name="Import progress")).to_have_attribute(
        "aria-valuenow", "100", timeout=60_000
    )

    # STAND-IN for the campaign editor: create a template and a campaign, press Send.
    newsletter = ContactList.objects.get(name="Newsletter")
    campaign = Campaign.objects.create(
        name="First newsletter",
        from_name="Shop",
        from_email="news@shop.example",
        subject="Hello {{ contact.name }}",
        html='<p>Hi {{ contact.name }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
    )
    campaign.lists.set([newsletter])
    campaign_start(campaign)
    # end of STAND-IN

    # Watch the report reach 100% by itself.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="First newsletter").click()
    expect(page.get_by_role("progressbar", name="Campaign progress")).to_have_attribute(
        "aria-valuenow", "100", timeout=90_000
    )
    received = CapturedMessage.objects.count()
    assert received == PEOPLE
    expect(page.locator("[data-field=sent]")).to_have_text(f"{received:,}")
    expect(page.locator("[data-field=status]")).to_have_text("finished")

    # A bounce comes back to bounce-in, addressed to the message's return path.
    bounced = CapturedMessage.objects.get(recipients=["person7@mail.example"])
    with smtplib.SMTP("127.0.0.1", like_make_run, timeout=10) as smtp:
        smtp.sendmail("", [bounced.mail_from], dsn(bounced.mail_from, "person7@mail.example"))
    expect(page.locator("[data-field=bounced_hard]")).to_have_text("1", timeout=30_000)
    expect(page.locator("[data-region=reasons]")).to_contain_text("Unknown address")
    assert Contact.objects.get(email="person7@mail.example").status == "bounced"

    # Export the deliveries.
    with page.expect_download() as download:
        page.get_by_role("link", name="Export deliveries (CSV)").click()
    exported = list(
        csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig")))
    )
    assert len(exported) == PEOPLE
    by_email = {row["email"]: row for row in exported}
    assert by_email["person7@mail.example"]["status"] == "bounced"
    assert by_email["person8@mail.example"]["status"] == "sent"
