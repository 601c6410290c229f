"""A visitor's journey at phone width, with JavaScript off: sign up on a hosted form, get the
confirmation (read in the Outbox by the marketer), confirm, then leave one list of two on
the preference centre. Capture mode and a real worker, like `make run`."""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings
from playwright.sync_api import expect

from campaigns import links
from campaigns.links import LinkTarget
from campaigns.models import Consent, Contact
from delivery import capture
from delivery.models import CapturedMessage
from tests.campaigns.signup_helpers import make_signup_form
from tests.factories import make_campaign, make_list
from tests.smtpd_thread import running_smtpd

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def like_make_run(settings, monkeypatch, live_server):
    """The capture SMTP server, and links in mail pointing at the live server."""
    with running_smtpd(capture.CaptureHandler(), hostname=capture.HOSTNAME) as capture_port:
        for name, value in {
            "EDM_DELIVERY_MODE": "capture",
            "EDM_CAPTURE_PORT": str(capture_port),
            "EDM_PUBLIC_URL": live_server.url,
        }.items():
            monkeypatch.setenv(name, value)
        settings.EDM_DELIVERY_MODE = "capture"
        settings.EDM_CAPTURE_PORT = capture_port
        settings.EDM_PUBLIC_URL = live_server.url
        # The test waits no minimum honestly: the check itself is tested by forging stamps.
        settings.EDM_FORM_MIN_SECONDS = 0
        yield


@pytest.fixture
def worker(like_make_run, rq_worker):
    return rq_worker


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized browser with JavaScript off: recipient pages must work without it."""
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_visitor_signs_up_confirms_and_then_leaves_one_list_on_a_phone(
    phone, logged_in_page, worker, live_server, screenshot
):
    newsletter, offers = make_list("Newsletter"), make_list("Offers")
    form = make_signup_form(
        [newsletter, offers], name="Join us", visitor_chooses_lists=True, asks_name=True
    )

    # Sign up on the hosted form.
    phone.goto(f"/f/{form.public_id}/")
    expect(phone.get_by_role("heading", name="Join us")).to_be_visible()
    expect(phone.locator("#id_website")).to_be_hidden()
    expect(phone.get_by_text("Yes, send me the weekly newsletter.")).to_be_visible()
    assert fits_the_width(phone)
    screenshot(phone, "signup-form-phone")
    phone.get_by_label("Email address").fill("wang.fang@example.com")
    phone.get_by_label("Name").fill("Wang Fang")
    phone.get_by_label("Newsletter").check()
    phone.get_by_label("Offers").check()
    phone.get_by_role("button", name="Subscribe").click()
    expect(phone.get_by_role("heading", name="Check your inbox")).to_be_visible()
    assert fits_the_width(phone)

    # The worker sends the confirmation; the marketer finds it in the Outbox.
    deadline = time.monotonic() + 90
    while not CapturedMessage.objects.exists():
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.2)
    outbox = logged_in_page
    outbox.goto("/delivery/outbox/")
    outbox.get_by_role("link", name="Please confirm your subscription").click()
    text = outbox.locator("pre.wrap").inner_text()
    assert "Newsletter, Offers" in text
    link = re.search(rf"{re.escape(live_server.url)}/f/confirm/\S+/", text).group(0)

    # Follow the link (opening it changes nothing) and press confirm.
    phone.goto(link)
    contact = Contact.objects.get(email="wang.fang@example.com")
    assert set(contact.memberships.values_list("status", flat=True)) == {"unconfirmed"}
    phone.get_by_role("button", name="Confirm my subscription").click()
    expect(phone.get_by_role("heading", name="You are subscribed")).to_be_visible()
    assert fits_the_width(phone)

    # Subscribed, with the consent recorded.
    assert dict(contact.memberships.values_list("list__name", "status")) == {
        "Newsletter": "subscribed",
        "Offers": "subscribed",
    }
    consents = list(Consent.objects.filter(contact=contact).order_by("list__name"))
    assert [(c.list.name, c.form, c.method) for c in consents] == [
        ("Newsletter", form, "form"),
        ("Offers", form, "form"),
    ]
    for consent in consents:
        assert consent.confirmed_at is not None and consent.confirmed_at >= consent.requested_at
        assert consent.text == "Yes, send me the weekly newsletter."
        assert consent.client_address == "127.0.0.1" and "Chrome" in consent.user_agent

    # A campaign's unsubscribe link opens the preference centre: stay on one, leave the other.
    campaign = make_campaign(lists=[newsletter], status="finished")
    preferences = links.unsubscribe_url(
        live_server.url, LinkTarget(campaign.pk, contact.pk), settings.SECRET_KEY
    )
    phone.goto(preferences)
    expect(phone.get_by_role("heading", name="Manage your subscriptions")).to_be_visible()
    expect(phone.get_by_label("Newsletter")).to_be_checked()
    expect(phone.get_by_label("Offers")).to_be_checked()
    assert fits_the_width(phone)
    screenshot(phone, "preferences-phone")
    phone.get_by_label("Offers").uncheck()
    phone.get_by_label("Your name").fill("Wang Fang (王芳)")
    phone.get_by_role("button", name="Save my choices").click()
    expect(phone.get_by_text("You left: Offers.")).to_be_visible()
    assert dict(contact.memberships.values_list("list__name", "status")) == {
        "Newsletter": "subscribed",
        "Offers": "unsubscribed",
    }
    contact.refresh_from_db()
    assert contact.name == "Wang Fang (王芳)"
