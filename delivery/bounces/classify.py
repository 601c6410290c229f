"""Deciding the reason of a failed delivery, and whether the address is dead.

One logic for both sources: asynchronous bounces (a Finding read from a report) and the
synchronous replies the delivery engine gets during an SMTP session (classify_reply).
"""

from __future__ import annotations

from dataclasses import dataclass

from delivery.bounces import commands, phrases, status
from delivery.bounces.reasons import Reason, is_hard
from delivery.bounces.report import Command, Finding

SUCCESS_ACTIONS = {"delivered", "relayed", "expanded"}
ADDRESS_REASONS = {Reason.USER_UNKNOWN, Reason.HOST_UNKNOWN, Reason.FILTERED}


@dataclass(frozen=True)
class Classification:
    """Why a delivery failed, in the taxonomy of reasons.py."""

    reason: Reason
    hard: bool  # the address is dead: suppress it now
    temporary: bool  # the failure may go away: a 4xx answer or a delay warning


def classify_reply(
    code: int, enhanced: str | None, text: str, command: str | Command | None = None
) -> Classification:
    """Classify an SMTP reply received during delivery.

    Pass the command the reply answered ("RCPT", "DATA", "MAIL", ... or a Command): "user
    unknown" after RCPT TO means the mailbox does not exist, after DATA a filter refused.
    """
    if isinstance(command, str) and not isinstance(command, Command):
        command = commands.named(command)
    finding = Finding(
        address="",
        status=status.normalize(enhanced) or status.find_enhanced(text),
        reply_code=code,
        diagnostic=text,
        diagnostic_type="smtp",
        action="failed" if code >= 500 else "delayed" if code >= 400 else "delivered",
        command=command,
    )
    return classify(finding)


def classify(finding: Finding) -> Classification:
    """The reason and hardness of one finding."""
    temporary = is_temporary(finding)
    reason = finding.reason or decide(finding)
    # A delay warning means the server still holds the message and will try again: whatever
    # its last reply said, it has not given up on the address (RFC 3464 section 2.3.3).
    hard = is_hard(reason, temporary=temporary) and finding.action != "delayed"
    return Classification(reason, hard, temporary)


def is_temporary(finding: Finding) -> bool:
    """A delay warning, a 4.x.x status, or (without a status) a 4xx reply."""
    if finding.action == "delayed":
        return True
    if finding.status:
        return finding.status.startswith("4")
    return finding.reply_code is not None and 400 <= finding.reply_code < 500


def decide(finding: Finding) -> Reason:
    """The reason, from (in order): a success status; a local program's failure; a status code
    precise enough to trust over words; the diagnostic's words; the SMTP command refused; any
    status code; and last the kind of reply."""
    if finding.action in SUCCESS_ACTIONS or (finding.status or "").startswith("2"):
        return Reason.DELIVERED
    text = phrases.normalize(finding.diagnostic)
    if (finding.diagnostic_type or "").startswith("x-unix"):
        # A local delivery program failed (RFC 3464 section 2.3.6): only its words about a
        # full mailbox say more than that.
        return phrases.match(text, only=(Reason.MAILBOX_FULL,)) or Reason.MAILER_ERROR
    by_status = status.reason_for(finding.status)
    by_text = phrases.match(text) if text else None
    if by_status and status.is_decisive(finding.status):
        reason = by_status
    elif by_text is Reason.USER_UNKNOWN:
        reason = unknown_user(finding, by_status)
    else:
        reason = by_text or by_command(finding) or by_status or fallback(finding, text)
    if reason in ADDRESS_REASONS:
        # An unknown address or domain in answer to MAIL FROM or HELO is ours, not the recipient's.
        if finding.command is Command.MAIL:
            return Reason.REJECTED
        if finding.command in (Command.HELO, Command.CONNECT):
            return Reason.BLOCKED
    return reason


def unknown_user(finding: Finding, by_status: Reason | None) -> Reason:
    """ "User unknown" means the mailbox is gone when it answers RCPT TO, the status says so or
    the words are a recipient lookup's own; otherwise it came later, from a filter (RFC 5321
    section 3.3 puts mailbox checks at RCPT)."""
    text = phrases.normalize(finding.diagnostic)
    if finding.command is Command.RCPT or by_status is Reason.USER_UNKNOWN:
        return Reason.USER_UNKNOWN
    if phrases.SURELY_GONE.search(text):
        return Reason.USER_UNKNOWN
    if by_status is Reason.SECURITY_ERROR and phrases.REFUSED_AS_ABSENT.search(text):
        return Reason.USER_UNKNOWN
    if finding.command is not None:
        return Reason.FILTERED
    # "550 <rcpt>: User unknown" is how Postfix's smtpd words a refusal at RCPT TO; a status
    # more specific than x.0.0 (5.2.1, 5.7.1) would be the server saying otherwise.
    quoted = f"<{finding.address.lower()}>:"
    if finding.address and quoted in text and status.is_vague(finding.status):
        return Reason.USER_UNKNOWN
    return Reason.FILTERED


def by_command(finding: Finding) -> Reason | None:
    """A refusal of MAIL FROM is about our sender; of the greeting or HELO, about our server."""
    if finding.command is Command.MAIL:
        return Reason.REJECTED
    if finding.command in (Command.HELO, Command.CONNECT):
        return Reason.BLOCKED
    return None


def fallback(finding: Finding, text: str) -> Reason:
    """When neither words, command nor status say why: what the context implies."""
    if finding.reply_code is not None and 500 <= finding.reply_code <= 504:
        return Reason.SYNTAX_ERROR  # RFC 5321 4.2.2: command or argument errors
    if finding.action == "delayed":
        return Reason.EXPIRED
    if text:
        return Reason.ON_HOLD
    return Reason.UNDEFINED
