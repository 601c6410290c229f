"""classify_reply: the reason and hardness of SMTP replies, as the delivery engine sees them."""

import pytest

from delivery.bounces import SENDER_SIDE, Reason, classify_reply


def test_gmail_user_unknown_is_hard():
    verdict = classify_reply(
        550,
        "5.1.1",
        "The email account that you tried to reach does not exist. Please try double-checking "
        "the recipient's email address for typos or unnecessary spaces.",
        "RCPT",
    )
    assert verdict.reason is Reason.USER_UNKNOWN
    assert verdict.hard


def test_mailbox_full_is_soft():
    verdict = classify_reply(552, "5.2.2", "<kijitora@example.org>: Mailbox full", "RCPT")
    assert verdict.reason is Reason.MAILBOX_FULL
    assert not verdict.hard


def test_sender_blocked_is_not_hard():
    verdict = classify_reply(
        554, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
    )
    assert verdict.reason is Reason.BLOCKED
    assert verdict.reason in SENDER_SIDE
    assert not verdict.hard


def test_user_unknown_after_data_is_a_filter_not_a_dead_address():
    verdict = classify_reply(550, None, "User unknown", "DATA")
    assert verdict.reason is Reason.FILTERED
    assert not verdict.hard


def test_user_unknown_at_rcpt_without_enhanced_code_is_hard():
    verdict = classify_reply(550, None, "<kijitora@example.org>: User unknown", "RCPT TO")
    assert verdict.reason is Reason.USER_UNKNOWN
    assert verdict.hard


def test_enhanced_code_is_read_from_the_text_when_not_given():
    verdict = classify_reply(550, None, "5.1.1 <nobody@example.org>... User unknown")
    assert verdict.reason is Reason.USER_UNKNOWN


def test_unknown_domain_is_hard():
    verdict = classify_reply(550, "5.1.2", "Host or domain name not found")
    assert verdict.reason is Reason.HOST_UNKNOWN
    assert verdict.hard


def test_null_mx_is_hard_when_permanent_and_soft_when_temporary():
    permanent = classify_reply(556, "5.1.10", "Recipient address has null MX")
    temporary = classify_reply(450, "4.3.2", "System not accepting network messages")
    assert permanent.reason is Reason.NOT_ACCEPT and permanent.hard
    assert temporary.reason is Reason.NOT_ACCEPT and not temporary.hard
    assert temporary.temporary


def test_dmarc_rejection_is_an_authentication_failure():
    verdict = classify_reply(
        550,
        "5.7.26",
        "Unauthenticated email from example.net is not accepted due to domain's DMARC policy.",
    )
    assert verdict.reason is Reason.AUTH_FAILURE
    assert not verdict.hard


def test_volume_deferral_is_reputation_and_temporary():
    verdict = classify_reply(
        421,
        "4.7.0",
        "[TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user "
        "complaints",
        "MAIL",
    )
    assert verdict.reason is Reason.BAD_REPUTATION
    assert verdict.temporary
    assert not verdict.hard


def test_unknown_address_in_answer_to_mail_from_is_about_our_sender():
    verdict = classify_reply(553, "5.1.0", "<bounces@example.net>: Sender address unknown", "MAIL")
    assert verdict.reason is Reason.REJECTED
    assert not verdict.hard


def test_refusal_at_connection_is_blocked():
    verdict = classify_reply(554, None, "Access denied", "CONNECT")
    assert verdict.reason is Reason.BLOCKED
    assert not verdict.hard


def test_moved_mailbox_is_hard():
    verdict = classify_reply(551, "5.1.6", "User has moved; please try <k@example.com>", "RCPT")
    assert verdict.reason is Reason.HAS_MOVED
    assert verdict.hard


def test_disabled_account_is_suspended_not_dead():
    verdict = classify_reply(
        550, "5.2.1", "The email account that you tried to reach is disabled.", "RCPT"
    )
    assert verdict.reason is Reason.SUSPEND
    assert not verdict.hard


def test_message_size_limits():
    assert classify_reply(552, "5.3.4", "Message size exceeds fixed limit").reason is (
        Reason.MESG_TOO_BIG
    )
    assert classify_reply(552, "5.2.3", "Message size exceeds fixed maximum").reason is (
        Reason.EXCEED_LIMIT
    )


def test_spam_and_virus_rejections_are_told_apart():
    spam = classify_reply(550, "5.7.1", "Message rejected as spam by Content Filtering", "DATA")
    virus = classify_reply(554, "5.7.0", "Virus detected: Eicar-Test-Signature", "DATA")
    assert spam.reason is Reason.SPAM_DETECTED
    assert virus.reason is Reason.VIRUS_DETECTED


def test_rate_limit_is_speeding():
    verdict = classify_reply(
        450,
        "4.2.1",
        "The user you are trying to contact is receiving mail at a rate that prevents additional "
        "messages from being delivered",
    )
    assert verdict.reason is Reason.SPEEDING
    assert verdict.temporary


def test_reply_without_a_known_phrase_falls_back_to_the_status_code():
    assert classify_reply(550, "5.2.2", "nope").reason is Reason.MAILBOX_FULL
    assert classify_reply(550, "5.0.0", "nope").reason is Reason.ON_HOLD
    assert classify_reply(501, None, "nope").reason is Reason.SYNTAX_ERROR


def test_positive_reply_is_delivered():
    verdict = classify_reply(250, "2.0.0", "Ok: queued as 4BLzFK3MM")
    assert verdict.reason is Reason.DELIVERED
    assert not verdict.hard and not verdict.temporary


def test_outlook_mailbox_unavailable_is_an_unknown_user_at_any_stage():
    text = "Requested action not taken: mailbox unavailable (S2017062302) [BN8NAM12FT003]"
    for command in ("RCPT", None, "DATA"):
        verdict = classify_reply(550, "5.5.0", text, command)
        assert verdict.reason is Reason.USER_UNKNOWN, command
        assert verdict.hard


@pytest.mark.parametrize(
    "text",
    [
        "sorry, no mailbox here by that name. (#5.1.1)",
        "No account by that name",
        "sorry, that's not a valid user here",
        "<kijitora@example.org> does not exist",
        "Nonexistent user: kijitora",
        "The mailbox does not exist",
    ],
)
def test_wordings_only_a_recipient_lookup_writes_are_unknown_users_without_a_command(text):
    verdict = classify_reply(550, None, text)
    assert verdict.reason is Reason.USER_UNKNOWN
    assert verdict.hard


@pytest.mark.parametrize(
    "text",
    [
        "sorry, no such user here (#5.7.1)",
        "sorry, that's not a valid user here (#5.7.1)",
        "sorry, your envelope recipient is in my badrcptto list (#5.7.1)",
        "Nonexistent user (#5.7.1)",
    ],
)
def test_policy_status_does_not_outvote_words_saying_the_mailbox_is_not_there(text):
    verdict = classify_reply(553, None, text)
    assert verdict.reason is Reason.USER_UNKNOWN
    assert verdict.hard


def test_policy_status_with_sender_words_stays_a_sender_side_refusal():
    verdict = classify_reply(553, "5.7.1", "<bounces@example.net>... Access denied")
    assert verdict.reason in SENDER_SIDE
    assert not verdict.hard


def test_postfix_host_not_found_is_a_dead_domain_but_try_again_is_not():
    dead = classify_reply(
        550,
        "5.4.4",
        "Host or domain name not found. Name service error for name=example.org "
        "type=MX: Host not found",
    )
    bare = classify_reply(
        550, None, "Name service error for name=example.org type=MX: Host not found"
    )
    retry = classify_reply(
        450, "4.4.3", "Name service error for name=example.org type=MX: Host not found, try again"
    )
    assert dead.reason is bare.reason is Reason.HOST_UNKNOWN
    assert dead.hard and bare.hard
    assert retry.reason is Reason.NETWORK_ERROR and not retry.hard


def test_resolver_saying_name_or_service_not_known_is_a_dead_domain():
    verdict = classify_reply(550, None, "connect to mx.example.org: Name or service not known")
    assert verdict.reason is Reason.HOST_UNKNOWN
    assert verdict.hard
