"""The DragonFly Mail Agent (dma), DragonFly BSD's and some Linux systems' local MTA."""

from __future__ import annotations

import re
from email.message import Message

from delivery.bounces import addresses
from delivery.bounces.formats.common import Result, bounce
from delivery.bounces.mime import Sections
from delivery.bounces.report import Finding

NAME = "dragonfly"

INTRO = re.compile(r"This is the DragonFly Mail Agent", re.I)
FAILED = re.compile(r"There was an error delivering your mail to <([^>]+)>\.?\s*\n", re.I)


def read(message: Message, parts: Sections) -> Result | None:
    """The one recipient of a dma bounce (it sends one bounce per recipient)."""
    if not INTRO.search(parts.notice):
        return None
    found = FAILED.search(parts.notice)
    if not found:
        return None
    diagnostic = " ".join(parts.notice[found.end() :].split())
    return bounce([Finding(address=addresses.normalize(found.group(1)), diagnostic=diagnostic)])
