"""Gmail's older plain-text bounces and Google Groups' "cannot post" replies."""

from __future__ import annotations

import re
from email.message import Message

from delivery.bounces import addresses
from delivery.bounces.formats.common import Result, bounce, failed_recipients, sender
from delivery.bounces.mime import Sections
from delivery.bounces.reasons import Reason
from delivery.bounces.report import Finding

NAME = "google"

LISTED = re.compile(
    r"Delivery to the following recipients? (?P<how>failed permanently|has been delayed"
    r"|failed temporarily):?\s*\n(?P<list>(?:\s*\n|[ \t]+\S+@\S+\s*\n)+)",
    re.I,
)
DETAILS = re.compile(r"Technical details of (?:permanent|temporary) failure:\s*", re.I)
RETURNED = re.compile(r"The error that the other server returned was:\s*", re.I)
GROUPS = re.compile(r"groups\.google\.com|Google Groups", re.I)


def read(message: Message, parts: Sections) -> Result | None:
    """Recipients of a Gmail or Google Groups bounce; None for anything else."""
    if "mailer-daemon@google" not in sender(message):
        return None
    listed = LISTED.search(parts.notice)
    if listed:
        return gmail(parts.notice, listed)
    if GROUPS.search(parts.notice):
        # The group does not exist or refuses posts from us: a rejection of our sender.
        return bounce(
            [Finding(address=a, reason=Reason.REJECTED) for a in failed_recipients(message)]
        )
    return None


def gmail(notice: str, listed: re.Match[str]) -> Result | None:
    """Gmail's "Delivery to the following recipient failed permanently" notice."""
    details = DETAILS.search(notice, listed.end())
    text = notice[details.end() :] if details else ""
    returned = RETURNED.search(text)
    # The remote server's own reply is the diagnostic; Google's explanation is context.
    diagnostic = " ".join((text[returned.end() :] if returned else text).split())
    delayed = "delayed" in listed.group("how") or "temporarily" in listed.group("how")
    return bounce(
        [
            Finding(
                address=address,
                diagnostic=diagnostic,
                action="delayed" if delayed else "failed",
            )
            for address in addresses.find_all(listed.group("list"))
        ]
    )
