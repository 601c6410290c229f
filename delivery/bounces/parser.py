"""parse(raw) -> Report: which kind of message this is and what it says about each recipient.

Order matters: complaint reports first (they are multipart/report too); the few MTA formats
whose text says more than their RFC 3464 part; the RFC 3464 report; challenge-response
messages (they read like bounces but only hold the message); the text formats of other MTAs
and providers; RFC 3834 auto-replies (bounces say "auto-replied" too, so they come after
every bounce reader); then a bounce forwarded inside another message; and last, for a failure
report that names nobody, the recipients of the returned message.
"""

from __future__ import annotations

import re
from dataclasses import replace
from email.message import Message

from delivery.bounces import (
    addresses,
    arf,
    autoreply,
    challenge,
    commands,
    formats,
    mime,
    rfc3464,
    status,
)
from delivery.bounces.classify import classify
from delivery.bounces.formats import amazon, fallback
from delivery.bounces.formats.common import failed_recipients
from delivery.bounces.mime import Sections
from delivery.bounces.reasons import Reason
from delivery.bounces.report import Finding, Kind, Recipient, Report

# Headers naming where the report itself was delivered, most specific first: the VERP address.
ENVELOPE_HEADERS = ("X-Original-To", "Delivered-To", "Envelope-To", "X-Envelope-To", "To")
PARAGRAPH_END = re.compile(r"\n[ \t]*\n")
# The server that answered: "host mx.example.jp [192.0.2.1]" (Exim), "mx.example.jp[192.0.2.1]
# said:" (Postfix), "while talking to mx.example.jp." (Sendmail)
REMOTE_HOST = re.compile(
    r"\bhost (?P<host>[\w-]+(?:\.[\w-]+)+)\.? ?\["
    r"|(?P<host2>[\w-]+(?:\.[\w-]+)+)\[[\d.:a-fA-F]+\](?::\d+)? said"
)


def parse(raw: bytes) -> Report:
    """Read one raw message (bytes, as received) and say what it is."""
    return parse_message(mime.load(raw))


def parse_ses_event(document: dict) -> Report:
    """Read an Amazon SES event (the JSON an SNS notification or webhook carries)."""
    result = amazon.from_notification(document)
    if result is None:
        return Report(kind=Kind.OTHER, format=amazon.NAME)
    return Report(
        kind=result.kind,
        recipients=tuple(finish(f, Sections()) for f in merge(result.findings)),
        format=amazon.NAME,
        feedback_type=result.feedback_type,
        original_message_id=amazon.message_id(document),
    )


def parse_message(message: Message, *, forwarded: bool = False) -> Report:
    """parse() of an already loaded message."""
    parts = mime.sections(message)
    kind, fmt, findings, feedback_type = read(message, parts)
    if kind is Kind.OTHER and not forwarded and looks_like_bounce(parts.original):
        # A bounce forwarded by a person or a mailbox rule: read the bounce inside.
        inner = parse_message(reload(parts.original), forwarded=True)
        if inner.kind is not Kind.OTHER:
            return replace(inner, envelope_recipients=envelope_recipients(message))
    if kind is Kind.OTHER and (result := fallback.read(message, parts)):
        kind, fmt, findings = result.kind, fallback.NAME, result.findings
    findings = [f for f in (repair(f, message, parts) for f in findings) if f is not None]
    recipients = tuple(finish(f, parts) for f in merge(findings))
    if kind is Kind.BOUNCE:
        failed = tuple(r for r in recipients if r.reason is not Reason.DELIVERED)
        kind = Kind.BOUNCE if failed else Kind.DELIVERED
        recipients = failed or recipients
    return Report(
        kind=kind,
        recipients=recipients,
        format=fmt,
        feedback_type=feedback_type,
        envelope_recipients=envelope_recipients(message),
        envelope_id=next(filter(None, map(rfc3464.envelope_id, parts.reports)), None),
        original_message_id=original_message_id(parts.original),
        original_headers=original_headers(parts.original),
    )


def read(message: Message, parts: Sections) -> tuple[Kind, str, list[Finding], str | None]:
    """(kind, format name, findings, feedback type) from the first reader that knows the message."""
    complaint = arf.read(message, parts)
    if complaint is not None:
        feedback_type, found = complaint
        return Kind.COMPLAINT, "arf", found, feedback_type
    for reader in formats.BEFORE_REPORT:
        result = reader.read(message, parts)
        if result:
            return result.kind, reader.NAME, result.findings, result.feedback_type
    for report in parts.reports:
        found = rfc3464.findings(report)
        if found:
            return Kind.BOUNCE, "rfc3464", found, None
    if challenge.detect(message, parts):
        return Kind.AUTOREPLY, "challenge", autoreply.replier(message), None
    for reader in formats.AFTER_REPORT:
        result = reader.read(message, parts)
        if result:
            return result.kind, reader.NAME, result.findings, result.feedback_type
    inline = "\n".join([parts.notice, *parts.attachments])
    if rfc3464.has_inline_report(inline):
        found = rfc3464.findings(inline)
        if found:
            return Kind.BOUNCE, "rfc3464", found, None
    if autoreply.detect(message):
        return Kind.AUTOREPLY, "rfc3834", autoreply.replier(message), None
    return Kind.OTHER, "", [], None


def looks_like_bounce(message: Message | None) -> bool:
    """Whether a returned message is itself a bounce (so the outer one merely forwards it)."""
    return message is not None and fallback.is_failure_report(message)


def reload(message: Message) -> Message:
    """Parse again a message whose body was kept as text (MIME structure not yet read)."""
    try:
        raw = message.as_bytes()
    except (UnicodeEncodeError, LookupError):
        raw = message.as_string().encode("utf-8", "replace")
    return mime.load(raw)


def repair(finding: Finding, message: Message, parts: Sections) -> Finding | None:
    """Fix a recipient the report mangled (a source route "@relay:user@host", a local part
    without its domain, an empty local part) from the alias, X-Failed-Recipients, the notice's
    one address with that local part, or the returned message's To when that is the same
    mailbox; None when nothing names it reliably."""
    if is_plain_address(finding.address):
        return finding
    if finding.alias and is_plain_address(finding.alias):
        finding.address, finding.alias = finding.alias, finding.address
        return finding
    local = mangled_local_part(finding.address)
    to = addresses.from_header(mime.header(parts.original, "To")) if parts.original else []
    for candidates in (
        failed_recipients(message),
        [a for a in addresses.find_all(parts.notice) if local and same_mailbox(a, local)],
        # The returned message's To is a list's address as often as the recipient's.
        [a for a in to if same_mailbox(a, local)],
    ):
        if len(candidates) == 1:
            finding.alias = finding.alias or finding.address or None
            finding.address = candidates[0]
            return finding
    return None


def mangled_local_part(address: str) -> str:
    """The local part left in a mangled address ("@relay:user@host" -> "user", "user" ->
    "user", "@example.org" -> "")."""
    return address.rpartition(":")[2].partition("@")[0].strip("<> ").lower()


def same_mailbox(address: str, local: str) -> bool:
    """Whether a full address has that local part (any address when none is left)."""
    return not local or address.rpartition("@")[0].lower() == local


def is_plain_address(address: str | None) -> bool:
    """local@domain, with no source route and a non-empty local part."""
    if not address or address.startswith("@") or ":" in address.split("@")[0]:
        return False
    local, at, domain = address.rpartition("@")
    return bool(at and local and "." in domain)


def merge(findings: list[Finding]) -> list[Finding]:
    """One finding per address: servers list a recipient twice (text and report, or languages)."""
    by_address: dict[str, Finding] = {}
    for finding in findings:
        key = finding.address.lower()
        kept = by_address.get(key)
        if kept is None:
            by_address[key] = finding
            continue
        for name in ("alias", "status", "reply_code", "diagnostic", "command", "remote_mta"):
            if not getattr(kept, name) and getattr(finding, name):
                setattr(kept, name, getattr(finding, name))
    return list(by_address.values())


def finish(finding: Finding, parts: Sections) -> Recipient:
    """Fill what the report left implicit from the notice text, then classify."""
    if finding.reason is None:
        context = paragraph(parts.notice, finding.address)
        if not finding.diagnostic and context:
            finding.diagnostic = context
        if finding.command is None:
            finding.command = commands.find(finding.diagnostic) or commands.find(context)
        specific = status.find_enhanced(finding.diagnostic)
        if specific and (status.is_vague(finding.status) or finding.status is None):
            finding.status = specific
        if finding.reply_code is None:
            finding.reply_code = status.find_reply_code(finding.diagnostic)
        if finding.remote_mta is None and (host := REMOTE_HOST.search(finding.diagnostic)):
            finding.remote_mta = (host.group("host") or host.group("host2")).lower()
    verdict = classify(finding)
    return Recipient(
        address=addresses.normalize(finding.address),
        alias=finding.alias,
        status=finding.status,
        reply_code=finding.reply_code,
        diagnostic=" ".join(finding.diagnostic.split()),
        reason=verdict.reason,
        hard=verdict.hard,
        temporary=verdict.temporary,
        action=finding.action or ("delayed" if verdict.temporary else "failed"),
        command=finding.command,
        remote_mta=finding.remote_mta,
    )


def paragraph(text: str, address: str) -> str:
    """What the notice says about one recipient: each line naming it, with the lines that follow
    up to a blank line or another recipient; "" when that is nothing but the address."""
    if not text or not address:
        return ""
    lower, wanted = text.lower(), address.lower()
    pieces: list[str] = []
    at = lower.find(wanted)
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        if text[start:at].lstrip().startswith("<<<"):
            start = text.rfind("\n", 0, max(start - 1, 0)) + 1  # the command it answers
        end = PARAGRAPH_END.search(text, at)
        piece = text[start : end.start() if end else at + 2000]
        other = OTHER_ADDRESS_LINE.search(piece, at - start + len(wanted))
        pieces.append(piece[: other.start()] if other else piece)
        at = lower.find(wanted, at + len(wanted))
    said = " ".join(dict.fromkeys(" ".join(p.split()) for p in pieces))
    leftover = said.lower().replace(wanted, "")
    return said if sum(c.isalpha() for c in leftover) > 3 else ""


# A line that starts with an address: the next recipient of a list.
OTHER_ADDRESS_LINE = re.compile(r"\n\s*<?[^\s<>@]+@[^\s<>]+>?(?::|\s*$)", re.MULTILINE)


def envelope_recipients(message: Message) -> tuple[str, ...]:
    """Where the report was delivered to (X-Original-To, Delivered-To, ..., To), without repeats."""
    found: dict[str, None] = {}
    for name in ENVELOPE_HEADERS:
        for value in mime.headers(message, name):
            for address in addresses.from_header(value):
                found.setdefault(address, None)
    return tuple(found)


def original_headers(original: Message | None) -> tuple[tuple[str, str], ...]:
    """The returned message's headers in order, values decoded."""
    if original is None:
        return ()
    return tuple((name, mime.decode_words(str(value))) for name, value in original.items())


def original_message_id(original: Message | None) -> str | None:
    """The Message-ID of the returned message, as its header wrote it."""
    if original is None:
        return None
    value = " ".join(str(original.get("Message-ID", "")).split())
    return value or None
