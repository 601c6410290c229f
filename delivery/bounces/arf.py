"""Complaint reports: ARF (RFC 5965) feedback reports, providers' feedback-loop forwards without
the report part, and Apple Mail's unsubscribe messages."""

from __future__ import annotations

import re
from email.message import Message

from delivery.bounces import addresses, mime, rfc3464
from delivery.bounces.mime import Sections
from delivery.bounces.reasons import Reason
from delivery.bounces.report import Finding

# Apple Mail's "Unsubscribe" button mails the List-Unsubscribe mailto address with this text.
APPLE_UNSUBSCRIBE = re.compile(r"Apple Mail sent this email to unsubscribe from the message", re.I)
# ARF reports that lost their MIME structure (forwarded inline) still carry the fields.
INLINE_FEEDBACK = re.compile(r"^Feedback-Type:\s*([\w-]+)", re.I | re.M)
# Feedback loops older than RFC 5965, or that never adopted it, forward the complained-about
# message as an attachment from their feedback address ("fbl@", "feedback@", "abuse@",
# AOL's "scomp@", Hotmail's "staff@hotmail.com") with a line of prose and no report part.
FEEDBACK_SENDER = re.compile(
    r"^(?:fbl|feedback|feedback-?loop|abuse|abuse-?reports?|complaints?|spam-?reports?"
    r"|report-?spam|scomp|junk-?reports?)(?:[-+.][\w.-]*)?@"
    r"|^staff@hotmail\.com$"
    r"|@(?:fbl|feedback|feedbackloop|abuse)\."
    r"|@(?:[\w-]+\.)*spamcop\.net$",  # SpamCop mails its users' reports from reports.spamcop.net
    re.I,
)
COMPLAINT_WORDS = re.compile(
    r"complain|abuse report|spam report|feedback loop|reported (?:as|this) (?:spam|junk)"
    r"|\btos notification|terms of service"  # AOL's "Client TOS Notification" before ARF
    r"|\bspamcop\b"
    r"|marked (?:as|it as) (?:spam|junk)|(?:is|as) (?:spam|junk)\b|投诉|举报|垃圾邮件|жалоб|спам",
    re.I,
)


def read(message: Message, parts: Sections) -> tuple[str, list[Finding]] | None:
    """(feedback type, complained-about recipients) of a complaint; None for anything else."""
    if parts.feedback is not None:
        return feedback_report(parts.feedback, parts.original)
    if message.get_param("report-type", header="content-type") == "feedback-report":
        found = INLINE_FEEDBACK.search(parts.notice)
        return feedback_report(parts.notice if found else "", parts.original)
    if APPLE_UNSUBSCRIBE.search(parts.notice):
        sender = addresses.from_header(mime.header(message, "From"))
        return "opt-out", [complainer(a) for a in sender[:1]]
    if is_feedback_forward(message, parts):
        return feedback_report("", parts.original)
    return None


def is_feedback_forward(message: Message, parts: Sections) -> bool:
    """A feedback loop's forward of our message: from a feedback address, the original
    attached, no delivery report, and words of a complaint in the subject or the text."""
    if parts.original is None or parts.reports:
        return False
    sender = addresses.from_header(mime.header(message, "From"))
    if not any(FEEDBACK_SENDER.search(a) for a in sender):
        return False
    return bool(COMPLAINT_WORDS.search(f"{mime.header(message, 'Subject')}\n{parts.notice}"))


def feedback_report(text: str, original: Message | None) -> tuple[str, list[Finding]]:
    """Read the fields of a message/feedback-report part."""
    fields: dict[str, list[str]] = {}
    for _, name, value in rfc3464.fields(text):
        fields.setdefault(name, []).append(value)
    feedback_type = (fields.get("feedback-type") or ["abuse"])[0].strip().lower() or "abuse"
    # RFC 6650 section 3: Original-Rcpt-To names the complaining recipient; providers that
    # redact it leave only the returned message's To header.
    named = [a for v in fields.get("original-rcpt-to", []) for a in addresses.find_all(v)]
    named += [a for v in fields.get("removal-recipient", []) for a in addresses.find_all(v)]
    if not named and original is not None:
        named = addresses.from_header(mime.header(original, "To"))
    unique = list(dict.fromkeys(named))
    return feedback_type, [complainer(a) for a in unique]


def complainer(address: str) -> Finding:
    """A finding for a recipient who complained."""
    return Finding(address=address, action="complained", reason=Reason.FEEDBACK)
