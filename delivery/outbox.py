"""The outbox of capture mode: storing captured messages and reading them back for display."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.errors import HeaderParseError
from email.message import EmailMessage

from delivery.models import CapturedMessage

PAGE_SIZE = 50


@dataclass(frozen=True)
class MessageParts:
    headers: list[tuple[str, str]]
    html: str | None
    text: str | None
    source: str
    dkim_signed: bool


def captured_message_store(*, mail_from: str, recipients: list[str], raw: bytes) -> CapturedMessage:
    """Keep one message as the capture server received it."""
    parsed = message_from_bytes(raw, policy=policy.default)
    return CapturedMessage.objects.create(
        mail_from=mail_from[:998],
        recipients=recipients,
        from_header=_header(parsed, "From")[:998],
        to_header=_header(parsed, "To"),
        subject=_header(parsed, "Subject"),
        message_id=_header(parsed, "Message-ID")[:998],
        size=len(raw),
        raw=raw,
    )


def captured_messages_page(*, before: int | None = None) -> list[CapturedMessage]:
    """Newest messages first, a page at a time by id (no OFFSET scans)."""
    messages = CapturedMessage.objects.defer("raw")
    if before is not None:
        messages = messages.filter(id__lt=before)
    return list(messages.order_by("-id")[:PAGE_SIZE])


def captured_message_parts(message: CapturedMessage) -> MessageParts:
    """Headers (decoded), the HTML and text bodies and the raw source of a captured message."""
    raw = bytes(message.raw)
    parsed = message_from_bytes(raw, policy=policy.default)
    html = parsed.get_body(("html",))
    text = parsed.get_body(("plain",))
    return MessageParts(
        headers=[(name, str(value)) for name, value in parsed.items()],
        html=html.get_content() if html is not None else None,
        text=text.get_content() if text is not None else None,
        source=raw.decode("utf-8", "replace"),
        dkim_signed="DKIM-Signature" in parsed,
    )


def _header(parsed: EmailMessage, name: str) -> str:
    try:
        return str(parsed.get(name) or "")
    except (ValueError, IndexError, HeaderParseError):
        # A malformed header must not lose the message: keep its undecoded text.
        wanted = name.lower()
        return next((value for key, value in parsed.raw_items() if key.lower() == wanted), "")
