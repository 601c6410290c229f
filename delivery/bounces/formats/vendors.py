"""The fixed wordings of less common mail systems, one Layout each.

A layout says how to recognise a vendor's notice, where its recipients are written and where
the reason text is; `reasons` maps the vendor's own sentences to a reason when the notice
carries no SMTP reply to classify.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from delivery.bounces import addresses, mime, status
from delivery.bounces.formats.common import Result, bounce, sender, subject
from delivery.bounces.mime import Sections
from delivery.bounces.reasons import Reason
from delivery.bounces.report import Finding

NAME = "vendor"
LINES = re.MULTILINE
SPAN = re.MULTILINE | re.DOTALL
NOCASE = re.IGNORECASE


@dataclass(frozen=True)
class Layout:
    name: str
    recognise: re.Pattern[str]  # searched in the notice
    recipient: re.Pattern[str] | None  # group "address", optional group "rest"; None: original's To
    sender: re.Pattern[str] | None = None  # searched in the From header
    start: re.Pattern[str] | None = None  # recipients are listed after this
    end: re.Pattern[str] | None = None  # ... and before this
    diagnostic: re.Pattern[str] | None = None  # group "text": the reason, shared by recipients
    follow: bool = False  # the lines after a recipient, up to a blank line, are its diagnostic
    reasons: tuple[tuple[re.Pattern[str], Reason], ...] = ()
    delayed: re.Pattern[str] | None = None  # a Subject saying this is only a delay warning


LAYOUTS = [
    Layout(
        "zoho",
        sender=re.compile(r"mailer-daemon@mail\.zoho\.", NOCASE),
        recognise=re.compile(r"ERROR_CODE :|\[Status: \w+, Address: <"),
        recipient=re.compile(
            r"^(?P<address>[^\s@]+@\S+)\s+(?P<rest>.*ERROR_CODE.*)$"
            r"|\[Status: \w+, Address: <(?P<address2>[^>]+)>, (?P<rest2>ResponseCode[^\]]*)\]",
            LINES,
        ),
        reasons=((re.compile(r"host not reachable", NOCASE), Reason.EXPIRED),),
        delayed=re.compile(r"\(Delay\)", NOCASE),
    ),
    Layout(
        "imailserver",
        sender=re.compile(r"postmaster", NOCASE),
        recognise=re.compile(
            r"^(?:Unknown user|User mailbox exceeds allowed size|Invalid final delivery userid"
            r"|Delivery failed \d+ attempts|undeliverable to)\b",
            LINES | NOCASE,
        ),
        recipient=re.compile(
            r"^(?P<rest>[^:\n]{3,60}):\s*(?P<address>[^\s@]+@\S+)\s*$"
            r"|^undeliverable to (?P<address2>\S+@\S+)",
            LINES | NOCASE,
        ),
        follow=True,
        diagnostic=re.compile(r"generated response:\s*\n(?P<text>.*?)(?:\n\s*\n|\Z)", SPAN),
        reasons=(
            (
                re.compile(r"unknown user|invalid final delivery userid", NOCASE),
                Reason.USER_UNKNOWN,
            ),
            (re.compile(r"mailbox exceeds allowed size", NOCASE), Reason.MAILBOX_FULL),
            (re.compile(r"delivery failed \d+ attempts", NOCASE), Reason.EXPIRED),
        ),
    ),
    Layout(
        "m-filter",
        recognise=re.compile(r"m-FILTER"),
        start=re.compile(r"^-*server message|\n\n", LINES),
        recipient=re.compile(r"^(?P<address>[^\s@]+@[^\s@]+)\s*$", LINES),
        end=re.compile(r"^-+server message", LINES),
        diagnostic=re.compile(r"^-+server message\s*\n(?P<text>.*?)(?:^-+original|\Z)", SPAN),
    ),
    Layout(
        "lotus-notes",
        recognise=re.compile(r"^-+ Failure Reasons +-+", LINES),
        start=re.compile(r"^-+ Failure Reasons +-+", LINES),
        recipient=re.compile(r"^(?P<address>[^\s@]+@[^\s@]+)\s*$", LINES),
        diagnostic=re.compile(r"^-+ Failure Reasons +-+\s*\n(?P<text>[^\n]*)", LINES),
    ),
    Layout(
        "domino",
        sender=re.compile(r"postmaster", NOCASE),
        recognise=re.compile(r"^was not delivered to:", LINES),
        start=re.compile(r"^was not delivered to:", LINES),
        end=re.compile(r"^because:", LINES),
        recipient=re.compile(r"^\s+(?P<address>[^\s@]+@[^\s@]+)\s*$", LINES),
        diagnostic=re.compile(r"^because:\s*\n\s*(?P<text>[^\n]+)", LINES),
    ),
    Layout(
        "kddi",
        recognise=re.compile(r"Could not be delivered to: <"),
        recipient=re.compile(r"Could not be delivered to: <(?P<address>[^>]+)>"),
        follow=True,
    ),
    Layout(
        "ezweb",
        sender=re.compile(r"@ezweb\.ne\.jp", NOCASE),
        recognise=re.compile(r"^\s*(?:Recipient: )?<[^>\s]+@[^>\s]+>\s*$", LINES),
        recipient=re.compile(r"^\s*(?:Recipient: )?<(?P<address>[^>\s]+@[^>\s]+)>\s*$", LINES),
        follow=True,
        reasons=(
            (re.compile(r"account is disabled", NOCASE), Reason.SUSPEND),
            (
                re.compile(r"not delivered within|did not receive this message", NOCASE),
                Reason.EXPIRED,
            ),
            (re.compile(r"rejected by a remote\s+mail server", NOCASE), Reason.FILTERED),
        ),
    ),
    Layout(
        "interscan",
        recognise=re.compile(r"InterScan|^Sent <<< RCPT TO:", LINES),
        recipient=re.compile(
            r"^Sent <<< (?P<rest>RCPT TO):<(?P<address>[^>]+)>"
            r"|Unable to deliver message to <(?P<address2>[^>]+)>",
            LINES,
        ),
        follow=True,
        reasons=((re.compile(r"Unable to deliver message to <"), Reason.USER_UNKNOWN),),
    ),
    Layout(
        "verizon-mms",
        recognise=re.compile(r"Message could not be delivered to mobile"),
        recipient=None,
        diagnostic=re.compile(r"^Error: (?P<text>[^\n]+)", LINES),
        reasons=((re.compile(r"No valid recipients for this MM"), Reason.USER_UNKNOWN),),
    ),
    Layout(
        "verizon-vtext",
        sender=re.compile(r"@vtext\.com", NOCASE),
        recognise=re.compile(r"Error message below:"),
        recipient=re.compile(r"^\s*RCPT TO: (?P<address>\S+@\S+)", LINES),
        diagnostic=re.compile(r"(?P<text>Error: .*?)\n\s*Message details", SPAN),
        reasons=((re.compile(r"Invalid user address"), Reason.USER_UNKNOWN),),
    ),
    Layout(
        "mailfoundry",
        recognise=re.compile(r"Delivery failed for the following reason:"),
        recipient=re.compile(r"^Unable to deliver message to: <(?P<address>[^>]+)>", LINES),
        diagnostic=re.compile(r"following reason:\s*\n(?P<text>.*?)(?:\n\s*\n|\Z)", SPAN),
    ),
    Layout(
        "fml",
        sender=re.compile(r"-admin@", NOCASE),
        recognise=re.compile(r"not a member of this mailing list|Duplicated Message-ID in"),
        recipient=re.compile(
            r"^(?P<rest>.*(?:not a member of this mailing list|Duplicated Message-ID in)"
            r" <(?P<address>[^>]+)>.*)$",
            LINES,
        ),
    ),
    Layout(
        "mailmarshal",
        recognise=re.compile(r"The following recipients were affected:"),
        start=re.compile(r"The following recipients were affected:"),
        end=re.compile(r"^Additional Information", LINES),
        recipient=re.compile(r"^\s+(?P<address>[^\s@]+@[^\s@]+)\s*$", LINES),
        diagnostic=re.compile(r"Could not be delivered because of\s*\n(?P<text>.*?)\n\s*\n", SPAN),
    ),
    Layout(
        "x1",
        recognise=re.compile(r"^-+The following addresses had delivery errors-+", LINES),
        recipient=re.compile(r"^(?P<address>[^\s@]+@\S+) \[(?P<rest>[^\]]*)\]", LINES),
    ),
    Layout(
        "x3",
        recognise=re.compile(r"^\s*De(?:li|le)very to the following recipients", LINES),
        start=re.compile(r"^\s*De(?:li|le)very to the following recipients", LINES),
        end=re.compile(r"^=+", LINES),
        recipient=re.compile(r"^\s*\* (?P<address>[^\s@]+@\S+)\s*$", LINES),
        diagnostic=re.compile(r"Technical details:\s*\n(?P<text>.*?)(?:\n\s*=+|\Z)", SPAN),
        reasons=((re.compile(r"recipients was aborted after", NOCASE), Reason.EXPIRED),),
    ),
    Layout(
        "x6",
        recognise=re.compile(r"We had trouble delivering your message"),
        recipient=re.compile(
            r"recipients returned permanent errors: (?P<address>[^\s@]+@\S+?)\.\s+(?P<rest>.*)$"
            r"|rejected recipient <(?P<address2>[^>]+)> (?P<rest2>.*)$",
            LINES,
        ),
    ),
]


def read(message: Message, parts: Sections) -> Result | None:
    """Recipients of the first layout that recognises the notice; None when none does."""
    for layout in LAYOUTS:
        if layout.sender and not layout.sender.search(sender(message)):
            continue
        if not layout.recognise.search(parts.notice):
            continue
        findings = read_layout(layout, parts)
        if findings:
            if layout.delayed and layout.delayed.search(subject(message)):
                for finding in findings:
                    finding.action = "delayed"
            return bounce(findings)
    return None


def read_layout(layout: Layout, parts: Sections) -> list[Finding]:
    """Apply one layout to a notice."""
    notice = parts.notice
    region = notice
    if layout.start and (start := layout.start.search(region)):
        region = region[start.end() :]
    if layout.end and (end := layout.end.search(region)):
        region = region[: end.start()]
    shared = ""
    if layout.diagnostic and (found := layout.diagnostic.search(notice)):
        shared = " ".join(found.group("text").split())
    findings = []
    for address, rest, position in recipients(layout, region, parts.original):
        text = rest
        if layout.follow:
            following = region[position:].split("\n\n", 1)[0]
            text = f"{rest} {' '.join(following.split())}".strip()
        finding = Finding(address=addresses.normalize(address), diagnostic=text or shared)
        finding.reason = vendor_reason(layout, finding.diagnostic, notice)
        findings.append(finding)
    return findings


def recipients(layout: Layout, region: str, original: Message | None) -> list[tuple[str, str, int]]:
    """(address, rest of its line, where its line ends) for each recipient the layout names."""
    if layout.recipient is None:
        to = addresses.from_header(mime.header(original, "To")) if original is not None else []
        return [(a, "", len(region)) for a in to]
    found = []
    for match in layout.recipient.finditer(region):
        groups = match.groupdict()
        address = groups.get("address") or groups.get("address2")
        if not address or "@" not in address:
            continue
        rest = groups.get("rest") or groups.get("rest2") or ""
        found.append((address.strip("<>\"'"), rest.strip(), match.end()))
    return found


def vendor_reason(layout: Layout, diagnostic: str, notice: str) -> Reason | None:
    """The vendor's fixed sentence: in the recipient's own text, or anywhere in the notice when
    that text has no SMTP reply of its own to classify."""
    replied = status.find_reply_code(diagnostic) is not None
    for pattern, reason in layout.reasons:
        if pattern.search(diagnostic) or (not replied and pattern.search(notice)):
            return reason
    return None
