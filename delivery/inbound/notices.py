"""Reading a received message into notices: what it says about which message of ours.

A mailed report (bounce-in or the mailbox) is one notice, read by the bounce parser; an SES
notification is one notice; a SendGrid webhook POST holds many events, one notice for each
bounce, drop or spam report. A notice carries what matching needs (where it was sent: our
VERP return path or unsubscribe address; the original Message-ID) and a key identifying the
report, so the same report received twice is recorded once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from email import policy
from email.parser import BytesHeaderParser

from delivery.bounces import (
    Kind,
    Reason,
    Recipient,
    addresses,
    classify_reply,
    parse,
    parse_ses_event,
)
from delivery.webhooks import sns
from edm.json_input import json_read

REPORT_KEY_MAX = 200
REPLY_CODE = re.compile(r"([245]\d\d)\b")


class UnreadableMessageError(Exception):
    """The stored message is not what its source sends (e.g. a webhook body that is not JSON)."""


@dataclass(frozen=True)
class Notice:
    """What a received message says about one message of ours, before it is matched."""

    source: str  # BounceEvent.Source: mail, ses, sendgrid
    kind: Kind
    report: str  # identifies the report (BounceEvent.report)
    recipients: tuple[Recipient, ...] = ()
    addressed_to: tuple[str, ...] = ()  # where it was sent: our return path, unsubscribe address
    message_id: str | None = None  # the Message-ID of our message it is about
    feedback_type: str | None = None


@dataclass(frozen=True)
class Reading:
    notices: tuple[Notice, ...]
    parsed: dict | list  # what was read, as JSON, for the Bounces page
    skipped: int = 0  # events that are not about bounces (SendGrid's opens, clicks…)


def report_key(prefix: str, identifier: str) -> str:
    """`prefix:identifier`, with the identifier hashed when it is too long for the column."""
    key = f"{prefix}:{identifier}"
    if len(key) <= REPORT_KEY_MAX:
        return key
    return f"{prefix}:sha256:{hashlib.sha256(identifier.encode()).hexdigest()}"


def mail_read(raw: bytes, envelope_recipients: Sequence[str] = ()) -> Reading:
    """A report mailed back to us (DSN, ARF, auto-reply, unsubscribe mail…)."""
    report = parse(raw)
    own_id = " ".join(str(_headers(raw).get("Message-ID", "")).split())
    notice = Notice(
        source="mail",
        kind=report.kind,
        # A report mailed twice (bounce-in, then a forwarding to the mailbox) keeps its own
        # Message-ID; one without is known by its bytes.
        report=report_key("mail", own_id or hashlib.sha256(raw).hexdigest()),
        recipients=report.recipients,
        addressed_to=tuple(dict.fromkeys([*envelope_recipients, *report.envelope_recipients])),
        message_id=report.original_message_id,
        feedback_type=report.feedback_type,
    )
    return Reading((notice,), report.as_dict())


def _headers(raw: bytes):
    return BytesHeaderParser(policy=policy.compat32).parsebytes(raw)


def ses_read(raw: bytes) -> Reading:
    """An SNS notification carrying an SES event (its signature was checked on receipt)."""
    try:
        document = json_read(raw)
    except ValueError:
        raise UnreadableMessageError("the SNS notification is not JSON") from None
    event = sns.ses_event(document) if isinstance(document, dict) else {}
    report = parse_ses_event(event)
    # SES sends a Bounce notification once it has stopped trying: a Transient one is a soft
    # bounce of that message, not a delay warning.
    recipients = tuple(
        replace(r, action="failed") if r.action == "delayed" else r for r in report.recipients
    )
    mail = event.get("mail") or {}
    addressed_to = addresses.find_all(str(mail.get("source") or ""))
    for header in mail.get("headers") or []:
        if str(header.get("name", "")).lower() == "return-path":
            addressed_to += addresses.find_all(str(header.get("value") or ""))
    details = event.get("bounce") or event.get("complaint") or {}
    identifier = details.get("feedbackId") or document.get("MessageId") or ""
    notice = Notice(
        source="ses",
        kind=report.kind,
        report=report_key("ses", identifier or hashlib.sha256(raw).hexdigest()),
        recipients=recipients,
        addressed_to=tuple(dict.fromkeys(addressed_to)),
        message_id=report.original_message_id,
        feedback_type=report.feedback_type,
    )
    return Reading((notice,), report.as_dict())


def sendgrid_read(raw: bytes) -> Reading:
    """A SendGrid event webhook POST: a JSON array of events (its signature was checked)."""
    try:
        events = json_read(raw)
    except ValueError:
        raise UnreadableMessageError("the SendGrid webhook body is not JSON") from None
    if not isinstance(events, list):
        raise UnreadableMessageError("the SendGrid webhook body is not a list of events")
    notices = [n for n in map(sendgrid_notice, events) if n is not None]
    parsed = [
        {
            "event": n.report,
            "kind": str(n.kind),
            "message_id": n.message_id,
            "recipients": [r.as_dict() for r in n.recipients],
        }
        for n in notices
    ]
    return Reading(tuple(notices), parsed, skipped=len(events) - len(notices))


def sendgrid_notice(event: object) -> Notice | None:
    """A notice for a bounce, drop or spam report; None for every other event."""
    if not isinstance(event, dict):
        return None
    name = event.get("event")
    address = addresses.normalize(str(event.get("email") or ""))
    identifier = event.get("sg_event_id") or f"{event.get('sg_message_id')}:{name}:{address}"
    common = {
        "source": "sendgrid",
        "report": report_key("sendgrid", str(identifier)),
        "message_id": event.get("smtp-id") or None,
    }
    text = " ".join(str(event.get("reason") or "").split())
    status = str(event.get("status") or "") or None
    if name == "bounce":  # "type": "bounce" or "blocked"; both are refusals by the recipient's MX
        found = REPLY_CODE.match(text)
        code = int(found.group(1)) if found else 550 if (status or "5").startswith("5") else 450
        verdict = classify_reply(code, status, text)
        recipient = Recipient(
            address=address,
            alias=None,
            status=status,
            reply_code=code,
            diagnostic=text,
            reason=verdict.reason,
            hard=verdict.hard,
            temporary=verdict.temporary,
            action="failed",
        )
        return Notice(kind=Kind.BOUNCE, recipients=(recipient,), **common)
    if name == "dropped":
        # SendGrid did not send it: the address is on its suppression list or invalid.
        recipient = Recipient(
            address=address,
            alias=None,
            status=status,
            reply_code=None,
            diagnostic=text,
            reason=Reason.SUPPRESSED,
            hard=False,
            temporary=False,
            action="failed",
        )
        return Notice(kind=Kind.BOUNCE, recipients=(recipient,), **common)
    if name == "spamreport":
        recipient = Recipient(
            address=address,
            alias=None,
            status=None,
            reply_code=None,
            diagnostic="",
            reason=Reason.FEEDBACK,
            hard=False,
            temporary=False,
            action="complained",
        )
        return Notice(kind=Kind.COMPLAINT, recipients=(recipient,), feedback_type="abuse", **common)
    return None
