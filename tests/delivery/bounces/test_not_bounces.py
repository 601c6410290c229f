"""Auto-replies (RFC 3834), success notices and ordinary mail are never taken for bounces."""

from delivery.bounces import Kind, Reason, parse
from tests.delivery.bounces.messages import ORIGINAL, plain, raw


def test_auto_reply_is_not_a_bounce():
    report = parse(
        raw(
            {
                "From": "Kijitora <kijitora@example.org>",
                "To": "bounces+42.abcdef@bounces.example.net",
                "Subject": "Out of Office: Our April news",
                "Auto-Submitted": "auto-replied",
            },
            "I am away until May 5th and will not read my mail. For anything urgent, please "
            "write to neko@example.org.",
        )
    )
    assert report.kind is Kind.AUTOREPLY
    assert report.recipients[0].address == "kijitora@example.org"
    assert report.recipients[0].reason is Reason.VACATION
    assert not report.recipients[0].hard


def test_exchange_automatic_reply_without_auto_submitted_is_recognised():
    report = parse(
        raw(
            {
                "From": "Neko <neko@example.org>",
                "To": "news@example.net",
                "Subject": "Automatic reply: Our April news",
                "X-Auto-Response-Suppress": "All",
            },
            "I'm out of the office Friday.",
        )
    )
    assert report.kind is Kind.AUTOREPLY


def test_bounce_marked_auto_replied_is_still_a_bounce():
    report = parse(
        plain(
            "Hi. This is the qmail-send program at mx.example.net.\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
            "<kijitora@example.org>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
            "--- Below this line is a copy of the message.\n\n" + ORIGINAL,
            From="MAILER-DAEMON@mx.example.net",
            Subject="failure notice",
        )
    )
    assert report.kind is Kind.BOUNCE


def test_ordinary_message_is_other():
    report = parse(
        raw(
            {
                "From": "Kijitora <kijitora@example.org>",
                "To": "news@example.net",
                "Subject": "Re: Our April news",
            },
            "Thanks! The mail to neko@example.com was undeliverable last time, by the way;\n"
            "could you check the address?\n\n> Hello\n",
        )
    )
    assert report.kind is Kind.OTHER
    assert report.recipients == ()


def test_message_with_an_attached_ordinary_message_is_other():
    boundary = "MIXED"
    report = parse(
        raw(
            {
                "From": "Kijitora <kijitora@example.org>",
                "Subject": "original as attachment",
                "MIME-Version": "1.0",
                "Content-Type": f'multipart/mixed; boundary="{boundary}"',
            },
            f"--{boundary}\nContent-Type: text/plain\n\nSee attached.\n\n"
            f"--{boundary}\nContent-Type: message/rfc822\n\n{ORIGINAL}\n--{boundary}--\n",
        )
    )
    assert report.kind is Kind.OTHER


def test_empty_and_garbage_input_is_other():
    assert parse(b"").kind is Kind.OTHER
    assert parse(b"\x00\xff not a message at all").kind is Kind.OTHER


def attached(headers: dict[str, str], text: str) -> bytes:
    """A multipart/mixed message: text, then the returned original as message/rfc822."""
    boundary = "HELD"
    return raw(
        {
            **headers,
            "MIME-Version": "1.0",
            "Content-Type": f'multipart/mixed; boundary="{boundary}"',
        },
        f"--{boundary}\nContent-Type: text/plain\n\n{text}\n\n"
        f"--{boundary}\nContent-Type: message/rfc822\n\n{ORIGINAL}\n--{boundary}--\n",
    )


def test_tmda_style_confirmation_request_is_an_auto_reply_not_a_bounce():
    report = parse(
        attached(
            {
                "From": "Kijitora <kijitora-confirm-1714.ab12cd@example.org>",
                "To": "bounces+42.abcdef@bounces.example.net",
                "Subject": "Please confirm your message",
                "Auto-Submitted": "auto-replied",
            },
            "This message was created automatically by mail delivery software.\n\n"
            "Your message attached below has not been delivered: it is being held until\n"
            "you confirm that your address is real. Your e-mail address has not yet been\n"
            "verified. To release your message for delivery, simply reply to this message.",
        )
    )
    assert report.kind is Kind.AUTOREPLY
    assert all(not r.hard for r in report.recipients)


def test_whitelist_request_from_an_anti_spam_service_is_an_auto_reply():
    report = parse(
        attached(
            {
                "From": "Guest List <notify@guestlist.example.com>",
                "To": "bounces+42.abcdef@bounces.example.net",
                "Subject": "Your message to kijitora@example.org is waiting",
            },
            "Hello,\n\nYour message to kijitora@example.org could not be delivered yet.\n"
            "kijitora@example.org only accepts email from approved senders. Please click the "
            "link below to request to be added to their guest list.",
        )
    )
    assert report.kind is Kind.AUTOREPLY


def test_human_verification_challenge_from_a_mailer_daemon_is_not_a_bounce():
    report = parse(
        attached(
            {
                "From": "MAILER-DAEMON@spamguard.example.com",
                "To": "bounces+42.abcdef@bounces.example.net",
                "Subject": "Undeliverable: please verify your message",
            },
            "Undelivered: your message to kijitora@example.org is on hold.\n\n"
            "Please verify you are a human by visiting the page below; your message will be "
            "delivered once you do.",
        )
    )
    assert report.kind is Kind.AUTOREPLY


def test_persons_message_about_a_failed_delivery_is_not_a_bounce():
    report = parse(
        raw(
            {
                "From": "Kijitora <kijitora@example.org>",
                "To": "news@example.net",
                "Subject": "Undeliverable mail?",
            },
            "Hi, my colleague says your newsletter could not be delivered to\n"
            "neko@example.com last week. Could you check?\n",
        )
    )
    assert report.kind is Kind.OTHER


def test_spam_blocker_asking_to_complete_a_verification_is_an_auto_reply():
    report = parse(
        attached(
            {
                "From": "Kijitora <kijitora@example.org>",
                "To": "bounces+42.abcdef@bounces.example.net",
                "Subject": "Re: Our April news (verification needed)",
            },
            "I apologise for this automatic reply. I am protecting myself from receiving junk "
            "mail: please follow the link below to complete the verification process. You only "
            "have to do this once, and your message will then be delivered.",
        )
    )
    assert report.kind is Kind.AUTOREPLY


def test_plain_text_success_notice_from_a_mail_system_is_not_a_bounce():
    report = parse(
        plain(
            "This is an automatically generated Delivery Status Notification.\n\n"
            "Your message has been successfully delivered to the following recipients:\n\n"
            "       kijitora@example.org\n",
            From="postmaster@example.org",
            Subject="Delivery Status Notification (Success)",
        )
    )
    assert report.kind is not Kind.BOUNCE


def test_russian_and_dutch_auto_reply_subjects_are_auto_replies():
    # "Автоответ: Our April news", encoded as RFC 2047 requires
    for title in (
        "=?utf-8?b?0JDQstGC0L7QvtGC0LLQtdGCOiBPdXIgQXByaWwgbmV3cw==?=",
        "Automatisch antwoord: Our April news",
    ):
        report = parse(
            raw(
                {"From": "Kijitora <kijitora@example.org>", "Subject": title},
                "I am away until May 5th.",
            )
        )
        assert report.kind is Kind.AUTOREPLY, title


def test_auto_reply_with_a_raw_utf8_chinese_subject_is_an_auto_reply():
    # RFC 6532 (and many Chinese servers before it) send headers in raw UTF-8.
    report = parse(
        raw(
            {"From": "Kijitora <kijitora@example.org>", "Subject": "自动回复: Our April news"},
            "我目前不在办公室。",
        )
    )
    assert report.kind is Kind.AUTOREPLY


def test_group_restricted_to_authorised_senders_is_a_bounce_not_a_challenge():
    report = parse(
        plain(
            "Delivery has failed to these recipients or groups:\n\n"
            "members@example.org\n"
            "This group only accepts messages from authorized senders.\n",
            From="Microsoft Outlook <postmaster@example.org>",
            Subject="Undeliverable: Our April news",
        )
    )
    assert report.kind is Kind.BOUNCE
