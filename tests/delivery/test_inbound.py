"""Receiving what comes back: bounce-in over SMTP and the IMAP/POP3 mailbox poller."""

from __future__ import annotations

import smtplib
import ssl
from datetime import timedelta

import pytest
import trustme
from django.utils import timezone

from delivery.inbound.mailbox import MailboxAddress, MailboxError, mailbox_address, poll
from delivery.inbound.receiver import BounceHandler
from delivery.inbound.store import inbound_message_store, inbound_raw_expire
from delivery.models import InboundMessage
from tests.mailboxes import ImapHandler, Mailbox, Pop3Handler, RunningServer
from tests.smtpd_thread import running_smtpd

DSN = (
    b"From: MAILER-DAEMON@mx.example.net\r\nTo: b-abc123@bounces.test\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <%d@mx.example.net>\r\n"
    b"\r\nThis is the mail system at host mx.example.net.\r\n.leading dot line\r\n"
)


def dsn(number: int) -> bytes:
    return DSN.replace(b"%d", str(number).encode())


@pytest.fixture
def bounce_in(transactional_db):
    with running_smtpd(BounceHandler("bounces.test"), size_limit=4096) as port:
        yield port


def test_bounce_in_accepts_mail_for_the_bounce_domain(bounce_in):
    with smtplib.SMTP("127.0.0.1", bounce_in, timeout=10) as smtp:
        smtp.sendmail("", ["b-abc123@Bounces.Test"], dsn(1))
    stored = InboundMessage.objects.get()
    assert stored.source == InboundMessage.Source.SMTP
    assert stored.recipients == ["b-abc123@Bounces.Test"]
    assert stored.state == InboundMessage.State.RECEIVED
    assert bytes(stored.raw) == dsn(1)


def test_bounce_in_is_never_a_relay(bounce_in):
    with smtplib.SMTP("127.0.0.1", bounce_in, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("spammer@example.com")
        code, text = smtp.rcpt("victim@example.org")
        assert code == 550
        assert b"Relaying denied" in text
        code, _ = smtp.rcpt("victim@bounces.test.example.org")
        assert code == 550
    assert not InboundMessage.objects.exists()


def test_bounce_in_refuses_messages_over_the_size_limit(bounce_in):
    # smtplib declares SIZE= at MAIL FROM, so the refusal comes there, before DATA.
    with (
        smtplib.SMTP("127.0.0.1", bounce_in, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        smtp.sendmail("", ["b-x@bounces.test"], dsn(1) + b"x" * 8000 + b"\r\n")
    assert refused.value.smtp_code == 552
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_the_same_bytes_received_twice_are_recorded_once():
    first = inbound_message_store(source=InboundMessage.Source.MAILBOX, raw=dsn(7))
    again = inbound_message_store(source=InboundMessage.Source.SMTP, raw=dsn(7))
    assert again.pk == first.pk
    assert InboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_raw_text_is_dropped_after_the_retention_period(settings):
    settings.EDM_INBOUND_KEEP_DAYS = 30
    old = inbound_message_store(source=InboundMessage.Source.SMTP, raw=dsn(1))
    new = inbound_message_store(source=InboundMessage.Source.SMTP, raw=dsn(2))
    InboundMessage.objects.filter(pk__in=[old.pk, new.pk]).update(
        state=InboundMessage.State.PROCESSED
    )
    InboundMessage.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=31))

    assert inbound_raw_expire() == 1
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.raw is None
    assert bytes(new.raw) == dsn(2)


def test_mailbox_urls_are_parsed():
    address = mailbox_address(
        "imaps://bounce%40example.com:p%3Ass@mail.example.com/Bounces?move_to=Done"
    )
    assert address == MailboxAddress(
        scheme="imaps",
        host="mail.example.com",
        port=993,
        user="bounce@example.com",
        password="p:ss",
        folder="Bounces",
        move_to="Done",
    )
    assert mailbox_address("pop3s://u:p@127.0.0.1:1995").port == 1995
    with pytest.raises(MailboxError, match="unsupported"):
        mailbox_address("http://u:p@example.com")


@pytest.fixture(scope="module")
def tls():
    """A trustme CA, a server context with a certificate for 127.0.0.1, a trusting client."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


@pytest.fixture(params=["pop3s", "imaps"])
def mailbox_server(request, tls):
    handler = Pop3Handler if request.param == "pop3s" else ImapHandler
    box = Mailbox(user="bounces", password="s3cret")
    server = RunningServer(handler, box, tls[0])
    server.scheme = request.param
    yield server
    server.stop()


def address_of(server: RunningServer, **changes) -> MailboxAddress:
    values = {
        "scheme": server.scheme,
        "host": "127.0.0.1",
        "port": server.port,
        "user": "bounces",
        "password": "s3cret",
    } | changes
    return MailboxAddress(**values)


def record(raw: bytes) -> None:
    inbound_message_store(source=InboundMessage.Source.MAILBOX, raw=raw)


@pytest.mark.django_db
def test_poll_records_every_message_then_removes_it(mailbox_server, tls):
    mailbox_server.mailbox.folders["INBOX"].extend([dsn(1), dsn(2), dsn(3)])

    result = poll(address_of(mailbox_server), record, tls=tls[1])

    assert (result.fetched, result.stored) == (3, 3)
    assert sorted(bytes(m.raw) for m in InboundMessage.objects.all()) == [dsn(1), dsn(2), dsn(3)]
    assert all(m.source == InboundMessage.Source.MAILBOX for m in InboundMessage.objects.all())
    assert mailbox_server.mailbox.folders["INBOX"] == []


@pytest.mark.django_db
def test_an_interrupted_poll_loses_nothing_and_records_nothing_twice(mailbox_server, tls):
    mailbox_server.mailbox.folders["INBOX"].extend([dsn(1), dsn(2), dsn(3)])
    mailbox_server.mailbox.break_after_fetches = 1

    with pytest.raises(MailboxError):
        poll(address_of(mailbox_server), record, tls=tls[1])
    assert InboundMessage.objects.count() == 1
    assert len(mailbox_server.mailbox.folders["INBOX"]) >= 2  # nothing unrecorded was removed

    mailbox_server.mailbox.break_after_fetches = None
    poll(address_of(mailbox_server), record, tls=tls[1])
    assert InboundMessage.objects.count() == 3
    assert mailbox_server.mailbox.folders["INBOX"] == []


@pytest.mark.django_db
def test_a_failing_store_keeps_the_message_on_the_server(mailbox_server, tls):
    mailbox_server.mailbox.folders["INBOX"].append(dsn(1))

    def broken_store(raw: bytes) -> None:
        raise OSError("disk full")

    with pytest.raises(MailboxError, match="disk full"):
        poll(address_of(mailbox_server), broken_store, tls=tls[1])
    assert mailbox_server.mailbox.folders["INBOX"] == [dsn(1)]


@pytest.mark.django_db
def test_a_wrong_password_is_a_clear_error(mailbox_server, tls):
    with pytest.raises(MailboxError, match=r"127\.0\.0\.1"):
        poll(address_of(mailbox_server, password="wrong"), record, tls=tls[1])


@pytest.mark.django_db
def test_an_untrusted_certificate_is_refused(mailbox_server):
    with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED"):
        poll(address_of(mailbox_server), record, tls=ssl.create_default_context())


@pytest.mark.django_db
def test_imap_can_move_instead_of_delete(tls):
    box = Mailbox(user="bounces", password="s3cret")
    box.folders["INBOX"].append(dsn(1))
    server = RunningServer(ImapHandler, box, tls[0])
    server.scheme = "imaps"
    try:
        poll(address_of(server, move_to="Processed"), record, tls=tls[1])
    finally:
        server.stop()
    assert box.folders["INBOX"] == []
    assert box.folders["Processed"] == [dsn(1)]
    assert InboundMessage.objects.count() == 1
