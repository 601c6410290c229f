"""Capture mode (what `make run` uses) and test sends, through real workers."""

from __future__ import annotations

import dkim
import pytest

from campaigns.services.campaigns import campaign_start
from delivery import capture
from delivery import dkim as our_dkim
from delivery.models import CampaignStats, CapturedMessage, SenderDomain
from delivery.test_send import test_send_enqueue, test_send_results
from tests.factories import make_campaign, make_contact, make_list
from tests.smtpd_thread import running_smtpd

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def capture_mode(settings, monkeypatch):
    with running_smtpd(capture.CaptureHandler(), hostname=capture.HOSTNAME) as port:
        monkeypatch.setenv("EDM_DELIVERY_MODE", "capture")
        monkeypatch.setenv("EDM_CAPTURE_PORT", str(port))
        settings.EDM_DELIVERY_MODE = "capture"
        settings.EDM_CAPTURE_PORT = port
        yield port


def test_a_campaign_in_capture_mode_lands_in_the_outbox_dkim_signed(capture_mode, rq_burst):
    key = SenderDomain.objects.create(
        domain="shop.example",
        selector="s1",
        private_key_pem=our_dkim.generate_private_key().decode(),
    )
    customers = make_list()
    for email in ("ann@gmail.com", "bob@qq.com", "cy@163.com"):
        make_contact(email, contact_list=customers, name=email.split("@")[0].title())
    campaign = make_campaign(lists=[customers], subject="Hello {{ contact.name }}")

    campaign_start(campaign)
    rq_burst()

    captured = {m.recipients[0]: m for m in CapturedMessage.objects.all()}
    assert set(captured) == {"ann@gmail.com", "bob@qq.com", "cy@163.com"}
    assert captured["bob@qq.com"].subject == "Hello Bob"
    record = our_dkim.dns_record(key.private_key_pem, domain=key.domain, selector=key.selector)
    for message in captured.values():
        assert dkim.verify(bytes(message.raw), dnsfunc=lambda *a, **k: record.value.encode())
    campaign.refresh_from_db()
    assert campaign.status == "finished"
    assert CampaignStats.objects.get(campaign=campaign).sent == 3


def test_a_test_send_goes_the_same_way_and_records_no_delivery(capture_mode, rq_burst):
    campaign = make_campaign(lists=[make_list()], subject="Draft {{ contact.name }}")

    typed = [" me@Example.COM ", "me@example.com", "boss@example.org"]
    assert test_send_enqueue(campaign, typed) == ["me@example.com", "boss@example.org"]
    rq_burst()

    assert sorted(m.recipients[0] for m in CapturedMessage.objects.all()) == [
        "boss@example.org",
        "me@example.com",
    ]
    assert [r.outcome for r in test_send_results(campaign)] == ["sent", "sent"]
    assert not campaign.deliveries.exists()
    campaign.refresh_from_db()
    assert campaign.status == "draft"


NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


def test_a_test_send_of_two_nested_range_loops_finishes_with_the_budget_error(
    capture_mode, rq_burst
):
    campaign = make_campaign(lists=[make_list()], html="<p>Hi</p>\n" + NESTED_LOOPS)
    test_send_enqueue(campaign, ["me@example.com"])
    rq_burst()

    [result] = test_send_results(campaign)
    assert (result.outcome, result.detail) == (
        "failed",
        "html: the template ran past its budget of 100,000 steps (line 2)",
    )
    assert not CapturedMessage.objects.exists()


def test_a_delivery_whose_render_blows_the_budget_fails_and_the_batch_goes_on(
    capture_mode, rq_burst
):
    customers = make_list()
    for email in ("ann@gmail.com", "bob@gmail.com", "cy@gmail.com", "di@gmail.com", "ed@gmail.com"):
        make_contact(email, contact_list=customers)
    make_contact("eve@gmail.com", contact_list=customers, attributes={"loop": True})
    make_contact("fay@gmail.com", contact_list=customers)
    campaign = make_campaign(
        lists=[customers],
        html="<p>Hi</p>{% if contact.attributes.loop %}\n" + NESTED_LOOPS + "{% endif %}",
    )

    campaign_start(campaign)  # its first five contacts render: eve is the sixth
    rq_burst()

    outcomes = dict(campaign.deliveries.values_list("email", "status"))
    assert outcomes.pop("eve@gmail.com") == "failed"
    assert set(outcomes.values()) == {"sent"} and len(outcomes) == 6
    failed = campaign.deliveries.get(email="eve@gmail.com")
    assert failed.reason == "contenterror"
    assert "budget of 100,000 steps (line 2)" in failed.last_reply
    assert CapturedMessage.objects.count() == 6
