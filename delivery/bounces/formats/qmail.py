"""qmail's "failure notice" and the servers built on it or copying it (Yahoo, Vpopmail and
other "<address>:" block formats)."""

from __future__ import annotations

import re
from email.message import Message

from delivery.bounces.formats.common import Result, blocks, bounce, sender
from delivery.bounces.mime import Sections

NAME = "qmail"

INTRO = re.compile(
    r"This is the qmail-send program"
    r"|I'm afraid I wasn't able to deliver your message"
    r"|Sorry, we were unable to deliver your message to the following address"
    r"|Unable to deliver message to the following address"
    r"|Your mail message to the following address\(es\) could not be delivered"
    r"|could not be delivered to the following address",
    re.I,
)
QSBMF = re.compile(r"\s*Hi\. This is the ")
PARAGRAPH_END = re.compile(r"\n[ \t]*\n")
ADDRESS_LINE = re.compile(r"^<(?P<address>[^<>\s]+@[^<>\s]+)>:?\s*(?P<rest>.*)$")


def read(message: Message, parts: Sections) -> Result | None:
    """Recipients of a qmail-style notice; None when the message is not one."""
    notice = parts.notice
    if QSBMF.match(notice):
        # QSBMF section 2: the body begins "Hi. This is the", whichever program wrote it; the
        # recipient paragraphs follow the introductory one.
        start = PARAGRAPH_END.search(notice)
        return bounce(blocks(notice[start.end() if start else 0 :].split("\n"), ADDRESS_LINE))
    intro = INTRO.search(notice)
    if not intro:
        return None
    if "mailer-daemon" not in sender(message) and "qmail" not in notice[: intro.end()]:
        return None
    return bounce(blocks(notice[intro.end() :].split("\n"), ADDRESS_LINE))
