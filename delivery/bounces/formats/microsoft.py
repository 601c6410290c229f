"""Microsoft Exchange Server 2003 (and older) "Undeliverable" notices in plain text."""

from __future__ import annotations

import re
from email.message import Message

from delivery.bounces.formats.common import Result, blocks, bounce
from delivery.bounces.mime import Sections
from delivery.bounces.reasons import Reason

NAME = "exchange"

INTRO = re.compile(
    r"did not reach the following recipient\(s\):"
    r"|The following recipient\(s\) could not be reached:",
    re.I,
)
ADDRESS_LINE = re.compile(r"^\s*(?P<address>[^\s<>]+@[^\s<>]+) on \S.*$")
# Exchange 2003 status codes (MSEXCH:IMS ... (000C05A6)) in the taxonomy's words.
CODES = {
    "000C05A6": Reason.USER_UNKNOWN,  # the recipient name is not recognized
    "00010256": Reason.USER_UNKNOWN,
    "000C0595": Reason.SECURITY_ERROR,
    "00000000": Reason.ON_HOLD,
}
CODE = re.compile(r"\((0[0-9A-F]{7})\)")


def read(message: Message, parts: Sections) -> Result | None:
    """Recipients of an Exchange 2003 notice; None for anything else."""
    intro = INTRO.search(parts.notice)
    if not intro:
        return None
    findings = blocks(parts.notice[intro.end() :].lstrip("\n").split("\n"), ADDRESS_LINE)
    for finding in findings:
        code = CODE.search(finding.diagnostic)
        if code and code.group(1) in CODES:
            finding.reason = CODES[code.group(1)]
    return bounce(findings)
