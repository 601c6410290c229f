"""The failed recipient comes from the failure report (its fields, then its text, then its
subject), never from the returned message's own headers, which name a list or our sender."""

from delivery.bounces import Reason, parse
from tests.delivery.bounces.messages import LIST_ORIGINAL, dsn, plain, recipients


def test_report_recipient_without_a_domain_is_completed_from_the_notice_not_the_list():
    report = parse(
        dsn(
            "<kijitora@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 "
            "<kijitora@example.org>: Recipient address rejected: User unknown (in reply to RCPT "
            "TO command)",
            ["Final-Recipient: rfc822; kijitora\nAction: failed\nStatus: 5.1.1"],
            original=LIST_ORIGINAL,
        )
    )
    assert list(recipients(report)) == ["kijitora@example.org"]


def test_report_naming_nobody_in_its_fields_takes_the_address_its_text_names():
    report = parse(
        dsn(
            "Your message to kijitora@example.org could not be delivered: the mailbox does "
            "not exist.",
            [],
            original=LIST_ORIGINAL,
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN


def test_bare_notice_naming_nobody_in_a_line_finds_the_recipient_in_its_prose():
    report = parse(
        plain(
            "Your message to kijitora@example.org could not be delivered: the mailbox does not "
            "exist.\n\n"
            "For assistance, write to <help@example.org>.\n\n"
            "----- Original message -----\n\n" + LIST_ORIGINAL,
            From="Mail Delivery System <mailer@example.org>",
            Subject="Undeliverable mail",
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN


def test_prose_naming_sender_and_recipient_takes_the_address_the_message_was_sent_to():
    report = parse(
        plain(
            "Your message from news-desk@example.net to kijitora@example.org could not be "
            "delivered. The mailbox does not exist.\n",
            From="Mail Delivery System <mailer@example.org>",
            Subject="Undeliverable mail",
        )
    )
    assert list(recipients(report)) == ["kijitora@example.org"]


def test_notice_naming_the_recipient_only_in_its_subject_is_read_from_the_subject():
    report = parse(
        plain(
            "Your message could not be delivered. The mailbox does not exist on this server.\n\n"
            "----- Original message -----\n\n" + LIST_ORIGINAL,
            From="Mail Delivery System <mailer@example.org>",
            Subject="Undeliverable: kijitora@example.org",
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]


def test_bounce_marked_auto_replied_from_a_robot_is_a_bounce_not_an_auto_reply():
    report = parse(
        plain(
            "Your message could not be delivered to the following recipient:\n\n"
            "  kijitora@example.org: No account by that name\n",
            From="Mail Robot <robot@example.org>",
            Subject="Undeliverable: Our April news",
            **{"Auto-Submitted": "auto-replied"},
        )
    )
    found = recipients(report)
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["kijitora@example.org"].hard


def test_auto_reply_saying_the_mailbox_does_not_exist_is_a_hard_bounce():
    report = parse(
        plain(
            "This is an automatic reply. The e-mail address kijitora@example.org does not "
            "exist any more; your message has not been read.\n",
            From="Kijitora <kijitora@example.org>",
            Subject="Re: Our April news",
            **{"Auto-Submitted": "auto-replied", "Return-Path": "<kijitora@example.org>"},
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["kijitora@example.org"].hard
