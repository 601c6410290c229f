"""One test per bounce format family: the recipients, codes and reasons read from each."""

import json

from delivery.bounces import Command, Kind, Reason, parse, parse_ses_event
from tests.delivery.bounces.messages import ORIGINAL, dsn, plain, raw


def only(report):
    assert report.kind is Kind.BOUNCE, report
    assert len(report.recipients) == 1, report.recipients
    return report.recipients[0]


def test_rfc3464_report_gives_status_code_and_diagnostic():
    report = parse(
        dsn(
            "<kijitora@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 "
            "<kijitora@example.org>: Recipient address rejected: User unknown in local "
            "recipient table (in reply to RCPT TO command)",
            [
                "Final-Recipient: rfc822; kijitora@EXAMPLE.ORG\n"
                "Original-Recipient: rfc822;alias@example.org\n"
                "Action: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.org\n"
                "Diagnostic-Code: smtp; 550 5.1.1 <kijitora@example.org>: Recipient address\n"
                "    rejected: User unknown in local recipient table"
            ],
        )
    )
    recipient = only(report)
    assert report.format == "rfc3464"
    assert recipient.address == "kijitora@example.org"
    assert recipient.alias == "alias@example.org"
    assert (recipient.status, recipient.reply_code) == ("5.1.1", 550)
    assert recipient.command is Command.RCPT  # from Postfix's notice text
    assert recipient.reason is Reason.USER_UNKNOWN and recipient.hard
    assert "User unknown in local recipient table" in recipient.diagnostic


def test_rfc3464_report_with_several_recipients_and_a_delay():
    report = parse(
        dsn(
            "Delivery to some recipients failed.",
            [
                "Final-Recipient: rfc822; full@example.org\nAction: failed\nStatus: 5.2.2\n"
                "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full",
                "Final-Recipient: rfc822; slow@example.com\nAction: delayed\nStatus: 4.4.1\n"
                "Diagnostic-Code: smtp; 451 4.4.1 connection timed out",
                "Final-Recipient: rfc822; fine@example.com\nAction: delivered\nStatus: 2.0.0",
            ],
        )
    )
    by_address = {r.address: r for r in report.recipients}
    assert set(by_address) == {"full@example.org", "slow@example.com"}  # delivered is no bounce
    assert by_address["full@example.org"].reason is Reason.MAILBOX_FULL
    assert by_address["slow@example.com"].temporary
    assert by_address["slow@example.com"].action == "delayed"


def test_success_notice_is_delivered_not_a_bounce():
    report = parse(
        dsn(
            "Your message was delivered.",
            ["Final-Recipient: rfc822; kijitora@example.org\nAction: delivered\nStatus: 2.1.5"],
            Subject="Successful Mail Delivery Report",
        )
    )
    assert report.kind is Kind.DELIVERED
    assert report.recipients[0].reason is Reason.DELIVERED


def test_exim_notice_with_generated_from_alias():
    report = parse(
        plain(
            "This message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            "  kijitora@example.org\n"
            "    (generated from neko@example.net)\n"
            "    SMTP error from remote mail server after RCPT TO:<kijitora@example.org>:\n"
            "    host mx.example.org [192.0.2.1]: 550 5.1.1 <kijitora@example.org>...\n"
            "    User unknown\n\n"
            "------ This is a copy of the message, including all the headers. ------\n\n"
            + ORIGINAL,
            From="Mail Delivery System <Mailer-Daemon@mx.example.net>",
            Subject="Mail delivery failed: returning message to sender",
            **{"X-Failed-Recipients": "kijitora@example.org"},
        )
    )
    recipient = only(report)
    assert report.format == "exim"
    assert recipient.alias == "neko@example.net"
    assert recipient.command is Command.RCPT
    assert recipient.remote_mta == "mx.example.org"
    assert recipient.reason is Reason.USER_UNKNOWN and recipient.hard
    assert report.original_message_id == "<campaign-7.delivery-42@example.net>"


def test_exim_retry_timeout_is_expired():
    report = parse(
        plain(
            "This message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            "  kijitora@example.org\n    retry timeout exceeded\n",
            From="Mail Delivery System <Mailer-Daemon@mx.example.net>",
        )
    )
    assert only(report).reason is Reason.EXPIRED


def test_qmail_notice_lists_each_recipient_with_its_reply():
    report = parse(
        plain(
            "Hi. This is the qmail-send program at mx.example.net.\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
            "<gone@example.org>:\n192.0.2.1 does not like recipient.\n"
            "Remote host said: 550 5.1.1 <gone@example.org>... User Unknown\n"
            "Giving up on 192.0.2.1.\n\n"
            "<full@example.org>:\n192.0.2.1 does not like recipient.\n"
            "Remote host said: 552 5.2.2 <full@example.org>... Mailbox Full\n\n"
            "--- Below this line is a copy of the message.\n\n" + ORIGINAL,
            From="MAILER-DAEMON@mx.example.net",
            Subject="failure notice",
        )
    )
    reasons = {r.address: r.reason for r in report.recipients}
    assert reasons == {
        "gone@example.org": Reason.USER_UNKNOWN,
        "full@example.org": Reason.MAILBOX_FULL,
    }
    assert report.format == "qmail"


def test_yahoo_failure_notice():
    report = parse(
        plain(
            "Sorry, we were unable to deliver your message to the following address.\n\n"
            "<kijitora@example.org>:\n"
            "Remote host said: 550 5.2.2 <kijitora@example.org>... Mailbox Full [RCPT_TO]\n\n"
            "--- Below this line is a copy of the message.\n\n" + ORIGINAL,
            From="MAILER-DAEMON@yahoo.com",
            Subject="Failure Notice",
        )
    )
    recipient = only(report)
    assert recipient.reason is Reason.MAILBOX_FULL and not recipient.hard
    assert recipient.command is Command.RCPT


def test_sendmail_transcript_without_a_report_part():
    report = parse(
        plain(
            "The original message was received at Thu, 29 Apr 2010 23:34:45 +0900\n\n"
            "   ----- The following addresses had permanent fatal errors -----\n"
            "<kijitora@example.org>\n"
            "    (reason: 550 5.1.1 <kijitora@example.org>... User unknown)\n\n"
            "   ----- Transcript of session follows -----\n"
            "... while talking to mx.example.org.:\n"
            ">>> RCPT To:<kijitora@example.org>\n"
            "<<< 550 5.1.1 <kijitora@example.org>... User unknown\n"
            "550 5.1.1 <kijitora@example.org>... User unknown\n\n"
            "   ----- Original message follows -----\n\n" + ORIGINAL,
            From="Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>",
            Subject="Returned mail: see transcript for details",
        )
    )
    recipient = only(report)
    assert report.format == "sendmail"
    assert recipient.command is Command.RCPT
    assert recipient.reason is Reason.USER_UNKNOWN


def test_gmail_plain_text_bounce():
    report = parse(
        plain(
            "Delivery to the following recipient failed permanently:\n\n"
            "     kijitora@example.org\n\n"
            "Technical details of permanent failure:\n"
            "Google tried to deliver your message, but it was rejected by the server for the "
            "recipient domain example.org by mx.example.org. [192.0.2.1].\n\n"
            "The error that the other server returned was:\n"
            "550 5.1.1 <kijitora@example.org>... User Unknown\n\n"
            "----- Original message -----\n\n" + ORIGINAL,
            From="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
            Subject="Delivery Status Notification (Failure)",
        )
    )
    recipient = only(report)
    assert report.format == "google"
    assert (recipient.reply_code, recipient.status) == (550, "5.1.1")
    assert recipient.reason is Reason.USER_UNKNOWN


def test_google_groups_refusal_is_a_rejection_of_the_sender():
    report = parse(
        plain(
            "Hello news@example.net,\n\nWe're writing to let you know that the group you tried "
            "to contact (team) may not exist, or you may not have permission to post messages "
            "to the group.\n\nThanks,\n\nGoogle Groups\n",
            From="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
            Subject="Delivery Status Notification (Failure)",
            **{"X-Failed-Recipients": "team@googlegroups.com"},
        )
    )
    recipient = only(report)
    assert recipient.address == "team@googlegroups.com"
    assert recipient.reason is Reason.REJECTED and not recipient.hard


def test_exchange_2003_notice():
    report = parse(
        plain(
            "Your message\n\n  To:      kijitora@example.org\n  Subject: News\n\n"
            "did not reach the following recipient(s):\n\n"
            "kijitora@example.org on Thu, 29 Apr 2010 00:00:00 -0000\n"
            "    The recipient name is not recognized\n"
            "    MSEXCH:IMS:EXAMPLE:SITE:MAIL 0 (000C05A6) Unknown Recipient\n",
            From="System Administrator <postmaster@example.org>",
            Subject="Undeliverable: News",
        )
    )
    recipient = only(report)
    assert report.format == "exchange"
    assert recipient.reason is Reason.USER_UNKNOWN and recipient.hard


def test_office365_access_denied_at_rcpt_is_an_unknown_recipient():
    report = parse(
        dsn(
            "Delivery has failed to these recipients or groups:",
            [
                "Final-Recipient: rfc822;kijitora@example.org\nAction: failed\nStatus: 5.4.1\n"
                "Diagnostic-Code: smtp;550 5.4.1 Recipient address rejected: Access denied. "
                "AS(201806281) [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]"
            ],
            From="Microsoft Outlook <postmaster@outlook.com>",
        )
    )
    assert only(report).reason is Reason.USER_UNKNOWN


def test_dragonfly_mail_agent_bounce():
    report = parse(
        plain(
            "This is the DragonFly Mail Agent v0.13 at mx.example.net.\n\n"
            "There was an error delivering your mail to <kijitora@example.org>.\n\n"
            "mx.example.org [192.0.2.1] did not like our RCPT TO:\n"
            "552 5.2.2 <kijitora@example.org>: Recipient address rejected: Mailbox full\n\n"
            "Original message follows.\n\n" + ORIGINAL,
            From="MAILER-DAEMON <>",
            Subject="Mail delivery failed",
        )
    )
    recipient = only(report)
    assert recipient.command is Command.RCPT
    assert recipient.reason is Reason.MAILBOX_FULL


def test_opensmtpd_delay_warning_is_temporary():
    report = parse(
        plain(
            "    Hi!\n\n    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\n"
            "    A message is delayed for more than 10 minutes for the following\n"
            "    list of recipients:\n\n"
            "kijitora@example.org: Network error on destination MXs\n\n"
            "    Below is a copy of the original message:\n\n" + ORIGINAL,
            From="Mailer Daemon <MAILER-DAEMON@mx.example.net>",
            Subject="Delivery status notification: warning",
        )
    )
    recipient = only(report)
    assert recipient.temporary and not recipient.hard
    assert recipient.reason is Reason.NETWORK_ERROR


def test_amazon_ses_bounce_notification_by_email():
    notification = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": "kijitora@example.org",
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
        },
        "mail": {"messageId": "0100-abc", "destination": ["kijitora@example.org"]},
    }
    report = parse(
        raw(
            {"From": "SES <no-reply@sns.amazonaws.com>", "Subject": "AWS Notification Message"},
            json.dumps(notification),
        )
    )
    recipient = only(report)
    assert report.format == "amazonses"
    assert recipient.reason is Reason.USER_UNKNOWN and recipient.hard


def test_a_mailed_notification_nested_a_hundred_thousand_deep_is_not_a_crash():
    headers = {"From": "SES <no-reply@sns.amazonaws.com>", "Subject": "AWS Notification Message"}
    for body in (
        '{"notificationType": "Bounce", "bounce": ' + "[" * 100_000,
        json.dumps({"Type": "Notification", "Message": "[" * 100_000}),
    ):
        assert parse(raw(headers, body)).kind is Kind.OTHER


def test_dsn_with_a_source_routed_recipient_takes_the_original_recipient():
    report = parse(
        dsn(
            "Delivery failed.",
            [
                "Original-recipient: rfc822;kijitora@example.org\n"
                "Final-recipient: rfc822;@lmtp.example.org:kijitora@store\n"
                "Action: failed\nStatus: 5.2.0\nDiagnostic-code: smtp;522 5.2.0 Over quota"
            ],
        )
    )
    recipient = only(report)
    assert recipient.address == "kijitora@example.org"
    assert recipient.reason is Reason.MAILBOX_FULL


def test_forwarded_bounce_is_read_from_inside():
    inner = plain(
        "Hi. This is the qmail-send program at mx.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
        "<kijitora@example.org>:\n"
        "Sorry, no mailbox here by that name. (#5.1.1)\n\n"
        "--- Below this line is a copy of the message.\n\n" + ORIGINAL,
        From="MAILER-DAEMON@mx.example.net",
        Subject="failure notice",
    ).decode()
    quoted = "\n".join("> " + line for line in inner.replace("\r\n", "\n").split("\n"))
    report = parse(
        raw(
            {"From": "Someone <someone@example.net>", "Subject": "Fwd: failure notice"},
            "Look at this.\n\nBegin forwarded message:\n\n" + quoted,
        )
    )
    recipient = only(report)
    assert recipient.address == "kijitora@example.org"
    assert recipient.reason is Reason.USER_UNKNOWN


def test_report_with_no_recipient_falls_back_to_the_returned_message():
    report = parse(dsn("--- Delivery report unavailable ---", []))
    recipient = only(report)
    assert recipient.address == "kijitora@example.org"
    assert recipient.reason is Reason.UNDEFINED and not recipient.hard


def test_amazon_ses_event_from_a_webhook_document():
    report = parse_ses_event(
        {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": "Transient",
                "bounceSubType": "MailboxFull",
                "bouncedRecipients": [{"emailAddress": "kijitora@example.org"}],
            },
            "mail": {
                "messageId": "0100-abc",
                "headers": [
                    {"name": "Message-ID", "value": "<campaign-7.delivery-42@example.net>"}
                ],
            },
        }
    )
    recipient = only(report)
    assert recipient.reason is Reason.MAILBOX_FULL
    assert recipient.temporary and not recipient.hard
    assert report.original_message_id == "<campaign-7.delivery-42@example.net>"
