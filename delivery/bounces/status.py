"""SMTP reply codes and RFC 3463 enhanced status codes: finding them in text, and what they mean."""

from __future__ import annotations

import re

from delivery.bounces.reasons import Reason

# "5.1.1" but not a piece of an IP address or a version number ("192.0.2.1", "Exim 4.72").
ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
AFTER_REPLY = re.compile(r"(?<!\d)[245]\d\d[ -]'?#?([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)")
# A reply code where servers put one: at the start, after a colon, a bracket or a space, and
# followed by a space, a hyphen (multi-line replies) or the end.
REPLY_CODE = re.compile(r"(?:^|(?<=[\s:(\[\"'<]))([245][0-5]\d)(?=[\s\-:.,\]]|$)")

# Meaning of the subject.detail part of an enhanced status (RFC 3463, 5248, 7505, 7372, 8689),
# in this taxonomy's words. Permanent and transient codes share it except where TRANSIENT says.
BY_DETAIL = {
    "1.0": Reason.USER_UNKNOWN,
    "1.1": Reason.USER_UNKNOWN,
    "1.2": Reason.HOST_UNKNOWN,
    "1.3": Reason.USER_UNKNOWN,
    "1.4": Reason.FILTERED,
    "1.6": Reason.HAS_MOVED,
    "1.7": Reason.REJECTED,  # the sender's address is bad
    "1.8": Reason.REJECTED,
    "1.9": Reason.SYSTEM_ERROR,
    "1.10": Reason.NOT_ACCEPT,  # RFC 7505: the recipient domain has a null MX
    "2.0": Reason.FILTERED,
    "2.1": Reason.FILTERED,
    "2.2": Reason.MAILBOX_FULL,
    "2.3": Reason.EXCEED_LIMIT,
    "2.4": Reason.FILTERED,
    "3.0": Reason.SYSTEM_ERROR,
    "3.1": Reason.SYSTEM_FULL,
    "3.2": Reason.NOT_ACCEPT,
    "3.3": Reason.SYSTEM_ERROR,
    "3.4": Reason.MESG_TOO_BIG,
    "3.5": Reason.SYSTEM_ERROR,
    "4.0": Reason.NETWORK_ERROR,
    "4.1": Reason.USER_UNKNOWN,  # Exchange Online: "Recipient address rejected: Access denied"
    "4.2": Reason.NETWORK_ERROR,
    "4.3": Reason.SYSTEM_ERROR,
    "4.4": Reason.HOST_UNKNOWN,
    "4.5": Reason.SYSTEM_FULL,
    "4.6": Reason.NETWORK_ERROR,
    "4.7": Reason.EXPIRED,
    "4.8": Reason.NETWORK_ERROR,
    "5.2": Reason.SYNTAX_ERROR,
    "5.3": Reason.TOO_MANY_CONN,
    "5.4": Reason.SYSTEM_ERROR,
    "5.5": Reason.SYSTEM_ERROR,
    "5.6": Reason.SYNTAX_ERROR,
    "6.0": Reason.CONTENT_ERROR,
    "6.1": Reason.CONTENT_ERROR,
    "6.2": Reason.CONTENT_ERROR,
    "6.3": Reason.CONTENT_ERROR,
    "6.5": Reason.CONTENT_ERROR,
    "6.6": Reason.CONTENT_ERROR,
    "6.7": Reason.CONTENT_ERROR,
    "6.8": Reason.CONTENT_ERROR,
    "6.9": Reason.CONTENT_ERROR,
    "7.0": Reason.SECURITY_ERROR,
    "7.1": Reason.SECURITY_ERROR,
    "7.2": Reason.SECURITY_ERROR,
    "7.3": Reason.SECURITY_ERROR,
    "7.4": Reason.SECURITY_ERROR,
    "7.5": Reason.SECURITY_ERROR,
    "7.6": Reason.SECURITY_ERROR,
    "7.7": Reason.SECURITY_ERROR,
    "7.8": Reason.SECURITY_ERROR,
    "7.9": Reason.SECURITY_ERROR,
    "7.10": Reason.SECURITY_ERROR,
    "7.11": Reason.SECURITY_ERROR,
    "7.13": Reason.SUSPEND,  # user account disabled
    "7.14": Reason.SECURITY_ERROR,
    "7.15": Reason.SECURITY_ERROR,
    "7.16": Reason.MESG_TOO_BIG,
    "7.17": Reason.HAS_MOVED,  # mailbox owner has changed (RFC 7293)
    "7.18": Reason.HAS_MOVED,
    "7.19": Reason.SECURITY_ERROR,
    "7.20": Reason.AUTH_FAILURE,  # RFC 7372: DKIM and SPF failures
    "7.21": Reason.AUTH_FAILURE,
    "7.22": Reason.AUTH_FAILURE,
    "7.23": Reason.AUTH_FAILURE,
    "7.24": Reason.AUTH_FAILURE,
    "7.25": Reason.REQUIRE_PTR,
    "7.26": Reason.AUTH_FAILURE,
    "7.27": Reason.NOT_ACCEPT,
    "7.28": Reason.SPAM_DETECTED,  # mail flood of similar abusive messages
    "7.29": Reason.AUTH_FAILURE,  # ARC validation
    "7.30": Reason.FAILED_STARTTLS,  # RFC 8689 REQUIRETLS
}

# Transient codes whose meaning differs from the permanent one, or is too vague to name.
TRANSIENT = {
    "1.0": None,
    "1.1": None,
    "1.3": None,
    "2.1": Reason.SUSPEND,
    "3.0": None,
    "4.0": None,
    "4.1": Reason.NETWORK_ERROR,  # no answer from host
    "4.4": Reason.NETWORK_ERROR,
    "5.0": None,
    "7.0": None,
    "7.1": Reason.BLOCKED,
    "7.2": Reason.BLOCKED,
}


# Codes precise enough to overrule the words of the reply: "552 5.2.3 Message size exceeds
# fixed maximum" is the per-recipient limit (exceedlimit), not a message too big for the system.
DECISIVE = frozenset(
    {
        "1.6",
        "1.7",
        "1.8",
        "2.2",
        "2.3",
        "3.4",
        "4.5",
        "7.13",
        "7.20",
        "7.21",
        "7.22",
        "7.23",
        "7.24",
        "7.25",
        "7.26",
        "7.27",
        "7.29",
        "7.30",
    }
)


def is_decisive(code: str | None) -> bool:
    """Whether an enhanced status code names its reason more surely than the text does."""
    return bool(code) and code.partition(".")[2] in DECISIVE


def normalize(code: str | None) -> str | None:
    """The bare "d.ddd.ddd" of a status field ("5.0.0 (permanent failure)" -> "5.0.0")."""
    if not code:
        return None
    found = ENHANCED.search(code)
    return ".".join(found.groups()) if found else None


def find_enhanced(text: str) -> str | None:
    """The most specific enhanced status code in a diagnostic text, if any.

    One that follows a reply code ("550-'5.7.1", "550 5.1.1") is the remote server's own and
    wins over a relay's summary in front of it ("5.1.0 - Unknown address error 550-'5.7.1").
    """
    replied = AFTER_REPLY.search(text)
    if replied and not replied.group(1).endswith(".0.0"):
        return replied.group(1)
    codes = [".".join(m.groups()) for m in ENHANCED.finditer(text)]
    if not codes:
        return None
    specific = [c for c in codes if not c.endswith(".0.0")]
    return (specific or codes)[0]


def find_reply_code(text: str) -> int | None:
    """The first SMTP reply code in a diagnostic text, if any."""
    found = REPLY_CODE.search(text)
    return int(found.group(1)) if found else None


def is_vague(code: str | None) -> bool:
    """Whether a status says nothing beyond its class ("5.0.0", "4.0.0") or is missing."""
    return code is None or code[2:] == "0.0"


def reason_for(code: str | None) -> Reason | None:
    """What an enhanced status code means in this taxonomy, None when it says nothing specific."""
    if not code:
        return None
    klass, _, detail = code.partition(".")
    if klass == "2":
        return Reason.DELIVERED
    if klass == "4" and detail in TRANSIENT:
        return TRANSIENT[detail]
    return BY_DETAIL.get(detail)
