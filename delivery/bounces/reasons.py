"""The bounce reason taxonomy (Sisimai's names) and which reasons mean the address is dead."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # The recipient is gone.
    USER_UNKNOWN = "userunknown"
    HOST_UNKNOWN = "hostunknown"
    HAS_MOVED = "hasmoved"
    NOT_ACCEPT = "notaccept"
    # The recipient's side, temporary or recoverable.
    MAILBOX_FULL = "mailboxfull"
    SUSPEND = "suspend"
    EXCEED_LIMIT = "exceedlimit"
    SYSTEM_FULL = "systemfull"
    FILTERED = "filtered"
    # The sender's reputation or policy: never the recipient's fault.
    REJECTED = "rejected"
    BLOCKED = "blocked"
    BAD_REPUTATION = "badreputation"
    REQUIRE_PTR = "requireptr"
    AUTH_FAILURE = "authfailure"
    SPAM_DETECTED = "spamdetected"
    VIRUS_DETECTED = "virusdetected"
    POLICY_VIOLATION = "policyviolation"
    SECURITY_ERROR = "securityerror"
    NO_RELAYING = "norelaying"
    SPEEDING = "speeding"
    TOO_MANY_CONN = "toomanyconn"
    # The message itself.
    MESG_TOO_BIG = "mesgtoobig"
    CONTENT_ERROR = "contenterror"
    NOT_COMPLIANT_RFC = "notcompliantrfc"
    # Transport or system.
    EXPIRED = "expired"
    NETWORK_ERROR = "networkerror"
    SYSTEM_ERROR = "systemerror"
    MAILER_ERROR = "mailererror"
    FAILED_STARTTLS = "failedstarttls"
    SYNTAX_ERROR = "syntaxerror"
    SUPPRESSED = "suppressed"
    ON_HOLD = "onhold"
    UNDEFINED = "undefined"
    # Not bounces at all.
    FEEDBACK = "feedback"
    VACATION = "vacation"
    DELIVERED = "delivered"


# The address itself is dead: suppress it at once (NOT_ACCEPT only when permanent, see is_hard).
DEAD_ADDRESS = frozenset({Reason.USER_UNKNOWN, Reason.HOST_UNKNOWN, Reason.HAS_MOVED})

# Rejections about the sender (its IP, domain, authentication or content policy): they say
# nothing about the recipient, so they must never suppress the recipient.
SENDER_SIDE = frozenset(
    {
        Reason.REJECTED,
        Reason.BLOCKED,
        Reason.BAD_REPUTATION,
        Reason.REQUIRE_PTR,
        Reason.AUTH_FAILURE,
        Reason.SPAM_DETECTED,
        Reason.VIRUS_DETECTED,
        Reason.POLICY_VIOLATION,
        Reason.SECURITY_ERROR,
        Reason.NO_RELAYING,
        Reason.SPEEDING,
        Reason.TOO_MANY_CONN,
    }
)

NOT_BOUNCES = frozenset({Reason.FEEDBACK, Reason.VACATION, Reason.DELIVERED})


def is_hard(reason: Reason, *, temporary: bool) -> bool:
    """Whether the address is dead: user/host unknown, moved, or a permanent "accepts no mail"."""
    if reason in DEAD_ADDRESS:
        return True
    return reason is Reason.NOT_ACCEPT and not temporary
