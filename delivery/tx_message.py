"""Transactional messages as bytes ready for SMTP: one request's content compiled once, built
per recipient.

    compiled = compile_tx(TxContent(template_name=…, content=…, sender=…, attachments=…))
    data = build_tx(compiled, TxRecipient(tx_id=…, message_id="<…>", email=…, attributes=…))
    mail_from = tx_envelope_sender(tx_id, bounce_domain, secret)    # VERP "t-…" return path

Written straight to bytes with delivery/mime.py's helpers, like campaign messages
(delivery/message.py), in base64 parts (already in DKIM's relaxed canonical form). What
differs: no List-Unsubscribe, List-Id or Feedback-ID (RFC 2369 headers are for mailing lists,
not for a password reset); the caller's extra headers, checked by `header_check`; and
attachments, which make the message multipart/mixed:

    multipart/mixed                          only with attachments
      multipart/alternative
        text/plain; charset=utf-8
        text/html; charset=utf-8
      application/pdf; name="invoice.pdf"    Content-Disposition: attachment (RFC 2183)

Non-ASCII file names are written as RFC 2231 parameters (`filename*=utf-8''…`), cut into
numbered sections so no line passes 78 characters.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from campaigns.render_budget import DEFAULT_LIMITS, RenderLimits
from campaigns.templating import (
    CompiledContent,
    Content,
    RenderedContent,
    TemplateContact,
    compile_content,
    render,
)
from delivery import mime, verp
from delivery.domains import a_label
from delivery.message import Sender
from delivery.mime import CRLF

__all__ = [
    "Attachment",
    "CompiledTx",
    "InvalidAttachmentError",
    "InvalidHeaderError",
    "TxContent",
    "TxRecipient",
    "attachment_check",
    "build_tx",
    "compile_tx",
    "header_check",
    "new_message_id",
    "render_tx",
    "tx_envelope_sender",
]

_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")  # RFC 5322 §3.6.8: printable ASCII except ":"
# Fields the builder writes, that servers on the way write, or that belong to mailing lists:
# an extra header may neither replace nor repeat them.
STRUCTURAL_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "reply-to",
        "sender",
        "return-path",
        "received",
        "delivered-to",
        "feedback-id",
        "authentication-results",
        "received-spf",
    }
)
STRUCTURAL_PREFIXES = ("content-", "resent-", "list-", "dkim-", "arc-")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # every control character but TAB
_MEDIA_TYPE = re.compile(
    r"(?P<type>[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126})"
    r'(?:\s*;\s*charset=(?P<q>"?)(?P<charset>[a-z0-9._:-]{1,40})(?P=q))?'
)
_PARAMETER_LINE = 60  # characters of an RFC 2231 section, to stay under 78 with its name


class InvalidHeaderError(ValueError):
    """An extra header that cannot be sent as given; the message says why."""


class InvalidAttachmentError(ValueError):
    """An attachment whose name or type cannot be sent as given."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class TxContent:
    """What every message of one transactional request shares. Settings are passed in."""

    template_name: str
    content: Content
    sender: Sender
    headers: tuple[tuple[str, str], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    limits: RenderLimits = DEFAULT_LIMITS  # EDM_RENDER_*: the budget of each recipient's render


@dataclass(frozen=True)
class TxRecipient:
    tx_id: int  # the TxMessage's id, which its VERP return path carries
    message_id: str  # the Message-ID header, "<…>", the same on every retry
    email: str
    name: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledTx:
    content: CompiledContent
    sender_domain: str
    from_field: bytes
    shared_fields: bytes  # MIME-Version … Content-Type, the same in every message
    alternative_boundary: bytes
    mixed_boundary: bytes | None  # None: no attachments
    attachment_parts: bytes  # every attachment, encoded once, each after its boundary


def header_check(name: str, value: str) -> tuple[str, str]:
    """An extra header as it will be sent, or InvalidHeaderError."""
    if not _HEADER_NAME.fullmatch(name):
        raise InvalidHeaderError(f"{name!r} is not a header name (printable ASCII, no colon)")
    lowered = name.lower()
    if lowered in STRUCTURAL_HEADERS or lowered.startswith(STRUCTURAL_PREFIXES):
        raise InvalidHeaderError(f"{name} is written by EDM itself and cannot be set")
    if _CONTROL.search(value):
        raise InvalidHeaderError(f"the value of {name} must be one line: no CR, LF or controls")
    if len(name) + len(": ") + len(value.encode()) > 998:
        raise InvalidHeaderError(f"the value of {name} is too long for one header line")
    return name, value


def attachment_check(filename: str, content_type: str = "") -> tuple[str, str]:
    """(file name, media type) of an attachment, the type guessed from the name when not given;
    InvalidAttachmentError when either cannot be sent. A charset parameter is kept."""
    name = mime.one_line(filename)
    if not name or len(name) > 255 or name != filename:
        raise InvalidAttachmentError("a file name is one line of 1 to 255 characters")
    given = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    match = _MEDIA_TYPE.fullmatch(given.strip().lower())
    if match is None:
        raise InvalidAttachmentError(
            f"{content_type!r} is not a media type like application/pdf or text/csv; charset=utf-8"
        )
    if match["type"].startswith(("multipart/", "message/")):
        # Both are structure, and RFC 2046 forbids base64 for message/*.
        raise InvalidAttachmentError(f"{match['type']} cannot be an attachment; send it as a file")
    charset = f"; charset={match['charset']}" if match["charset"] else ""
    return name, match["type"] + charset


def new_message_id(sender_domain: str) -> str:
    """A Message-ID for a transactional message (stored, so every retry sends the same one).

    Raises InvalidDomainError."""
    return f"<tx.{secrets.token_hex(12)}@{a_label(sender_domain)}>"


def compile_tx(content: TxContent) -> CompiledTx:
    """Compile the template and encode the shared headers and the attachments, once.

    Raises InvalidContentError, InvalidAddressError, InvalidHeaderError or
    InvalidAttachmentError.
    """
    compiled = compile_content(
        content.content, campaign_name=content.template_name, limits=content.limits
    )
    sender = mime.address(content.sender.address)
    alternative = f"=_edm_a{secrets.token_hex(10)}"  # "=_" never occurs in base64 text
    mixed = f"=_edm_m{secrets.token_hex(10)}" if content.attachments else None
    shared = [mime.field("MIME-Version", b"1.0")]
    if content.sender.reply_to:
        shared.append(mime.field("Reply-To", mime.mailbox("", content.sender.reply_to)))
    for name, value in content.headers:
        name, value = header_check(name, value)
        shared.append(mime.field(name, mime.header_text(name, value)))
    outer = (mixed, "multipart/mixed") if mixed else (alternative, "multipart/alternative")
    shared.append(
        mime.field("Content-Type", f'{outer[1]};\r\n boundary="{outer[0]}"'.encode("ascii"))
    )
    parts = b"".join(
        b"--" + mixed.encode() + CRLF + _attachment_part(item) + CRLF
        for item in content.attachments
        if mixed
    )
    return CompiledTx(
        content=compiled,
        sender_domain=sender.rpartition("@")[2],
        from_field=mime.field("From", mime.mailbox(content.sender.name, sender, "From")),
        shared_fields=b"".join(shared),
        alternative_boundary=alternative.encode("ascii"),
        mixed_boundary=mixed.encode("ascii") if mixed else None,
        attachment_parts=parts,
    )


def render_tx(
    compiled: CompiledTx, recipient: TxRecipient, *, today: dt.date | None = None
) -> RenderedContent:
    """The subject, HTML and text one recipient gets; raises TemplateRenderError.

    Templates read the request's data as `contact.attributes.<key>`; there is no unsubscribe
    link in transactional mail, so `unsubscribe_url` and `view_online_url` are empty.
    """
    contact = TemplateContact(recipient.email, recipient.name, recipient.attributes)
    return render(compiled.content, contact, today=today)


def build_tx(
    compiled: CompiledTx, recipient: TxRecipient, *, today: dt.date | None = None
) -> bytes:
    """The message for one recipient, as bytes for SMTP's DATA (not yet DKIM-signed).

    Raises TemplateRenderError or InvalidAddressError.
    """
    rendered = render_tx(compiled, recipient, today=today)
    alternative = b"--" + compiled.alternative_boundary
    body = [
        alternative,
        CRLF,
        _text_part("text/plain", rendered.text),
        CRLF,
        alternative,
        CRLF,
        _text_part("text/html", rendered.html),
        CRLF,
        alternative,
        b"--\r\n",
    ]
    if compiled.mixed_boundary is not None:
        mixed = b"--" + compiled.mixed_boundary
        body = [
            mixed,
            CRLF,
            b'Content-Type: multipart/alternative;\r\n boundary="',
            compiled.alternative_boundary,
            b'"\r\n\r\n',
            *body,
            compiled.attachment_parts,
            mixed,
            b"--\r\n",
        ]
    return b"".join(
        (
            mime.field("Date", format_datetime(dt.datetime.now(dt.UTC)).encode("ascii")),
            compiled.from_field,
            mime.field("To", mime.mailbox(recipient.name, recipient.email)),
            mime.field("Subject", mime.header_text("Subject", rendered.subject)),
            mime.field("Message-ID", recipient.message_id.encode("ascii")),
            compiled.shared_fields,
            CRLF,
            *body,
        )
    )


def tx_envelope_sender(tx_id: int, bounce_domain: str, secret: str | bytes) -> str:
    """The VERP return path (MAIL FROM) that routes this message's bounces back to it."""
    return verp.encode(tx_id, bounce_domain, secret, kind=verp.Kind.TX)


def _text_part(media_type: str, text: str) -> bytes:
    data = text.encode("utf-8")
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    # Text media types have CRLF line breaks in canonical form (RFC 2046 §4.1.1).
    return (
        f"Content-Type: {media_type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    ).encode("ascii") + mime.base64_body(data.replace(b"\n", b"\r\n"))


def _attachment_part(attachment: Attachment) -> bytes:
    name, media_type = attachment_check(attachment.filename, attachment.content_type)
    return b"".join(
        (
            f"Content-Type: {media_type};".encode("ascii"),
            _parameter("name", name),
            CRLF,
            b"Content-Disposition: attachment;",
            _parameter("filename", name),
            CRLF,
            b"Content-Transfer-Encoding: base64\r\n\r\n",
            mime.base64_body(attachment.data),
        )
    )


def _parameter(key: str, value: str) -> bytes:
    """`key="value"` on a line of its own, or RFC 2231 sections `key*0*=utf-8''…` when the
    value is not plain ASCII or too long."""
    if value.isascii() and '"' not in value and "\\" not in value and len(value) <= 60:
        return f'\r\n {key}="{value}"'.encode("ascii")
    encoded = quote(value, safe="!#$&+-.^_`|~")
    sections, start = [], 0
    while start < len(encoded):
        end = min(start + _PARAMETER_LINE, len(encoded))
        # Never cut inside a %XX escape.
        while end < len(encoded) and "%" in encoded[end - 2 : end]:
            end -= 1
        sections.append(encoded[start:end])
        start = end
    charset = "utf-8''"  # RFC 2231 §4: only the first section names the charset
    lines = [
        f"\r\n {key}*{index}*={charset if index == 0 else ''}{section}"
        for index, section in enumerate(sections)
    ]
    return ";".join(lines).encode("ascii")
