"""The last resort for reports that name no recipient in any field a reader knows (an empty
delivery-status part, a notice with an empty address list): X-Failed-Recipients, an address
the notice's text names, and only when the notice names nobody, the returned message's To."""

from __future__ import annotations

import re
from email.message import Message

from delivery.bounces import addresses, mime
from delivery.bounces.formats import plaintext
from delivery.bounces.formats.common import Result, bounce, failed_recipients, sender, subject
from delivery.bounces.mime import Sections
from delivery.bounces.report import Finding

NAME = "fallback"

DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery", re.I)
FAILURE_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery (?:status|fail|notification)|failure notice"
    r"|mail delivery failed|non-?delivery|could not be delivered",
    re.I,
)


def read(message: Message, parts: Sections) -> Result | None:
    """The returned message's recipients, when this is surely a failure report naming none."""
    if not is_failure_report(message) or plaintext.SUCCESS.search(subject(message)):
        return None
    named = [Finding(address=a) for a in failed_recipients(message)]
    if not named:
        named = plaintext.named(parts.notice, plaintext.own_addresses(message, parts.original))
    if not named and parts.original is not None:
        # A list's or an alias's address, often, but the one guess left.
        to = addresses.from_header(mime.header(parts.original, "To"))
        named = [Finding(address=a) for a in to]
    return bounce([f for f in named if not addresses.is_daemon(f.address)])


def is_failure_report(message: Message) -> bool:
    """A delivery-status report, or a mailer daemon's message with a failure subject."""
    if message.get_param("report-type", header="content-type") == "delivery-status":
        return True
    return bool(DAEMON.search(sender(message)) and FAILURE_SUBJECT.search(subject(message)))
