"""The confirmation email, sent by real workers through the transactional lane to the Outbox."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from campaigns.models import Consent, Membership, Suppression
from delivery import capture
from delivery.models import CapturedMessage
from delivery.outbox import captured_message_parts
from tests.campaigns.signup_helpers import make_signup_form, submit
from tests.factories import make_list
from tests.smtpd_thread import running_smtpd

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def capture_mode(settings, monkeypatch):
    with running_smtpd(capture.CaptureHandler(), hostname=capture.HOSTNAME) as port:
        monkeypatch.setenv("EDM_DELIVERY_MODE", "capture")
        monkeypatch.setenv("EDM_CAPTURE_PORT", str(port))
        monkeypatch.setenv("EDM_PUBLIC_URL", "https://mail.shop.example")
        settings.EDM_DELIVERY_MODE = "capture"
        settings.EDM_CAPTURE_PORT = port
        yield port


def test_a_sign_up_reaches_the_outbox_as_a_confirmation_whose_link_subscribes(
    capture_mode, rq_burst
):
    newsletter = make_list("Newsletter")
    form = make_signup_form([newsletter])
    assert submit(Client(), form, "ann@example.com", name="Ann").status_code == 200
    rq_burst("transactional")  # the sign-up job, then the tx job it queues
    captured = CapturedMessage.objects.get()
    assert captured.recipients == ["ann@example.com"]
    assert captured.subject == "Please confirm your subscription"
    parts = captured_message_parts(captured)
    link = re.search(r"https://mail\.shop\.example(/f/confirm/[^/\s\"]+/)", parts.text).group(1)
    assert link in parts.html
    browser = Client()
    browser.get(link)
    browser.post(link, {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value})
    assert Membership.objects.get().status == "subscribed"
    assert Consent.objects.get().confirmed_at is not None


def test_a_suppressed_address_reaches_no_outbox(capture_mode, rq_burst):
    form = make_signup_form([make_list("Newsletter")])
    Suppression.objects.create(value="gone@example.com", reason="bounced", scope="email")
    assert submit(Client(), form, "gone@example.com").status_code == 200
    rq_burst("transactional")
    assert not CapturedMessage.objects.exists()
