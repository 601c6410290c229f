"""Bounces with no delivery-status part, one test per MTA format (or family), each message
written here from what that MTA's source, documentation or specification says it prints.

The returned message in most of them was sent to a mailing list: the failed recipient must come
from the notice, never from the returned message's To.
"""

from delivery.bounces import Reason, parse
from tests.delivery.bounces.messages import LIST_ORIGINAL, plain, recipients


def test_qmail_qsbmf_failure_names_the_failed_recipient_and_a_hard_unknown_user():
    # QSBMF (cr.yp.to/proto/qsbmf.txt): "Hi. This is the" opens the body, then one paragraph
    # per recipient starting "<address>:", then a break paragraph starting with "-".
    report = parse(
        plain(
            "Hi. This is the qmail-send program at mx.example.org.\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
            "<kijitora@example.org>:\n"
            "Sorry, no mailbox here by that name. (#5.1.1)\n\n"
            "<neko@nowhere.example>:\n"
            "Sorry, I couldn't find any host named nowhere.example. (#5.1.2)\n\n"
            "--- Below this line is a copy of the message.\n\n" + LIST_ORIGINAL,
            From="MAILER-DAEMON@mx.example.org",
            Subject="failure notice",
        )
    )
    found = recipients(report)
    assert set(found) == {"kijitora@example.org", "neko@nowhere.example"}
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["neko@nowhere.example"].reason is Reason.HOST_UNKNOWN
    assert all(r.hard for r in found.values())


def test_qsbmf_from_a_program_other_than_qmail_send_is_read_by_its_paragraphs():
    # The spec recognises QSBMF by "Hi. This is the" alone: other programs write it too.
    report = parse(
        plain(
            "Hi. This is the deliver program at mail.example.org.\n"
            "I could not deliver your message to the following addresses.\n\n"
            "<kijitora@example.org>:\n"
            "Sorry, no mailbox here by that name. (#5.1.1)\n\n"
            "--- Below this line is a copy of the message.\n\n" + LIST_ORIGINAL,
            From="Mail Delivery <deliver@mail.example.org>",
            Subject="failure notice",
        )
    )
    found = recipients(report)
    assert report.format == "qmail"
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["kijitora@example.org"].hard


def test_sendmail_fatal_errors_list_without_a_transcript_names_the_listed_address():
    # savemail.c: the list of failed addresses with "(reason: ...)", then "Message header
    # follows" when only the headers are returned.
    report = parse(
        plain(
            "The original message was received at Thu, 29 Apr 2010 23:34:45 +0900\n"
            "from localhost [127.0.0.1]\n\n"
            "   ----- The following addresses had permanent fatal errors -----\n"
            "<kijitora@example.org>\n"
            "    (reason: 550 5.1.1 <kijitora@example.org>... User unknown)\n\n"
            "   ----- Message header follows -----\n\n" + LIST_ORIGINAL.split("\n\n")[0],
            From="Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>",
            Subject="Returned mail: User unknown",
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert report.original_message_id == "<campaign-7.delivery-42@example.net>"


def test_sendmail_notice_from_a_renamed_daemon_names_the_listed_address_not_the_list():
    # confMAILER_NAME renames the sender; the notice's own lines still name the recipient.
    report = parse(
        plain(
            "The original message was received at Thu, 29 Apr 2010 23:34:45 +0900\n\n"
            "   ----- The following addresses had permanent fatal errors -----\n"
            "<kijitora@example.org>\n"
            "    (reason: 550 5.1.1 <kijitora@example.org>... User unknown)\n\n"
            "   ----- Original message follows -----\n\n" + LIST_ORIGINAL,
            From="Mail Delivery Subsystem <mailsystem@mx.example.net>",
            Subject="Returned mail: see transcript for details",
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["kijitora@example.org"].hard


def test_sendmail_warning_of_transient_errors_is_temporary_and_never_hard():
    report = parse(
        plain(
            "    **********************************************\n"
            "    **      THIS IS A WARNING MESSAGE ONLY      **\n"
            "    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n"
            "    **********************************************\n\n"
            "The original message was received at Thu, 29 Apr 2010 23:34:45 +0900\n\n"
            "   ----- The following addresses had transient non-fatal errors -----\n"
            "<kijitora@example.org>\n\n"
            "   ----- Transcript of session follows -----\n"
            "<kijitora@example.org>... Deferred: Connection timed out with mx.example.org.\n"
            "Warning: message still undelivered after 4 hours\n"
            "Will keep trying until message is 5 days old\n",
            From="Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>",
            Subject="Warning: could not send message for past 4 hours",
        )
    )
    found = recipients(report)["kijitora@example.org"]
    assert found.temporary
    assert not found.hard


def test_exim_delay_warning_is_temporary_and_never_hard():
    # Exim's warning_message text: "has not yet been delivered ... No action is required".
    report = parse(
        plain(
            "This message was created automatically by mail delivery software.\n"
            "A message that you sent has not yet been delivered to one or more of its\n"
            "recipients after more than 24 hours on the queue on mx.example.net.\n\n"
            "The message identifier is:     1aBcDe-000123-Fg\n"
            "The subject of the message is: Our April news\n\n"
            "The address to which the message has not yet been delivered is:\n\n"
            "  kijitora@example.org\n"
            "    Delay reason: SMTP error from remote mail server after RCPT "
            "TO:<kijitora@example.org>:\n"
            "    host mx.example.org [192.0.2.1]: 452 4.2.2 <kijitora@example.org>: Mailbox\n"
            "    full\n\n"
            "No action is required on your part. Delivery attempts will continue for\n"
            "some time, and this warning may be repeated at intervals if the message\n"
            "remains undelivered.\n",
            From="Mail Delivery System <Mailer-Daemon@mx.example.net>",
            Subject="Warning: message 1aBcDe-000123-Fg delayed 24 hours",
        )
    )
    found = recipients(report)["kijitora@example.org"]
    assert found.temporary and found.action == "delayed"
    assert not found.hard


def test_domino_notice_is_read_from_its_own_sentences_whoever_sends_it():
    report = parse(
        plain(
            "Your message\n\n"
            "  Subject: Our April news\n\n"
            "was not delivered to:\n\n"
            "  kijitora@example.org\n\n"
            "because:\n\n"
            "  User kijitora (kijitora@example.org) not listed in Domino Directory\n",
            From="Mail Router <mailrouter@example.org>",
            Subject="DELIVERY FAILURE: User kijitora (kijitora@example.org) not listed in "
            "Domino Directory",
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["kijitora@example.org"].hard


def test_groupwise_undeliverable_status_names_the_recipient_and_its_reason():
    report = parse(
        plain(
            "The message that you sent was undeliverable to the following:\n"
            "\tkijitora@example.org (user not found)\n\n"
            "Possible Solutions:\n"
            "   - Verify the address and try again.\n"
            "   - Contact the recipient by other means.\n\n"
            "----- Original message -----\n\n" + LIST_ORIGINAL,
            From="GroupWise Internet Agent <gwia@gw.example.org>",
            Subject="Message status - undeliverable",
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["kijitora@example.org"].hard


def test_iplanet_messaging_server_text_report_ignores_the_echoed_to_header():
    # Netscape/iPlanet/Sun Messaging Server quote the returned message's headers first.
    report = parse(
        plain(
            "This report relates to a message you sent with the following header fields:\n\n"
            "  Message-id: <campaign-7.delivery-42@example.net>\n"
            "  Date: Thu, 29 Apr 2010 23:34:45 +0900\n"
            "  From: News <news@example.net>\n"
            "  To: Members <members@lists.example.net>\n"
            "  Subject: Our April news\n\n"
            "Your message cannot be delivered to the following recipients:\n\n"
            "  Recipient address: kijitora@example.org\n"
            "  Reason: Remote SMTP server has rejected address\n"
            "  Diagnostic code: smtp;550 5.1.1 <kijitora@example.org>... User unknown\n"
            "  Remote system: dns;mx.example.org (mx.example.org ESMTP)\n",
            From="Internet Mail Delivery <postmaster@ims.example.net>",
            Subject="Delivery Notification: Delivery has failed",
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN


def test_exchange_2007_text_only_ndr_names_the_recipient_not_the_list():
    report = parse(
        plain(
            "Delivery has failed to these recipients or groups:\n\n"
            "kijitora@example.org\n"
            "The e-mail address you entered couldn't be found. Please check the recipient's "
            "e-mail address and try to resend the message.\n\n"
            "Diagnostic information for administrators:\n\n"
            "Generating server: mail.example.org\n\n"
            "kijitora@example.org\n"
            "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\n\n"
            "Original message headers:\n\n" + LIST_ORIGINAL,
            From="Microsoft Outlook <postmaster@example.org>",
            Subject="Undeliverable: Our April news",
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["kijitora@example.org"].hard


def test_exchange_legacy_ndr_from_the_system_administrator_is_an_unknown_user():
    report = parse(
        plain(
            "Your message\n\n"
            "  To:      Members\n"
            "  Subject: Our April news\n"
            "  Sent:    Thu, 29 Apr 2010 23:34:45 +0900\n\n"
            "did not reach the following recipient(s):\n\n"
            "kijitora@example.org on Thu, 29 Apr 2010 23:34:46 +0900\n"
            "    The recipient name is not recognized\n"
            "    The MTS-ID of the original message is: c=us;a= ;p=example;l=EXCH0104291434\n"
            "    MSEXCH:IMS:Example:Site:EXCH01 0 (000C05A6) Unknown Recipient\n",
            From="System Administrator <admin@example.org>",
            Subject="Undeliverable: Our April news",
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN


def test_postfix_plain_text_delay_warning_is_temporary_and_never_hard():
    report = parse(
        plain(
            "This is the mail system at host mx.example.net.\n\n"
            "####################################################################\n"
            "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
            "####################################################################\n\n"
            "Your message could not be delivered for more than 4 hour(s).\n"
            "It will be retried until it is 5 day(s) old.\n\n"
            "                   The mail system\n\n"
            "<kijitora@example.org>: host mx.example.org[192.0.2.1] said: 450 4.1.1\n"
            "    <kijitora@example.org>: Recipient address rejected: User unknown in local\n"
            "    recipient table (in reply to RCPT TO command)\n",
            Subject="Delayed Mail (still being retried)",
        )
    )
    found = recipients(report)["kijitora@example.org"]
    assert found.temporary and found.action == "delayed"
    assert not found.hard


def test_delay_notice_of_an_unknown_mta_is_temporary_and_never_hard():
    report = parse(
        plain(
            "This is a warning message only. Your message has not yet been delivered to:\n\n"
            "  kijitora@example.org: 450 4.1.1 User unknown\n\n"
            "Delivery attempts will continue for 4 more days.\n",
            From="Mail System <mailsys@example.org>",
            Subject="Message not delivered yet",
        )
    )
    found = recipients(report)["kijitora@example.org"]
    assert found.action == "delayed"
    assert not found.hard


def test_mdaemon_session_transcript_names_the_recipient_of_the_refused_rcpt_to():
    report = parse(
        plain(
            "The attached message had PERMANENT fatal delivery errors!\n\n"
            "After one or more unsuccessful delivery attempts the attached message has been\n"
            "removed from the mail queue on this server.\n\n"
            "--- Session Transcript ---\n"
            " Thu 2010-04-29 23:34:45: Attempting SMTP connection to [192.0.2.1 : 25]\n"
            " Thu 2010-04-29 23:34:45: --> RCPT TO:<kijitora@example.org>\n"
            " Thu 2010-04-29 23:34:45: <-- 550 5.1.1 <kijitora@example.org>... User unknown\n"
            "--- End Transcript ---\n",
            From="MDaemon@mx.example.net",
            Subject="Permanent Delivery Failure",
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN


def test_outlook_client_ndr_with_a_quoted_recipient_cannot_be_reached():
    report = parse(
        plain(
            "Your message did not reach some or all of the intended recipients.\n\n"
            "      Subject:\tOur April news\n"
            "      Sent:\t4/29/2010 11:34 PM\n\n"
            "The following recipient(s) cannot be reached:\n\n"
            "      'kijitora@example.org' on 4/29/2010 11:34 PM\n"
            "            The e-mail account does not exist at the organization this message "
            "was sent to.\n"
            "            <mx.example.org #5.1.1 smtp;550 5.1.1 User unknown>\n",
            From="System Administrator <postmaster@example.org>",
            Subject="Undeliverable: Our April news",
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["kijitora@example.org"].hard


def test_french_exchange_ndr_without_a_report_part_names_its_recipient():
    report = parse(
        plain(
            "Échec de remise aux destinataires ou groupes suivants :\n\n"
            "kijitora@example.org\n\n"
            "Informations de diagnostic pour les administrateurs :\n\n"
            "kijitora@example.org\n"
            "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\n",
            From="Microsoft Outlook <postmaster@example.fr>",
            Subject="Non remis : Our April news",
            **{"Content-Type": "text/plain; charset=utf-8"},
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["kijitora@example.org"].hard


def test_html_only_ndr_with_a_mailto_link_names_the_recipient():
    body = (
        "<html><body><p>Delivery has failed to these recipients or groups:</p>"
        '<p>kijitora@example.org<a href="mailto:kijitora@example.org">'
        "&lt;mailto:kijitora@example.org&gt;</a><br>"
        "The e-mail address you entered couldn't be found.</p></body></html>"
    )
    report = parse(
        plain(
            body,
            From="Microsoft Outlook <postmaster@example.org>",
            Subject="Undeliverable: Our April news",
            **{"Content-Type": "text/html; charset=utf-8"},
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["kijitora@example.org"].hard
