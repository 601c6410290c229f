"""Amazon SES notifications (bounce, complaint, delivery) delivered by email through SNS.

from_notification() reads the same JSON document an SNS HTTP webhook carries.
"""

from __future__ import annotations

import json
import re
from email.message import Message

from delivery.bounces import addresses
from delivery.bounces.formats.common import Result, sender
from delivery.bounces.mime import Sections
from delivery.bounces.reasons import Reason
from delivery.bounces.report import Finding, Kind
from edm.json_input import json_read

NAME = "amazonses"

# SMTP servers wrap lines longer than 998 octets; SNS marks the cut with "!" and a space.
WRAPPED = re.compile(r"!\r?\n ")
# bounceSubType values that say more than the diagnostic does (SES developer guide).
SUBTYPES = {
    "NoEmail": Reason.USER_UNKNOWN,
    "Suppressed": Reason.SUPPRESSED,
    "OnAccountSuppressionList": Reason.SUPPRESSED,
    "MailboxFull": Reason.MAILBOX_FULL,
    "MessageTooLarge": Reason.MESG_TOO_BIG,
    "ContentRejected": Reason.CONTENT_ERROR,
    "AttachmentRejected": Reason.POLICY_VIOLATION,
}


def read(message: Message, parts: Sections) -> Result | None:
    """An SES notification mailed by SNS; None for anything else."""
    if "amazonaws.com" not in sender(message) and '"notificationType"' not in parts.notice:
        return None
    document = json_document(parts.notice)
    return from_notification(document) if document else None


def json_document(text: str) -> dict | None:
    """The first JSON object in a text (an SNS envelope is unwrapped to its Message)."""
    text = WRAPPED.sub("", text)
    start = text.find("{")
    if start < 0:
        return None
    try:
        document, _ = json.JSONDecoder().raw_decode(text[start:])
    except (ValueError, RecursionError):  # anyone can mail us JSON nested beyond the stack
        return None
    if isinstance(document, dict) and isinstance(document.get("Message"), str):
        try:
            document = json_read(document["Message"])
        except ValueError:
            return None
    return document if isinstance(document, dict) else None


def from_notification(document: dict) -> Result | None:
    """Read an SES event: notificationType (or eventType) Bounce, Complaint or Delivery."""
    kind = document.get("notificationType") or document.get("eventType")
    if kind == "Bounce":
        return bounce_event(document.get("bounce") or {})
    if kind == "Complaint":
        complaint = document.get("complaint") or {}
        findings = [
            Finding(
                address=addresses.normalize(r["emailAddress"]),
                action="complained",
                reason=Reason.FEEDBACK,
            )
            for r in complaint.get("complainedRecipients", [])
            if r.get("emailAddress")
        ]
        feedback = complaint.get("complaintFeedbackType") or "abuse"
        return Result(Kind.COMPLAINT, findings, feedback) if findings else None
    if kind == "Delivery":
        delivery = document.get("delivery") or {}
        response = delivery.get("smtpResponse", "")
        findings = [
            Finding(address=addresses.normalize(a), action="delivered", diagnostic=response)
            for a in delivery.get("recipients", [])
        ]
        return Result(Kind.DELIVERED, findings) if findings else None
    return None


def message_id(document: dict) -> str | None:
    """The Message-ID header of the message an SES event is about, when the event has it."""
    mail = document.get("mail") or {}
    for header in mail.get("headers") or []:
        if str(header.get("name", "")).lower() == "message-id":
            return header.get("value")
    return (mail.get("commonHeaders") or {}).get("messageId")


def bounce_event(event: dict) -> Result | None:
    """The bouncedRecipients of an SES bounce event."""
    transient = event.get("bounceType") == "Transient"
    subtype = SUBTYPES.get(event.get("bounceSubType", ""))
    findings = []
    for recipient in event.get("bouncedRecipients", []):
        if not recipient.get("emailAddress"):
            continue
        code = recipient.get("diagnosticCode") or ""
        kind, _, text = code.partition(";") if ";" in code[:12] else ("", "", code)
        findings.append(
            Finding(
                address=addresses.normalize(recipient["emailAddress"]),
                status=recipient.get("status"),
                diagnostic=text.strip(),
                diagnostic_type=kind.strip().lower() or None,
                action="delayed" if transient else recipient.get("action", "failed"),
                remote_mta=(event.get("reportingMTA") or "").partition(";")[2].strip() or None,
                reason=subtype if not code else None,
            )
        )
    return Result(Kind.BOUNCE, findings) if findings else None
