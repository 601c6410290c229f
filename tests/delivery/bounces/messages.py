"""Small builders of raw messages in the shapes mail servers send them."""

from delivery.bounces import Kind

ORIGINAL = (
    "Return-Path: <bounces+42.abcdef@bounces.example.net>\n"
    "From: News <news@example.net>\n"
    "To: kijitora@example.org\n"
    "Subject: Our April news\n"
    "Message-ID: <campaign-7.delivery-42@example.net>\n"
    "List-Unsubscribe: <mailto:unsubscribe@example.net>\n"
    "\n"
    "Hello\n"
)

# The same message sent to a mailing list: its To names the list, not the failed recipient.
LIST_ORIGINAL = (
    "Return-Path: <bounces+42.abcdef@bounces.example.net>\n"
    "From: News <news@example.net>\n"
    "To: Members <members@lists.example.net>\n"
    "Subject: Our April news\n"
    "Message-ID: <campaign-7.delivery-42@example.net>\n"
    "\n"
    "Hello\n"
)


def raw(headers: dict[str, str], body: str) -> bytes:
    """A message from headers and a body, with CRLF line ends as on the wire."""
    head = "".join(f"{name}: {value}\n" for name, value in headers.items())
    return (head + "\n" + body).replace("\n", "\r\n").encode("utf-8")


def bounce_headers(**extra: str) -> dict[str, str]:
    """Headers of a notice from a mailer daemon to a VERP return path."""
    return {
        "Return-Path": "<>",
        "X-Original-To": "bounces+42.abcdef@bounces.example.net",
        "Delivered-To": "bounces+42.abcdef@bounces.example.net",
        "From": "MAILER-DAEMON@mx.example.net (Mail Delivery System)",
        "To": "bounces+42.abcdef@bounces.example.net",
        "Subject": "Undelivered Mail Returned to Sender",
        "Auto-Submitted": "auto-replied",
        **extra,
    }


def dsn(notice: str, recipients: list[str], original: str = ORIGINAL, **headers: str) -> bytes:
    """A multipart/report DSN (RFC 3464): notice, delivery-status fields, returned message."""
    boundary = "REPORT.BOUNDARY"
    report = "Reporting-MTA: dns; mx.example.net\n\n" + "\n\n".join(recipients)
    body = (
        f"--{boundary}\nContent-Type: text/plain; charset=us-ascii\n\n{notice}\n\n"
        f"--{boundary}\nContent-Type: message/delivery-status\n\n{report}\n\n"
        f"--{boundary}\nContent-Type: message/rfc822\n\n{original}\n"
        f"--{boundary}--\n"
    )
    content_type = f'multipart/report; report-type=delivery-status; boundary="{boundary}"'
    return raw(
        bounce_headers(**{"MIME-Version": "1.0", "Content-Type": content_type, **headers}), body
    )


def plain(body: str, **headers: str) -> bytes:
    """A single-part text notice (how Exim, qmail and older MTAs send bounces)."""
    return raw(bounce_headers(**headers), body)


def recipients(report) -> dict:
    """The recipients of a report that must be a bounce, by address."""
    assert report.kind is Kind.BOUNCE, report
    return {r.address: r for r in report.recipients}
