"""Bounces and complaints that come back for transactional messages (found by their t-VERP
return path): the message's status, and the recipient's suppression."""

from __future__ import annotations

import pytest

from campaigns.models import Contact, Suppression
from delivery.models import TxMessage, TxRequest
from delivery.tx.record import tx_bounce_record
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def sent_message(email: str = "ana@shop.example") -> TxMessage:
    request = TxRequest.objects.create(
        template_name="Reset", subject="Reset", html="<p>x</p>", from_email="a@shop.example"
    )
    return TxMessage.objects.create(
        request=request, email=email, domain=email.rpartition("@")[2], status="sent"
    )


def test_a_hard_bounce_marks_the_message_and_suppresses_the_address():
    make_contact("ana@shop.example")
    message = sent_message()
    tx_bounce_record(message.pk, reason="userunknown", hard=True, code=550, text="no such user")
    message.refresh_from_db()
    assert (message.status, message.reason, message.hard, message.last_code) == (
        "bounced",
        "userunknown",
        True,
        550,
    )
    assert Contact.objects.get().status == "bounced"
    assert Suppression.objects.get().reason == "bounced"


def test_a_bounce_about_the_sender_never_suppresses_the_recipient():
    message = sent_message()
    tx_bounce_record(message.pk, reason="blocked", hard=False, code=554)
    assert TxMessage.objects.get().status == "bounced"
    assert not Suppression.objects.exists()


def test_a_complaint_marks_it_complained_and_suppresses():
    make_contact("ana@shop.example")
    message = sent_message()
    tx_bounce_record(message.pk, reason="feedback", hard=False, complaint=True)
    assert TxMessage.objects.get().status == "complained"
    assert Contact.objects.get().status == "complained"


def test_recording_the_same_bounce_twice_changes_nothing_more():
    message = sent_message()
    tx_bounce_record(message.pk, reason="userunknown", hard=True)
    tx_bounce_record(message.pk, reason="userunknown", hard=True)
    assert Suppression.objects.count() == 1
    assert TxMessage.objects.get().status == "bounced"


def test_an_unknown_message_is_ignored():
    assert tx_bounce_record(424242, reason="userunknown", hard=True) is None
    assert not Suppression.objects.exists()
