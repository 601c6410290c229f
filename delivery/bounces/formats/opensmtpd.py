"""OpenSMTPD's "Delivery status notification" messages."""

from __future__ import annotations

import re
from email.message import Message

from delivery.bounces.formats.common import Result, blocks, bounce, sender
from delivery.bounces.mime import Sections

NAME = "opensmtpd"

INTRO = re.compile(
    r"(?:while attempting to deliver a message\s+for|is delayed for more than .*?\s+for)"
    r"\s+the\s+following\s+list\s+of\s+recipients:\s*\n",
    re.I,
)
ADDRESS_LINE = re.compile(r"^(?P<address>[^\s:<>]+@[^\s:<>]+):\s*(?P<rest>.*)$")


def read(message: Message, parts: Sections) -> Result | None:
    """Recipients of an OpenSMTPD notice, one "address: error" line each."""
    intro = INTRO.search(parts.notice)
    if not intro:
        return None
    if "mailer-daemon" not in sender(message) and "MAILER-DAEMON" not in parts.notice:
        return None
    findings = blocks(parts.notice[intro.end() :].lstrip("\n").split("\n"), ADDRESS_LINE)
    if "delayed" in intro.group(0):
        for finding in findings:
            finding.action = "delayed"
    return bounce(findings)
