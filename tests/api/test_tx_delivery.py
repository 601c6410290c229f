"""Transactional mail delivered by real workers: signed, with attachments, bounces handled,
retried, and ahead of a running campaign."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy

import dkim
import pytest
from django.utils import timezone

from campaigns.models import Contact, ContactList, Membership, Suppression, Template
from delivery import dkim as our_dkim
from delivery import reconcile, verp
from delivery.models import SenderDomain, SiteSetting, TxMessage
from tests.api.conftest import wait_until
from tests.factories import make_contact, make_list
from tests.workers import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4 not really a pdf\n" * 100


@pytest.fixture
def receipt(db):
    return Template.objects.create(
        name="Receipt",
        subject="Your receipt {{ contact.attributes.number }}",
        html="<p>Thanks {{ contact.name }}: order {{ contact.attributes.number }}.</p>",
    )


def dkim_key(domain: str = "shop.example") -> SenderDomain:
    return SenderDomain.objects.create(
        domain=domain, selector="edm1", private_key_pem=our_dkim.generate_private_key().decode()
    )


def dkim_verifies(message: bytes, sender: SenderDomain) -> bool:
    record = our_dkim.dns_record(
        sender.private_key_pem, domain=sender.domain, selector=sender.selector
    )
    return dkim.verify(message, dnsfunc=lambda name, timeout=5: record.value.encode())


def many_contacts(count: int) -> ContactList:
    """A list of `count` contacts at a.example, written in two statements."""
    customers = make_list()
    contacts = Contact.objects.bulk_create(
        Contact(
            email=f"user{i:03}@a.example", email_key=f"user{i:03}@a.example", domain="a.example"
        )
        for i in range(count)
    )
    Membership.objects.bulk_create(Membership(list=customers, contact=c) for c in contacts)
    return customers


def send_receipt(api, template, *recipients, **fields):
    body = {
        "template": template.pk,
        "from_email": "orders@shop.example",
        "from_name": "Shop",
        "recipients": list(recipients),
        "data": {"number": "A-17"},
    } | fields
    response = api.post("/tx", body)
    assert response.status_code == 202, response.content
    return response.json()


def test_a_message_with_attachments_is_delivered_signed_without_list_headers(
    api, mx_mode, rq_burst, receipt
):
    sender = dkim_key()
    answer = send_receipt(
        api,
        receipt,
        {"email": "ana@a.example", "name": "Ana"},
        headers={"X-Order": "A-17", "In-Reply-To": "<order-17@shop.example>"},
        attachments=[
            {"filename": "发票 A-17.pdf", "content": base64.b64encode(PDF).decode()},
            {"filename": "notes.txt", "content_type": "text/plain", "content": "aGk="},
        ],
    )
    rq_burst("transactional")

    [received] = mx_mode.wait_for_messages(1)
    message_id = answer["messages"][0]["id"]
    assert received.rcpt_tos == ["ana@a.example"]
    assert verp.decode_token(received.mail_from, _secret()) == (verp.Kind.TX, message_id)
    assert verp.decode(received.mail_from, _secret()) is None  # never taken for a delivery
    assert dkim_verifies(received.data, sender)
    parsed = email.message_from_bytes(received.data, policy=email.policy.default)
    assert parsed["Subject"] == "Your receipt A-17"
    assert parsed["X-Order"] == "A-17"
    assert parsed["In-Reply-To"] == "<order-17@shop.example>"
    assert parsed["List-Unsubscribe"] is None and parsed["List-Id"] is None
    assert parsed.get_content_type() == "multipart/mixed"
    body = parsed.get_body(("html",)).get_content()
    assert "Thanks Ana: order A-17." in body
    files = {part.get_filename(): part.get_content() for part in parsed.iter_attachments()}
    assert files == {"发票 A-17.pdf": PDF, "notes.txt": "hi"}

    shown = api.get(f"/tx/{message_id}").json()
    assert (shown["status"], shown["attempts"], shown["site"]) == ("sent", 1, "mail.example")
    assert [(a["outcome"], a["code"]) for a in shown["attempt_log"]] == [("sent", 250)]
    assert parsed["Message-ID"] == shown["message_id"]


def test_a_user_unknown_reply_bounces_suppresses_and_the_next_request_is_refused(
    api, mx_mode, rq_burst, receipt
):
    mx_mode.recorder.script.rcpt["gone@a.example"] = "550 5.1.1 The email account does not exist"
    make_contact("gone@a.example")
    first = send_receipt(api, receipt, "gone@a.example")["messages"][0]
    rq_burst("transactional")

    shown = api.get(f"/tx/{first['id']}").json()
    assert (shown["status"], shown["reason"], shown["hard"], shown["last_code"]) == (
        "bounced",
        "userunknown",
        True,
        550,
    )
    assert Contact.objects.get(email="gone@a.example").status == "bounced"
    assert Suppression.objects.filter(value="gone@a.example", reason="bounced").exists()

    again = send_receipt(api, receipt, "gone@a.example")["messages"][0]
    assert (again["status"], again["reason"]) == ("refused", "suppressed: hard bounce")


def test_a_temporary_failure_is_deferred_and_retried_by_the_reconciler(
    api, mx_mode, rq_burst, receipt
):
    mx_mode.recorder.script.rcpt["later@a.example"] = "451 4.3.0 Try again later"
    message_id = send_receipt(api, receipt, "later@a.example")["messages"][0]["id"]
    rq_burst("transactional")
    message = TxMessage.objects.get(pk=message_id)
    assert message.status == "deferred"
    wait = message.next_attempt_at - timezone.now()
    assert dt.timedelta(minutes=4) < wait < dt.timedelta(minutes=6)

    del mx_mode.recorder.script.rcpt["later@a.example"]
    TxMessage.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert reconcile.reconcile()["tx_retried"] == 1
    rq_burst("transactional")

    shown = api.get(f"/tx/{message_id}").json()
    assert (shown["status"], shown["attempts"]) == ("sent", 2)
    assert [a["outcome"] for a in shown["attempt_log"]] == ["deferred", "sent"]


def test_a_lost_job_is_queued_again_by_the_reconciler(api, mx_mode, rq_burst, receipt, redis_db):
    message_id = send_receipt(api, receipt, "ana@a.example")["messages"][0]["id"]
    redis_db.flushdb()  # the job is gone with Redis; the database still says queued
    TxMessage.objects.update(updated_at=timezone.now() - dt.timedelta(minutes=1))
    assert reconcile.reconcile()["tx_revived"] == 1
    rq_burst("transactional")
    assert TxMessage.objects.get(pk=message_id).status == "sent"
    assert len(mx_mode.messages) == 1


def test_transactional_mail_goes_out_while_a_campaign_is_still_sending(
    api, mx_mode, receipt, redis_db
):
    customers = many_contacts(600)
    SiteSetting.objects.create(site="mail.example", rate="50/s")  # 12 s for the campaign
    campaign = api.post(
        "/campaigns",
        {
            "name": "Big",
            "from_email": "news@shop.example",
            "lists": [customers.pk],
            "subject": "Hello",
            "html": "<p>Hello</p>",
        },
    ).json()
    path = f"/campaigns/{campaign['id']}"
    worker = WorkerProcess(())
    try:
        api.post(f"{path}/start")
        assert wait_until(lambda: len(mx_mode.messages) >= 20, timeout=30)
        message_id = send_receipt(api, receipt, "vip@a.example")["messages"][0]["id"]
        assert wait_until(lambda: TxMessage.objects.get(pk=message_id).status == "sent", timeout=60)
        status_when_sent = api.get(f"{path}/stats").json()["status"]
        position = [m.rcpt_tos[0] for m in mx_mode.messages].index("vip@a.example")
        # The campaign goes on after it: the message did not wait for the campaign's end.
        assert wait_until(lambda: len(mx_mode.messages) > position + 20, timeout=30)
        api.post(f"{path}/cancel")
    finally:
        worker.stop()
    assert status_when_sent == "sending"
    assert api.get(f"{path}/stats").json()["sent"] < 600


def test_transactional_mail_has_a_connection_of_its_own_when_a_campaign_holds_them_all(
    api, mx_mode, receipt, redis_db
):
    customers = many_contacts(400)
    # One connection for the site, held by one 200-message batch for 8 s at a time.
    SiteSetting.objects.create(site="mail.example", rate="25/s", max_connections=1)
    campaign = api.post(
        "/campaigns",
        {
            "name": "Big",
            "from_email": "news@shop.example",
            "lists": [customers.pk],
            "subject": "Hello",
            "html": "<p>Hello</p>",
        },
    ).json()
    workers = [WorkerProcess(()), WorkerProcess(())]
    try:
        api.post(f"/campaigns/{campaign['id']}/start")
        assert wait_until(lambda: len(mx_mode.messages) >= 10, timeout=30)
        message_id = send_receipt(api, receipt, "vip@a.example")["messages"][0]["id"]
        assert wait_until(lambda: TxMessage.objects.get(pk=message_id).status == "sent", timeout=60)
        sent_before = len(mx_mode.messages)
    finally:
        for worker in workers:
            worker.stop()
    order = [m.rcpt_tos[0] for m in mx_mode.messages]
    # Delivered during the first batch, which held the site's only campaign connection.
    assert order.index("vip@a.example") < 200
    assert sent_before < 400
    assert mx_mode.max_simultaneous == 2


def _secret() -> str:
    from django.conf import settings

    return settings.SECRET_KEY


def test_when_redis_drops_the_acceptance_marks_the_other_sites_wait_for_a_later_run(
    api, mx_mode, receipt, redis_db, monkeypatch
):
    from delivery import control
    from delivery.tx.send import tx_request_send

    # Three sites, in this order. The drop after the first mark is noticed when the second
    # message's mark fails (that message has gone out: the log's documented window); the
    # third site is then not started.
    answer = send_receipt(api, receipt, "ana@a.example", "olga@other.example", "sam@shop.example")
    real_mark = control.AcceptanceLog.mark

    dropped = []

    def mark_then_lose_the_connection(log, delivery_id, reply):
        real_mark(log, delivery_id, reply)
        if not dropped:  # Redis drops the log's connection right after the first mark
            log.connection.send_command("CLIENT", "ID")  # its reply comes after the mark's
            redis_db.client_kill_filter(_id=_client_id_of(log))
            dropped.append(delivery_id)

    def _client_id_of(log):
        log.connection.read_response()  # the mark's
        log.unread -= 1
        return log.connection.read_response()

    monkeypatch.setattr(control.AcceptanceLog, "mark", mark_then_lose_the_connection)
    tx_request_send(answer["request"])  # in this process: the hook needs to be in the sender

    statuses = dict(TxMessage.objects.values_list("email", "status"))
    assert statuses == {
        "ana@a.example": "sent",
        "olga@other.example": "sent",  # the database records it: not sent twice
        "sam@shop.example": "queued",  # held back, queued again for a later run
    }
    assert sorted(m.rcpt_tos[0] for m in mx_mode.messages) == [
        "ana@a.example",
        "olga@other.example",
    ]
