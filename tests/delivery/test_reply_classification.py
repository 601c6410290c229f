"""Replies met during delivery are classified knowing the command they answered."""

from __future__ import annotations

from delivery.batches import reply_classification
from tests.delivery.test_smtp import SENDER, message, session_to
from tests.smtpserver import Script


def test_user_unknown_refused_at_rcpt_is_a_dead_mailbox(start_smtp_server):
    # Many servers refuse a missing mailbox at RCPT TO without an enhanced code; the words
    # alone are ambiguous (after DATA they are a filter's), the command is not.
    server = start_smtp_server(script=Script(rcpt={"gone@example.com": "550 User unknown"}))

    with session_to(server) as session:
        refused = session.send(SENDER, "gone@example.com", message())

    assert refused.command == "RCPT"
    assert reply_classification(refused) == ("userunknown", True)


def test_user_unknown_after_the_message_is_not_taken_for_a_dead_mailbox(start_smtp_server):
    server = start_smtp_server(script=Script(data={"gone@example.com": "550 User unknown"}))

    with session_to(server) as session:
        refused = session.send(SENDER, "gone@example.com", message())

    assert refused.command == ""
    assert reply_classification(refused).hard is False
