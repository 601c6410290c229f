"""Sendmail's "Returned mail" notices read from their text: the list of failed addresses and
the transcript of the SMTP session (V8 without a delivery-status part, and V5's transcript-only
form). Sendmail messages with a proper message/delivery-status part go to rfc3464 instead."""

from __future__ import annotations

import re
from email.message import Message

from delivery.bounces import addresses, commands, mime
from delivery.bounces.formats.common import Result, bounce, sender, subject
from delivery.bounces.mime import Sections
from delivery.bounces.report import Finding

NAME = "sendmail"

TRANSCRIPT = re.compile(r"^\s*-+ ?Transcript of session follows ?-+\s*$", re.I | re.M)
FATAL = re.compile(
    r"^\s*-+ ?The following addresses? (?:had|have) (?:permanent fatal errors|delivery problems|"
    r"transient non-fatal errors) ?-+\s*$",
    re.I | re.M,
)
SECTION = re.compile(r"^\s*-{3,}", re.M)
NON_DELIVERED = re.compile(r"^\s*-+ ?Non-delivered information ?-+\s*$", re.I | re.M)
LISTED = re.compile(r"^\s*<?(?P<address>[^\s<>()]+@[^\s<>()]+?)>?(?:\s+\(.*\))?\s*$")
REASON = re.compile(r"^\s*\(reason: (?P<text>.*)\)\s*$", re.I)
# "550 <user@example.org>... User unknown", "554 5.0.0 <user@example.org>... Service unavailable"
FINAL = re.compile(
    r"^(?P<code>[245]\d\d)(?: [245]\.\d+\.\d+)? "
    r"<?(?P<address>[^\s<>]+@[^\s<>]+?)>?\.\.\.\s*(?P<text>.*)$"
)
TALKING = re.compile(r"^(?:\.\.\. )?while talking to (?P<host>[^:]+):", re.I)
# "421 example.com (smtp)... Deferred: ..." names a host, not a recipient.
HOST_LINE = re.compile(r"^[245]\d\d (?P<host>[\w.-]+) \(\w+\)\.\.\. (?P<text>.*)$")


def read(message: Message, parts: Sections) -> Result | None:
    """Recipients of a Sendmail text notice; None when the message is not one (or has a DSN)."""
    if parts.reports or not any(n in sender(message) for n in ("mailer-daemon", "postmaster")):
        return None
    notice = parts.notice
    transcript = TRANSCRIPT.search(notice)
    fatal = FATAL.search(notice)
    if not transcript and not fatal:
        return None
    findings = listed(notice, fatal) if fatal else []
    if (information := NON_DELIVERED.search(notice)) is not None:
        text = " ".join(" ".join(section(notice, information.end())).split())
        for finding in findings:
            finding.diagnostic = finding.diagnostic or text
    if transcript:
        session = transcript_findings(section(notice, transcript.end()))
        findings = combine(session, findings)
        if not findings:
            findings = by_host(section(notice, transcript.end()), parts.original)
    if subject(message).lower().startswith("warning"):
        for finding in findings:
            finding.action = "delayed"
    return bounce(findings)


def section(text: str, start: int) -> list[str]:
    """The lines from start to the next "-----" section line."""
    end = SECTION.search(text, start)
    return text[start : end.start() if end else len(text)].split("\n")


def listed(notice: str, fatal: re.Match[str]) -> list[Finding]:
    """The "following addresses had permanent fatal errors" list with its "(reason: ...)"."""
    findings: list[Finding] = []
    for line in section(notice, fatal.end()):
        address = LISTED.match(line)
        reason = REASON.match(line)
        if address:
            findings.append(Finding(address=addresses.normalize(address.group("address"))))
        elif reason and findings:
            findings[-1].diagnostic = reason.group("text")
    return findings


def transcript_findings(lines: list[str]) -> list[Finding]:
    """Recipients of the session transcript, each with the reply it got and the command."""
    findings: list[Finding] = []
    replies: list[str] = []
    other: list[str] = []
    command = None
    host = None
    for line in lines:
        stripped = line.strip()
        talking = TALKING.match(stripped)
        if talking:
            host, command, replies, other = talking.group("host").strip(), None, [], []
        elif stripped.startswith(">>>"):
            command, replies = commands.find(stripped), []
        elif stripped.startswith("<<<"):
            replies.append(stripped[3:].strip())
        elif final := FINAL.match(stripped):
            said = " ".join(replies) or " ".join(other)
            diagnostic = f"{said} {final.group('text')}".strip() if said else stripped
            findings.append(
                Finding(
                    address=addresses.normalize(final.group("address")),
                    diagnostic=diagnostic,
                    command=command,
                    remote_mta=host,
                )
            )
            other = []
        elif stripped and not HOST_LINE.match(stripped):
            other.append(stripped)
    return findings


def combine(session: list[Finding], fatal_list: list[Finding]) -> list[Finding]:
    """The transcript's view of each listed address, then listed addresses it did not mention."""
    seen = {f.address.lower() for f in session}
    by_address = {f.address.lower(): f for f in fatal_list}
    for finding in session:
        listed_too = by_address.get(finding.address.lower())
        if listed_too and listed_too.diagnostic and not finding.diagnostic:
            finding.diagnostic = listed_too.diagnostic
    return session + [f for f in fatal_list if f.address.lower() not in seen]


def by_host(lines: list[str], original: Message | None) -> list[Finding]:
    """V5 transcripts name only the destination host: its recipients are in the original's To."""
    if original is None:
        return []
    recipients = addresses.from_header(mime.header(original, "To"))
    findings = []
    for line in lines:
        found = HOST_LINE.match(line.strip())
        if not found:
            continue
        host = found.group("host").lower()
        for address in recipients:
            if address.lower().endswith("@" + host):
                findings.append(Finding(address=address, diagnostic=line.strip()))
    return findings
