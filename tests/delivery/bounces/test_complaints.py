"""Complaints: ARF feedback reports (RFC 5965), Amazon SES complaints, Apple Mail unsubscribes."""

import json

from delivery.bounces import Kind, Reason, parse
from tests.delivery.bounces.messages import ORIGINAL, raw


def arf(fields: str, original: str = ORIGINAL) -> bytes:
    boundary = "ARF.BOUNDARY"
    body = (
        f"--{boundary}\nContent-Type: text/plain\n\nThis is an email abuse report.\n\n"
        f"--{boundary}\nContent-Type: message/feedback-report\n\n{fields}\n\n"
        f"--{boundary}\nContent-Type: message/rfc822\n\n{original}\n"
        f"--{boundary}--\n"
    )
    return raw(
        {
            "From": "Feedback Loop <fbl@mail.example.com>",
            "To": "fbl@example.net",
            "Subject": "Abuse report",
            "MIME-Version": "1.0",
            "Content-Type": f'multipart/report; report-type=feedback-report; boundary="{boundary}"',
        },
        body,
    )


def test_arf_report_names_the_complaining_recipient():
    report = parse(
        arf(
            "Feedback-Type: abuse\nUser-Agent: ExampleFBL/1.0\nVersion: 1\n"
            "Original-Mail-From: <bounces+42.abcdef@bounces.example.net>\n"
            "Original-Rcpt-To: <kijitora@example.org>\nSource-IP: 192.0.2.1"
        )
    )
    assert report.kind is Kind.COMPLAINT
    assert report.feedback_type == "abuse"
    assert [r.address for r in report.recipients] == ["kijitora@example.org"]
    assert report.recipients[0].reason is Reason.FEEDBACK
    assert not report.recipients[0].hard
    assert report.original_message_id == "<campaign-7.delivery-42@example.net>"


def test_redacted_arf_report_falls_back_to_the_returned_message():
    report = parse(arf("Feedback-Type: abuse\nUser-Agent: ExampleFBL/1.0\nVersion: 1"))
    assert report.kind is Kind.COMPLAINT
    assert [r.address for r in report.recipients] == ["kijitora@example.org"]


def test_feedback_type_is_kept():
    report = parse(arf("Feedback-Type: opt-out\nUser-Agent: X/1\nVersion: 1"))
    assert report.feedback_type == "opt-out"


def test_amazon_ses_complaint_notification():
    notification = {
        "notificationType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": "kijitora@example.org"}],
            "complaintFeedbackType": "abuse",
        },
        "mail": {"messageId": "0100-abc"},
    }
    report = parse(
        raw(
            {"From": "SES <no-reply@sns.amazonaws.com>", "Subject": "AWS Notification Message"},
            json.dumps(notification),
        )
    )
    assert report.kind is Kind.COMPLAINT
    assert report.feedback_type == "abuse"
    assert report.recipients[0].address == "kijitora@example.org"


def test_apple_mail_unsubscribe_is_an_opt_out():
    report = parse(
        raw(
            {
                "From": "kijitora@icloud.example.com",
                "To": "unsubscribe+42.abcdef@bounces.example.net",
                "Subject": "unsubscribe",
            },
            "Apple Mail sent this email to unsubscribe from the message "
            "\u201cOur April news\u201d.",
        )
    )
    assert report.kind is Kind.COMPLAINT
    assert report.feedback_type == "opt-out"
    assert report.recipients[0].address == "kijitora@icloud.example.com"
    assert report.envelope_recipients == ("unsubscribe+42.abcdef@bounces.example.net",)


def forwarded(sender: str, subject: str, text: str) -> bytes:
    """A feedback loop's forward without a report part: prose, then our message attached."""
    boundary = "FBL.FORWARD"
    return raw(
        {
            "From": sender,
            "To": "fbl@example.net",
            "Subject": subject,
            "MIME-Version": "1.0",
            "Content-Type": f'multipart/mixed; boundary="{boundary}"',
        },
        f"--{boundary}\nContent-Type: text/plain\n\n{text}\n\n"
        f"--{boundary}\nContent-Type: message/rfc822\n\n{ORIGINAL}\n--{boundary}--\n",
    )


def test_provider_feedback_loop_forward_without_arf_is_a_complaint():
    report = parse(
        forwarded(
            "Feedback Loop <feedbackloop@isp.example.com>",
            "Complaint about message from 192.0.2.1",
            "A subscriber of ours marked the attached message as spam.",
        )
    )
    assert report.kind is Kind.COMPLAINT
    assert report.feedback_type == "abuse"
    assert [r.address for r in report.recipients] == ["kijitora@example.org"]
    assert not report.recipients[0].hard
    assert report.original_message_id == "<campaign-7.delivery-42@example.net>"


def test_chinese_provider_spam_report_forward_is_a_complaint():
    report = parse(
        forwarded(
            "Postmaster <abuse@mail.example.cn>",
            "=?utf-8?b?5Z6D5Zy+6YKu5Lu25Li+5oql?=",  # "垃圾邮件举报": a spam report
            "This message was reported as spam by our user.",
        )
    )
    assert report.kind is Kind.COMPLAINT
    assert [r.address for r in report.recipients] == ["kijitora@example.org"]


def test_message_attached_by_a_person_is_not_a_complaint():
    report = parse(
        forwarded(
            "Kijitora <kijitora@example.org>",
            "Fwd: Our April news",
            "Is this spam? It looks like spam to me.",
        )
    )
    assert report.kind is not Kind.COMPLAINT


def test_complaint_forward_with_the_message_inline_is_a_complaint():
    report = parse(
        raw(
            {
                "From": "scomp@aol.example.com",
                "To": "fbl@example.net",
                "Subject": "Client TOS Notification",
            },
            "The following message was received by one of our members and reported as spam.\n\n"
            "---------- Forwarded message ----------\n" + ORIGINAL,
        )
    )
    assert report.kind is Kind.COMPLAINT
    assert [r.address for r in report.recipients] == ["kijitora@example.org"]


def test_spamcop_report_is_a_complaint():
    report = parse(
        forwarded(
            "SpamCop <1234567@reports.spamcop.net>",
            "[SpamCop (http://example.net/) id:1234567]Our April news",
            "- SpamCop - This message is brief for your comfort. Please follow links for "
            "details. Spam received from 192.0.2.1.",
        )
    )
    assert report.kind is Kind.COMPLAINT
