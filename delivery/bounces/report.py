"""What the parser says about one message: typed outcomes shared by every format reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from delivery.bounces.reasons import Reason


class Kind(StrEnum):
    BOUNCE = "bounce"  # a delivery failed or is delayed
    COMPLAINT = "complaint"  # ARF feedback report (RFC 5965) or a provider's equivalent
    AUTOREPLY = "autoreply"  # RFC 3834 auto-reply: vacation notices and the like
    DELIVERED = "delivered"  # a success notice (DSN with Action: delivered, relayed, expanded)
    OTHER = "other"  # an ordinary message


class Command(StrEnum):
    """The SMTP stage a remote server answered at; it decides what "user unknown" means."""

    CONNECT = "CONNECT"
    HELO = "HELO"
    MAIL = "MAIL"
    RCPT = "RCPT"
    DATA = "DATA"


@dataclass
class Finding:
    """What a format reader found out about one recipient, before classification."""

    address: str
    alias: str | None = None
    status: str | None = None  # enhanced status code, "5.1.1"
    reply_code: int | None = None
    diagnostic: str = ""
    diagnostic_type: str | None = None  # the DSN's type of Diagnostic-Code: "smtp", "x-unix"
    action: str | None = None  # failed, delayed, delivered, relayed, expanded
    command: Command | None = None
    remote_mta: str | None = None
    reason: Reason | None = None  # set when the format itself says why


@dataclass(frozen=True)
class Recipient:
    """One recipient the message is about, classified."""

    address: str  # domain lower-cased
    alias: str | None  # another address named for it: Original-Recipient, "generated from"
    status: str | None
    reply_code: int | None
    diagnostic: str
    reason: Reason
    hard: bool  # the address is dead: suppress it now
    temporary: bool  # the failure may go away: a 4xx answer or a delay warning
    action: str  # failed, delayed, delivered, complained, replied
    command: Command | None = None
    remote_mta: str | None = None

    def as_dict(self) -> dict:
        """The JSON shape of `parse_bounce --json` (reply_code as a string, like the corpus)."""
        return {
            "address": self.address,
            "alias": self.alias,
            "status": self.status,
            "reply_code": str(self.reply_code) if self.reply_code else None,
            "reason": str(self.reason),
            "hard": self.hard,
            "temporary": self.temporary,
            "action": self.action,
            "command": str(self.command) if self.command else None,
            "remote_mta": self.remote_mta,
            "diagnostic": self.diagnostic,
        }


@dataclass(frozen=True)
class Report:
    """Everything the parser read from one raw message."""

    kind: Kind
    recipients: tuple[Recipient, ...] = ()
    format: str = ""  # which reader recognised it: "rfc3464", "exim", "arf", ...
    feedback_type: str | None = None  # ARF Feedback-Type: abuse, fraud, opt-out, ...
    # Addresses the report itself was sent to (X-Original-To, Delivered-To, Envelope-To, To):
    # the VERP return path of the delivery when the bounce came back through one.
    envelope_recipients: tuple[str, ...] = ()
    # RFC 3461 ENVID: the Original-Envelope-Id a DSN returns when the sender set ENVID= on MAIL.
    envelope_id: str | None = None
    # The returned original message, when the report includes it or its headers.
    original_message_id: str | None = None
    original_headers: tuple[tuple[str, str], ...] = field(default=())

    def original_header(self, name: str) -> str | None:
        """The first header of the returned original message with that name."""
        wanted = name.lower()
        return next((v for k, v in self.original_headers if k.lower() == wanted), None)

    def as_dict(self) -> dict:
        """The JSON shape of `parse_bounce --json`, without the file name."""
        return {
            "kind": str(self.kind),
            "format": self.format,
            "feedback_type": self.feedback_type,
            "recipients": [r.as_dict() for r in self.recipients],
            "envelope_recipients": list(self.envelope_recipients),
            "envelope_id": self.envelope_id,
            "original_message_id": self.original_message_id,
        }
