"""Processing received messages: matching them to deliveries and what each kind does."""

from __future__ import annotations

import datetime as dt
import json

import django_rq
import pytest
from django.conf import settings
from django.utils import timezone

from campaigns.links import LinkTarget, unsubscribe_address
from campaigns.models import Contact, Suppression
from delivery import verp
from delivery.inbound.processing import inbound_process, inbound_requeue
from delivery.inbound.store import inbound_message_store
from delivery.models import BounceEvent, CampaignStats, Delivery, InboundMessage
from tests.delivery import returns
from tests.factories import make_campaign, make_contact, make_list

pytestmark = pytest.mark.django_db

State = InboundMessage.State


@pytest.fixture(autouse=True)
def bounce_domain(settings):
    settings.EDM_BOUNCE_DOMAIN = "bounces.edm.example"


@pytest.fixture
def customers():
    return make_list("Customers")


@pytest.fixture
def delivery(customers):
    campaign = make_campaign(lists=[customers])
    return returns.sent_delivery(campaign, make_contact("gone@a.example", contact_list=customers))


def receive(raw: bytes, *, to: list[str] | None = None, source=InboundMessage.Source.SMTP):
    """Store a message as a receiver would, and process it as its job would."""
    stored = inbound_message_store(source=source, raw=raw, recipients=to or [])
    return inbound_process(stored.pk)


def test_a_dsn_to_the_return_path_bounces_its_delivery(delivery):
    path = returns.return_path(delivery)
    message = receive(returns.dsn(returns.original(delivery), to=path, recipient=delivery.email))

    assert (message.state, message.kind) == (State.PROCESSED, "bounce")
    assert f"found by return path {path}" in message.result
    assert message.parsed["recipients"][0]["reason"] == "userunknown"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.reason, delivery.hard) == ("bounced", "userunknown", True)
    event = BounceEvent.objects.get()
    assert (event.source, event.inbound_id, event.status) == ("mail", message.pk, "5.1.1")


def test_a_report_received_twice_in_different_bytes_counts_once(delivery):
    dsn = returns.dsn(
        returns.original(delivery),
        to=returns.return_path(delivery),
        recipient=delivery.email,
        message_id="<same-report@mx1.mail.example>",
    )
    receive(dsn)
    forwarded = b"Received: from mailbox.example by mx\r\n" + dsn
    second = receive(forwarded, source=InboundMessage.Source.MAILBOX)

    assert second.state == State.PROCESSED
    assert BounceEvent.objects.count() == 1
    stats = CampaignStats.objects.get(campaign=delivery.campaign)
    assert (stats.sent, stats.bounced_hard) == (0, 1)


def test_a_job_run_twice_processes_the_message_once(delivery):
    raw = returns.dsn(
        returns.original(delivery), to=returns.return_path(delivery), recipient=delivery.email
    )
    first = receive(raw)
    again = inbound_process(first.pk)

    assert (again.state, again.processed_at) == (State.PROCESSED, first.processed_at)
    assert CampaignStats.objects.get(campaign=delivery.campaign).bounced_hard == 1


def test_a_bounce_at_a_plain_address_is_matched_by_the_message_id_it_quotes(delivery):
    message = receive(
        returns.dsn(returns.original(delivery), to="bounces@shop.example", recipient=delivery.email)
    )

    assert message.state == State.PROCESSED
    assert "found by Message-ID" in message.result
    delivery.refresh_from_db()
    assert delivery.status == "bounced"


def test_a_forged_return_path_is_ignored_and_says_why(delivery):
    forged = f"b-{delivery.pk}-aaaaaaaaaaaaaaaa@bounces.edm.example"
    message = receive(
        returns.dsn(returns.original(delivery), to=forged, recipient=delivery.email), to=[forged]
    )

    assert message.state == State.IGNORED
    assert message.result == f"forged return path {forged}"
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert not BounceEvent.objects.exists()
    assert not Suppression.objects.exists()


def test_a_forged_message_id_is_ignored(delivery):
    original = returns.original(delivery).replace(b"Message-ID: <", b"Message-ID: <1")
    message = receive(returns.dsn(original, to="bounces@shop.example", recipient=delivery.email))

    assert message.state == State.IGNORED
    assert message.result.startswith("forged Message-ID <1")
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_a_bounce_for_an_unknown_delivery_is_ignored(delivery):
    path = verp.encode(delivery.pk + 1000, "bounces.edm.example", settings.SECRET_KEY)
    message = receive(returns.dsn(b"Subject: x\r\n\r\n", to=path, recipient="who@a.example"))

    assert message.state == State.IGNORED
    assert message.result.startswith(f"unknown delivery {delivery.pk + 1000}")


def test_a_bounce_of_a_test_message_is_ignored(delivery):
    path = verp.encode(0, "bounces.edm.example", settings.SECRET_KEY)
    message = receive(returns.dsn(b"Subject: x\r\n\r\n", to=path, recipient=delivery.email))

    assert message.state == State.IGNORED
    assert message.result.startswith("a test message")


def test_a_bounce_that_names_nothing_of_ours_is_ignored(delivery):
    message = receive(
        returns.dsn(b"Subject: x\r\n\r\n", to="someone@shop.example", recipient=delivery.email)
    )
    assert (message.state, message.result) == (
        State.IGNORED,
        "no return path or Message-ID of ours",
    )


def test_a_delay_warning_changes_nothing(delivery):
    message = receive(
        returns.dsn(
            returns.original(delivery),
            to=returns.return_path(delivery),
            recipient=delivery.email,
            status="4.4.1",
            action="delayed",
            diagnostic="451 4.4.1 Connection timed out",
        )
    )

    assert message.state == State.PROCESSED
    assert "delay warning" in message.result
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert not BounceEvent.objects.exists()


def test_an_auto_reply_changes_nothing(delivery):
    message = receive(
        returns.auto_reply(
            "<x@shop.example>", to=returns.return_path(delivery), sender="a@a.example"
        )
    )

    assert (message.state, message.kind) == (State.PROCESSED, "autoreply")
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert not BounceEvent.objects.exists()
    assert Contact.objects.get(email="gone@a.example").status == "enabled"


def test_an_ordinary_message_is_ignored(delivery):
    message = receive(b"From: a@a.example\r\nSubject: hello\r\n\r\nJust saying hi.\r\n")
    assert (message.state, message.kind) == (State.IGNORED, "other")


def test_a_mail_to_the_unsubscribe_address_unsubscribes_from_the_campaigns_lists(delivery):
    customers = delivery.campaign.lists.get()
    other = make_list("Other")
    contact = delivery.contact
    other.memberships.create(contact=contact)
    address = unsubscribe_address(
        "bounces.edm.example", LinkTarget(delivery.campaign_id, contact.pk), settings.SECRET_KEY
    )

    message = receive(returns.unsubscribe_mail(to=address, sender=contact.email), to=[address])
    receive(returns.unsubscribe_mail(to=address, sender=contact.email), to=[address])

    assert (message.state, message.kind) == (State.PROCESSED, "unsubscribe")
    assert customers.memberships.get(contact=contact).status == "unsubscribed"
    assert other.memberships.get(contact=contact).status == "subscribed"
    assert CampaignStats.objects.get(campaign=delivery.campaign).unsubscribed == 1
    contact.refresh_from_db()
    assert contact.status == "enabled"  # unsubscribed from a list, not complained


def test_apple_mails_unsubscribe_button_is_an_unsubscribe_not_a_complaint(delivery):
    contact = delivery.contact
    address = unsubscribe_address(
        "bounces.edm.example", LinkTarget(delivery.campaign_id, contact.pk), settings.SECRET_KEY
    )
    raw = (
        f"From: {contact.email}\r\nTo: {address}\r\nSubject: unsubscribe\r\n\r\n"
        "Apple Mail sent this email to unsubscribe from the message\r\n"
    ).encode()

    message = receive(raw)

    assert message.kind == "unsubscribe"
    contact.refresh_from_db()
    assert contact.status == "enabled"
    assert delivery.campaign.lists.get().memberships.get(contact=contact).status == "unsubscribed"


def test_a_forged_unsubscribe_address_changes_nothing(delivery):
    forged = f"u-{delivery.campaign_id}-{delivery.contact_id}-{'a' * 20}@bounces.edm.example"
    message = receive(returns.unsubscribe_mail(to=forged, sender="x@a.example"), to=[forged])

    assert (message.state, message.result) == (
        State.IGNORED,
        f"forged unsubscribe address {forged}",
    )
    assert delivery.campaign.lists.get().memberships.get().status == "subscribed"


def test_a_complaint_report_to_a_plain_address_marks_the_delivery_complained(delivery):
    message = receive(
        returns.arf(returns.original(delivery), to="fbl@shop.example", recipient=delivery.email)
    )

    assert (message.state, message.kind) == (State.PROCESSED, "complaint")
    delivery.refresh_from_db()
    assert delivery.status == "complained"
    assert Contact.objects.get(pk=delivery.contact_id).status == "complained"


def test_a_webhook_body_that_is_not_json_fails_with_the_reason(delivery):
    message = receive(b"not json", source=InboundMessage.Source.SENDGRID)
    assert (message.state, message.error) == (State.FAILED, "the SendGrid webhook body is not JSON")


def test_sendgrid_events_each_find_their_delivery_by_message_id(customers):
    campaign = make_campaign(lists=[customers])
    gone = returns.sent_delivery(campaign, make_contact("gone@a.example", contact_list=customers))
    angry = returns.sent_delivery(campaign, make_contact("angry@a.example", contact_list=customers))

    def message_id(delivery: Delivery) -> str:
        return returns.original(delivery).split(b"Message-ID: ")[1].split(b"\r\n")[0].decode()

    events = [
        {"event": "processed", "email": "gone@a.example", "sg_event_id": "e0"},
        {
            "event": "bounce",
            "type": "bounce",
            "email": "gone@a.example",
            "smtp-id": message_id(gone),
            "status": "5.1.1",
            "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
            "sg_event_id": "e1",
        },
        {
            "event": "spamreport",
            "email": "angry@a.example",
            "smtp-id": message_id(angry),
            "sg_event_id": "e2",
        },
        {"event": "open", "email": "angry@a.example", "sg_event_id": "e3"},
    ]
    message = receive(json.dumps(events).encode(), source=InboundMessage.Source.SENDGRID)

    assert (message.state, message.kind) == (State.PROCESSED, "mixed")
    assert "2 other events" in message.result
    gone.refresh_from_db()
    angry.refresh_from_db()
    assert (gone.status, gone.reason, gone.hard) == ("bounced", "userunknown", True)
    assert angry.status == "complained"
    assert sorted(BounceEvent.objects.values_list("source", "report")) == [
        ("sendgrid", "sendgrid:e1"),
        ("sendgrid", "sendgrid:e2"),
    ]


def test_a_message_whose_job_was_lost_is_enqueued_again_once(transactional_db, redis_db):
    # transactional_db: django-rq enqueues when the transaction commits (COMMIT_MODE).
    stored = inbound_message_store(source=InboundMessage.Source.SMTP, raw=b"Subject: x\r\n\r\n")
    assert inbound_requeue() == 0  # just received: its own job is still on its way
    InboundMessage.objects.filter(pk=stored.pk).update(
        received_at=timezone.now() - dt.timedelta(minutes=5)
    )

    assert inbound_requeue() == 1
    assert inbound_requeue() == 0  # its job is queued now
    queue = django_rq.get_queue("default")
    assert [job.args for job in queue.jobs] == [(stored.pk,)]


def test_a_dsn_for_a_transactional_message_bounces_that_message(bounce_domain):
    from delivery.models import TxMessage, TxRequest

    make_contact("gone@a.example")
    request = TxRequest.objects.create(
        template_name="Reset", subject="Reset", html="<p>x</p>", from_email="a@shop.example"
    )
    tx = TxMessage.objects.create(
        request=request, email="gone@a.example", domain="a.example", status="sent"
    )
    path = verp.encode(tx.pk, settings.EDM_BOUNCE_DOMAIN, settings.SECRET_KEY, verp.Kind.TX)
    original = f"Return-Path: <{path}>\r\nTo: gone@a.example\r\nSubject: Reset\r\n\r\nx\r\n"

    message = receive(returns.dsn(original.encode(), to=path, recipient="gone@a.example"))

    assert message.state == State.PROCESSED
    assert f"transactional message {tx.pk}" in message.result
    tx.refresh_from_db()
    assert (tx.status, tx.reason, tx.hard) == ("bounced", "userunknown", True)
    assert Contact.objects.get(email="gone@a.example").status == "bounced"
