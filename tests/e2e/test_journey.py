"""The whole journey of a new user, on the product started like `make run` (capture mode, a
real worker, bounce-in handing what it receives to the worker):

log in → create a list → upload a CSV → create a template and a campaign from it → send →
watch the report reach 100% by itself with the numbers the SMTP server received → a bounce
sent to bounce-in shows in the report and suppresses the contact → export the deliveries.
"""

from __future__ import annotations

import csv
import io
import smtplib

import pytest
from playwright.sync_api import expect

from campaigns.models import Contact
from delivery import capture
from delivery.inbound.processing import inbound_process_enqueue
from delivery.models import CapturedMessage
from tests.delivery import returns
from tests.factories import csv_text
from tests.smtpd_thread import bounce_handler, running_smtpd

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PEOPLE = 250
BOUNCE_DOMAIN = "bounces.edm.example"
HTML = '<p>Hi {{ contact.name }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'


@pytest.fixture
def like_make_run(settings, monkeypatch):
    """The processes of `make run` that a journey needs, besides the web server and a worker:
    the capture SMTP server and bounce-in (as `manage.py bounce_server` runs it), on loopback
    ports."""
    with (
        running_smtpd(capture.CaptureHandler(), hostname=capture.HOSTNAME) as capture_port,
        running_smtpd(
            bounce_handler(BOUNCE_DOMAIN, on_stored=inbound_process_enqueue)
        ) as bounce_port,
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


def test_a_new_user_sends_a_campaign_and_follows_it_to_the_last_bounce(
    page, user, like_make_run, worker, tmp_path, screenshot
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
    screenshot(page, "import")

    # Write a template, make a campaign of it to the list, send it.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    page.get_by_role("link", name="New template").first.click()
    page.get_by_label("Name", exact=True).fill("Monthly news")
    page.get_by_label("Subject", exact=True).fill("News for {{ contact.name }}")
    page.get_by_label("HTML", exact=True).fill(HTML)
    page.get_by_role("button", name="Create template").click()
    expect(page.get_by_text("“Monthly news” saved.")).to_be_visible()
    page.get_by_role("link", name="New campaign from it").click()
    page.get_by_label("Name", exact=True).fill("First newsletter")
    page.get_by_label("From address").fill("news@shop.example")
    page.get_by_role("group", name="Send to").get_by_label("Newsletter").check()
    expect(page.locator("[data-audience-size]")).to_have_text(str(PEOPLE))
    page.get_by_role("button", name="Create draft").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Start sending now").click()
    expect(page.get_by_text("Sending started.")).to_be_visible()

    # Watch the report reach 100% by itself.
    page.get_by_role("link", name="Report", exact=True).click()
    expect(page.get_by_role("progressbar", name="Campaign progress")).to_have_attribute(
        "aria-valuenow", "100", timeout=90_000
    )
    received = CapturedMessage.objects.count()
    assert received == PEOPLE
    expect(page.locator("[data-field=sent]")).to_have_text(f"{received:,}")
    expect(page.locator("[data-field=status]")).to_have_text("finished")

    # A bounce comes back to bounce-in, addressed to the message's return path; the report
    # (it keeps looking after the end) shows it without a reload.
    accepted = CapturedMessage.objects.get(recipients=["person7@mail.example"])
    dsn = returns.dsn(bytes(accepted.raw), to=accepted.mail_from, recipient="person7@mail.example")
    with smtplib.SMTP("127.0.0.1", like_make_run, timeout=10) as smtp:
        smtp.sendmail("", [accepted.mail_from], dsn)
    expect(page.locator("[data-field=bounced_hard]")).to_have_text("1", timeout=40_000)
    expect(page.locator("[data-field=sent]")).to_have_text(f"{PEOPLE - 1:,}")
    expect(page.locator("[data-region=reasons]")).to_contain_text("Unknown address")
    expect(page.locator("table.events tbody tr").first).to_contain_text("bounce report")
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
