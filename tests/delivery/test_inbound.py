"""Receiving what comes back: bounce-in over SMTP and the IMAP/POP3 mailbox poller."""

from __future__ import annotations

import smtplib
import ssl
from datetime import timedelta

import pytest
import trustme
from django.conf import settings
from django.utils import timezone

from campaigns.links import LinkTarget, unsubscribe_address
from delivery import verp
from delivery.inbound.client_limits import ClientLimits, client_key
from delivery.inbound.mailbox import MailboxAddress, MailboxError, mailbox_address, poll
from delivery.inbound.store import inbound_message_store, inbound_raw_expire
from delivery.models import InboundMessage
from tests.api.conftest import wait_until
from tests.mailboxes import ImapHandler, Mailbox, Pop3Handler, RunningServer
from tests.smtpd_thread import bounce_handler, running_smtpd

DSN = (
    b"From: MAILER-DAEMON@mx.example.net\r\nTo: b-1234@bounces.test\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <%d@mx.example.net>\r\n"
    b"\r\nThis is the mail system at host mx.example.net.\r\n.leading dot line\r\n"
)


def dsn(number: int) -> bytes:
    return DSN.replace(b"%d", str(number).encode())


def return_path(delivery_id: int = 1234, domain: str = "bounces.test") -> str:
    return verp.encode(delivery_id, domain, settings.SECRET_KEY)


@pytest.fixture
def bounce_in(transactional_db):
    with running_smtpd(bounce_handler("bounces.test"), size_limit=4096) as port:
        yield port


def test_bounce_in_accepts_mail_for_the_bounce_domain(bounce_in):
    address = return_path(domain="Bounces.Test")
    with smtplib.SMTP("127.0.0.1", bounce_in, timeout=10) as smtp:
        smtp.sendmail("", [address], dsn(1))
    stored = InboundMessage.objects.get()
    assert stored.source == InboundMessage.Source.SMTP
    assert stored.recipients == [address]
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
        smtp.sendmail("", [return_path()], dsn(1) + b"x" * 8000 + b"\r\n")
    assert refused.value.smtp_code == 552
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    "address",
    [
        "info@bounces.test",
        "b-1234-aaaaaaaaaaaaaaaa@bounces.test",  # a return path with a forged signature
        "t-99-bbbbbbbbbbbbbbbb@bounces.test",
        "u-7-1234-aaaaaaaaaaaaaaaaaaaa@bounces.test",  # a forged unsubscribe address
        "postmaster.x@bounces.test",
    ],
)
def test_mail_to_a_made_up_local_part_is_refused_at_rcpt_and_nothing_is_stored(bounce_in, address):
    with smtplib.SMTP("127.0.0.1", bounce_in, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("")
        code, text = smtp.rcpt(address)
        assert (code, text[:5]) == (550, b"5.1.1")
        with pytest.raises(smtplib.SMTPDataError) as no_recipient:
            smtp.data(dsn(1))
        assert no_recipient.value.smtp_code == 503
    assert not InboundMessage.objects.exists()


def test_return_paths_unsubscribe_addresses_and_role_addresses_are_accepted(bounce_in):
    secret = settings.SECRET_KEY
    addresses = [
        return_path(),
        verp.encode(55, "bounces.test", secret, kind=verp.Kind.TX),
        unsubscribe_address("bounces.test", LinkTarget(7, 1234), secret),
        "postmaster@bounces.test",
        "Postmaster",  # RFC 5321 §4.5.1: without a domain, too
        "Abuse@bounces.test",
        "fbl@bounces.test",
    ]
    with smtplib.SMTP("127.0.0.1", bounce_in, timeout=10) as smtp:
        for number, address in enumerate(addresses):
            smtp.sendmail("", [address], dsn(number))
    assert sorted(InboundMessage.objects.values_list("recipients", flat=True)) == sorted(
        [address] for address in addresses
    )


def connect(port: int) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", port, timeout=10)


@pytest.mark.django_db(transaction=True)
def test_the_eleventh_connection_from_one_address_is_refused_until_one_closes():
    limits = ClientLimits(max_connections=10, messages_per_minute=60)
    with running_smtpd(bounce_handler("bounces.test", limits=limits)) as port:
        open_ones = [connect(port) for _ in range(10)]
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            connect(port)
        assert refused.value.smtp_code == 421
        assert refused.value.smtp_error.startswith(b"4.7.0")

        open_ones.pop().quit()
        assert wait_until(lambda: limits.connections("127.0.0.1") == 9, timeout=10)
        open_ones.append(connect(port))
        assert open_ones[-1].noop()[0] == 250
        for smtp in open_ones:
            smtp.quit()


@pytest.mark.django_db(transaction=True)
def test_the_61st_message_in_a_minute_is_refused_but_postmaster_still_gets_mail():
    now = [1000.0]  # a clock that moves only when the test moves it
    limits = ClientLimits(max_connections=10, messages_per_minute=60, clock=lambda: now[0])
    with (
        running_smtpd(bounce_handler("bounces.test", limits=limits)) as port,
        connect(port) as smtp,
    ):
        for number in range(60):
            smtp.sendmail("", [return_path(number)], dsn(number))
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.sendmail("", [return_path(60)], dsn(60))
        code, text = refused.value.recipients[return_path(60)]
        assert (code, text[:5]) == (450, b"4.7.0")
        smtp.sendmail("", ["postmaster@bounces.test"], dsn(61))

        now[0] += 1  # one second earns one message back (60 a minute)
        smtp.sendmail("", [return_path(62)], dsn(62))
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("", [return_path(63)], dsn(63))
    assert InboundMessage.objects.count() == 62


def test_clients_are_counted_by_address_and_ipv6_ones_by_their_64():
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")


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
