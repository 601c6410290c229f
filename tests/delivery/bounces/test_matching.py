"""What matching a bounce to its delivery needs: where the report was sent (the VERP return path)
and the returned message's Message-ID and headers."""

from delivery.bounces import parse
from tests.delivery.bounces.messages import ORIGINAL, dsn, plain

RECIPIENT = "Final-Recipient: rfc822; kijitora@example.org\nAction: failed\nStatus: 5.1.1"


def test_envelope_recipients_put_the_delivered_to_address_first():
    report = parse(
        dsn(
            "User unknown",
            [RECIPIENT],
            **{
                "X-Original-To": "bounces+42.abcdef@bounces.example.net",
                "Delivered-To": "catchall@bounces.example.net",
                "To": "News <news@example.net>",
            },
        )
    )
    assert report.envelope_recipients == (
        "bounces+42.abcdef@bounces.example.net",
        "catchall@bounces.example.net",
        "news@example.net",
    )


def test_original_message_id_and_headers_from_the_returned_message():
    report = parse(dsn("User unknown", [RECIPIENT]))
    assert report.original_message_id == "<campaign-7.delivery-42@example.net>"
    assert report.original_header("return-path") == "<bounces+42.abcdef@bounces.example.net>"
    assert report.original_header("List-Unsubscribe") == "<mailto:unsubscribe@example.net>"


def test_original_headers_from_a_text_rfc822_headers_part():
    headers_only = ORIGINAL.split("\n\n", 1)[0]
    report = parse(
        dsn("User unknown", [RECIPIENT], original=headers_only).replace(
            b"Content-Type: message/rfc822", b"Content-Type: text/rfc822-headers"
        )
    )
    assert report.original_message_id == "<campaign-7.delivery-42@example.net>"


def test_original_message_id_from_an_inline_copy():
    report = parse(
        plain(
            "This message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            "  kijitora@example.org\n    Unrouteable address\n\n"
            "------ This is a copy of the message, including all the headers. ------\n\n"
            + ORIGINAL,
            From="Mail Delivery System <Mailer-Daemon@mx.example.net>",
        )
    )
    assert report.original_message_id == "<campaign-7.delivery-42@example.net>"
    assert report.original_header("To") == "kijitora@example.org"


def test_plain_address_bounce_without_original_has_no_message_id():
    report = parse(
        dsn("User unknown", [RECIPIENT], original="", To="news@example.net").replace(
            b"X-Original-To: bounces+42.abcdef@bounces.example.net\r\n", b""
        )
    )
    assert report.original_message_id is None
    assert report.recipients[0].address == "kijitora@example.org"


def test_envelope_id_returned_by_the_report():
    raw = dsn("User unknown", [RECIPIENT]).replace(
        b"Reporting-MTA: dns; mx.example.net",
        b"Original-Envelope-Id: d42.abcdef\r\nReporting-MTA: dns; mx.example.net",
    )
    assert parse(raw).envelope_id == "d42.abcdef"
    assert parse(dsn("User unknown", [RECIPIENT])).envelope_id is None
