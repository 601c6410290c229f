"""What every text-format reader returns, and helpers they share."""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.message import Message
from typing import NamedTuple

from delivery.bounces import addresses, mime
from delivery.bounces.report import Finding, Kind

# "(generated from x)" (Exim), "(expanded from <x>)" (Postfix), "(expanded from: x)" (Sendmail)
ALIAS = re.compile(
    r"\((?:ultimately )?(?:generated|expanded) from:? <?([^\s<>()]+@[^\s<>()]+?)>?\)", re.I
)


class Result(NamedTuple):
    kind: Kind
    findings: list[Finding]
    feedback_type: str | None = None


def bounce(findings: list[Finding]) -> Result | None:
    """A bounce result, or None when the reader found no recipient."""
    return Result(Kind.BOUNCE, findings) if findings else None


def sender(message: Message) -> str:
    """The From header, decoded and lower-cased."""
    return mime.header(message, "From").lower()


def subject(message: Message) -> str:
    """The Subject header, decoded."""
    return mime.header(message, "Subject")


def failed_recipients(message: Message) -> list[str]:
    """X-Failed-Recipients (Exim, Gmail): the addresses that failed, when the server says."""
    return [a for v in mime.headers(message, "X-Failed-Recipients") for a in addresses.find_all(v)]


def after(text: str, pattern: re.Pattern[str]) -> str | None:
    """The text following the first match of a pattern, None when it does not occur."""
    found = pattern.search(text)
    return text[found.end() :] if found else None


def blocks(lines: Iterable[str], address_line: re.Pattern[str]) -> list[Finding]:
    """Read "address line, then its diagnostic lines" blocks, each ending at a blank line
    (blank lines between an address and its first diagnostic line, or after a "Reason:"
    label, are skipped).

    address_line has a group "address" and may have "rest" (diagnostic on the same line).
    """
    findings: list[Finding] = []
    current: Finding | None = None
    text: list[str] = []

    def flush() -> None:
        if current is not None:
            diagnostic = " ".join(t for t in text if t)
            alias = ALIAS.search(diagnostic)
            if alias and alias.group(1).lower() != current.address.lower():
                current.alias = addresses.normalize(alias.group(1))
                diagnostic = (diagnostic[: alias.start()] + diagnostic[alias.end() :]).strip()
            current.diagnostic = diagnostic
            findings.append(current)

    for line in lines:
        found = address_line.match(line)
        if found:
            flush()
            current = Finding(address=addresses.normalize(found.group("address")))
            rest = found.groupdict().get("rest") or ""
            text = [rest.strip()]
        elif current is not None:
            if line.strip():
                text.append(line.strip())
            elif any(text) and not text[-1].endswith(":"):
                flush()
                current = None
    flush()
    return findings
