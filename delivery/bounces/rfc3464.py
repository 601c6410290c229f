"""RFC 3464 delivery status notifications: the fields of a message/delivery-status body.

Also reads the same fields when a server puts them in plain text (Amazon WorkMail, some
Sendmail and Postfix setups) or forgets the blank lines between recipients.
"""

from __future__ import annotations

import re

from delivery.bounces import addresses, status
from delivery.bounces.report import Finding

FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")
# Fields that name the recipient a block is about; each starts a new recipient when repeated.
NAMING = ("final-recipient", "original-recipient", "x-actual-recipient")
PER_RECIPIENT = {
    *NAMING,
    "action",
    "status",
    "remote-mta",
    "diagnostic-code",
    "last-attempt-date",
    "will-retry-until",
    "final-log-id",
    "x-display-name",
}
# Enough of these in a text means it carries a delivery report, even without the MIME part.
INLINE = re.compile(
    r"^(?:Final-Recipient|Original-Recipient)[ \t]*:.*@", re.IGNORECASE | re.MULTILINE
)


def fields(text: str) -> list[tuple[int, str, str]]:
    """(block number, lower-case name, unfolded value) of every field, in order.

    A line that is not a field and follows Diagnostic-Code continues it: some servers paste a
    multi-line SMTP reply there without folding it.
    """
    out: list[tuple[int, str, str]] = []
    block = 0
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            block += 1
            continue
        found = None if line[0] in " \t" else FIELD.match(line)
        if found:
            out.append((block, found.group(1).lower(), found.group(2).strip()))
        elif out and out[-1][0] == block and (line[0] in " \t" or out[-1][1] == "diagnostic-code"):
            number, name, value = out[-1]
            out[-1] = (number, name, f"{value} {line.strip()}")
    return out


def records(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Split the fields into the per-message fields and one dict per recipient.

    Recipient fields written before Final-Recipient in the same block belong to it.
    """
    message: dict[str, str] = {}
    recipients: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    current_block = -1
    pending: dict[str, str] = {}
    pending_block = -1
    for block, name, value in fields(text):
        if name in NAMING:
            if current is None or name in current or block != current_block:
                current = pending if pending_block == block else {}
                current_block = block
                recipients.append(current)
            current[name] = value
        elif name not in PER_RECIPIENT:
            message.setdefault(name, value)
        elif current is not None and block == current_block:
            current.setdefault(name, value)
        else:
            if pending_block != block:
                pending, pending_block = {}, block
            pending.setdefault(name, value)
    return message, recipients


def findings(text: str) -> list[Finding]:
    """The recipients of a delivery-status body."""
    message, recipients = records(text)
    out = []
    for fields_ in recipients:
        final = recipient_address(fields_.get("final-recipient", ""))
        original = recipient_address(fields_.get("original-recipient", ""))
        actual = recipient_address(fields_.get("x-actual-recipient", ""))
        address = final or original or actual
        if not address:
            continue
        alias = next((a for a in (original, actual) if a and a.lower() != address.lower()), None)
        diagnostic_type, diagnostic = split_typed(fields_.get("diagnostic-code", ""))
        code = status.normalize(fields_.get("status"))
        out.append(
            Finding(
                address=address,
                alias=alias,
                status=code,
                diagnostic=diagnostic,
                diagnostic_type=diagnostic_type,
                action=first_word(fields_.get("action", "")),
                remote_mta=split_typed(fields_.get("remote-mta", ""))[1]
                or split_typed(message.get("reporting-mta", ""))[1]
                or None,
            )
        )
    return out


def first_word(value: str) -> str | None:
    """ "failed (bad destination)" -> "failed"."""
    words = value.split()
    return words[0].lower() if words else None


def envelope_id(text: str) -> str | None:
    """The Original-Envelope-Id of a delivery-status body (RFC 3464 section 2.2.1)."""
    message, _ = records(text)
    value = message.get("original-envelope-id", "").strip()
    return value or None


def recipient_address(value: str) -> str | None:
    """The address of a Final-Recipient/Original-Recipient value ("rfc822; a@b")."""
    kind, address = split_typed(value)
    address = address.strip().strip("<>").strip()
    if not address or (kind and kind.lower() not in ("rfc822", "utf-8", "x-local")):
        found = addresses.find_first(value)
        return found
    if "@" not in address and not address.startswith("|"):
        return None
    return addresses.normalize(address)


def split_typed(value: str) -> tuple[str | None, str]:
    """ "smtp; 550 ..." -> ("smtp", "550 ..."); a value without a type -> (None, value)."""
    kind, semicolon, rest = value.partition(";")
    if semicolon and kind.strip() and " " not in kind.strip():
        return kind.strip().lower(), rest.strip()
    return None, value.strip()


def has_inline_report(text: str) -> bool:
    """Whether a plain text carries delivery-status fields."""
    return bool(INLINE.search(text))
