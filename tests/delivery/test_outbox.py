"""Capture mode: the capture SMTP server keeps messages and the Outbox shows them."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from delivery import capture
from delivery.models import CapturedMessage
from tests.smtpd_thread import running_smtpd


@pytest.fixture
def capture_port(transactional_db):
    with running_smtpd(capture.CaptureHandler(), hostname=capture.HOSTNAME) as port:
        yield port


def newsletter() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "市场部 <news@shop.example>"
    message["To"] = "小王 <wang@example.cn>"
    message["Subject"] = "双十一特惠：全场五折"
    message["Message-ID"] = "<n1@shop.example>"
    message.set_content("Plain text part")
    message.add_alternative("<p>HTML <b>part</b><script>alert(1)</script></p>", subtype="html")
    return message


def send(port: int, message: EmailMessage, recipients: list[str]) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.sendmail("b-token@bounces.localhost", recipients, message.as_bytes(policy=SMTP))
        return smtp.noop()


def test_capture_server_keeps_every_message_as_received(capture_port):
    message = newsletter()
    send(capture_port, message, ["wang@example.cn", "li@example.cn"])

    stored = CapturedMessage.objects.get()
    assert stored.mail_from == "b-token@bounces.localhost"
    assert stored.recipients == ["wang@example.cn", "li@example.cn"]
    assert stored.subject == "双十一特惠：全场五折"
    assert stored.from_header == "市场部 <news@shop.example>"
    assert stored.message_id == "<n1@shop.example>"
    assert bytes(stored.raw) == message.as_bytes(policy=SMTP)
    assert stored.size == len(bytes(stored.raw))


def test_outbox_lists_messages_and_shows_parts(capture_port, admin_client):
    send(capture_port, newsletter(), ["wang@example.cn"])
    stored = CapturedMessage.objects.get()

    listing = admin_client.get("/delivery/outbox/").content.decode()
    assert "双十一特惠：全场五折" in listing
    assert f"/delivery/outbox/{stored.pk}/" in listing

    page = admin_client.get(f"/delivery/outbox/{stored.pk}/").content.decode()
    assert "Plain text part" in page
    assert "Message-ID" in page
    assert 'sandbox=""' in page
    assert "&lt;script&gt;" in page  # the source is shown escaped, never executed


def test_html_preview_is_served_sandboxed(capture_port, admin_client):
    send(capture_port, newsletter(), ["wang@example.cn"])
    stored = CapturedMessage.objects.get()
    response = admin_client.get(f"/delivery/outbox/{stored.pk}/html")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert policy.startswith("sandbox;")
    assert "default-src 'none'" in policy
    assert b"<b>part</b>" in response.content


def test_malformed_headers_do_not_lose_the_message(capture_port):
    raw = (
        b"From: <<broken@@example\r\nTo: ,,,\r\nSubject: =?utf-8?q?unterminated\r\n"
        b"Message-ID: not-an-id\r\n\r\nbody\r\n"
    )
    with smtplib.SMTP("127.0.0.1", capture_port, timeout=10) as smtp:
        smtp.sendmail("", ["x@example.com"], raw)
    stored = CapturedMessage.objects.get()
    assert stored.recipients == ["x@example.com"]
    assert bytes(stored.raw).endswith(b"body\r\n")
