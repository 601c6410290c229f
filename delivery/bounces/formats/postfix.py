"""Postfix notices without a delivery-status part: "<address>: host said: ..." paragraphs, and
the "Postfix SMTP server: errors from" transcripts sent to the postmaster."""

from __future__ import annotations

import re
from email.message import Message

from delivery.bounces import addresses, commands, status
from delivery.bounces.formats.common import Result, blocks, bounce, sender, subject
from delivery.bounces.mime import Sections
from delivery.bounces.report import Finding

NAME = "postfix"

INTRO = re.compile(
    r"This is the (?:Postfix program|mail system) at host"
    r"|could not be delivered to one or more (?:recipients|destinations)",
    re.I,
)
ADDRESS_LINE = re.compile(
    r"^<(?P<address>[^<>\s]+@[^<>\s]+)>(?:\s*\((?:expanded|generated) from\s*$)?:?\s*(?P<rest>.*)$"
)
# bounce_template.c's delay template: "Delayed Mail (still being retried)", "THIS IS A WARNING
# ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE."
WARNING = re.compile(r"THIS IS A WARNING ONLY|^Delayed Mail", re.I | re.M)
SMTPD_ERRORS = re.compile(r"^Postfix SMTP server: errors from", re.I)
TRANSCRIPT_LINE = re.compile(r"^\s*(?P<who>In|Out):\s+(?P<text>.*)$")


def read(message: Message, parts: Sections) -> Result | None:
    """Recipients of a plain-text Postfix notice; None when it is not one or has a DSN."""
    if parts.reports or "mailer-daemon" not in sender(message):
        return None
    if SMTPD_ERRORS.match(subject(message)):
        return smtpd_transcript(parts.notice)
    intro = INTRO.search(parts.notice)
    if not intro:
        return None
    findings = blocks(parts.notice[intro.end() :].split("\n"), ADDRESS_LINE)
    if WARNING.search(parts.notice) or WARNING.search(subject(message)):
        for finding in findings:
            finding.action = "delayed"
    return bounce(findings)


def smtpd_transcript(notice: str) -> Result | None:
    """The recipient whose transaction failed in an smtpd "errors from" transcript."""
    recipient = None
    command = None
    for line in notice.split("\n"):
        found = TRANSCRIPT_LINE.match(line)
        if not found:
            continue
        text = found.group("text")
        if found.group("who") == "In":
            command = commands.named(text.split()[0]) if text.split() else None
            if text.upper().startswith("RCPT TO:"):
                recipient = addresses.find_first(text)
        elif recipient and text[:1] in "45" and status.find_reply_code(text):
            return bounce([Finding(address=recipient, diagnostic=text, command=command)])
    return None
