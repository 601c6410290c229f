"""Accepting a transactional request: check everything, refuse suppressed recipients, store,
queue. Nothing is sent from here: a job on the `transactional` queue sends once this commits.

Everything that can be checked now is, so a request is either refused as a whole (422/413:
nothing stored, nothing sent) or accepted with one answer per recipient: `queued`, or
`refused` with the reason (a suppression). With an Idempotency-Key, the request, its messages
and its answer are stored in one transaction, so a retry with the same key gets the same
answer and sends nothing, and a retry with another body is refused.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from campaigns.address_hash import address_hashes
from campaigns.emails import InvalidEmailError, email_key, normalize_email
from campaigns.models import Contact, Suppression, Template
from campaigns.render_budget import Limit, RenderLimits
from campaigns.selectors.previews import template_content
from campaigns.templating import Content, InvalidContentError, TemplateRenderError
from delivery import jobs_queue, mime
from delivery.message import Sender
from delivery.models import TxMessage, TxRequest
from delivery.tx_message import (
    Attachment,
    InvalidAttachmentError,
    InvalidHeaderError,
    TxContent,
    TxRecipient,
    attachment_check,
    compile_tx,
    header_check,
    new_message_id,
    render_tx,
)
from edm import queues

MAX_RECIPIENTS = 50
# Rendering every recipient at accept time holds a web process: past this many seconds for
# the whole request, the rest is not tried (each render has its own budget as well).
ACCEPT_RENDER_SECONDS = 5.0
MAX_HEADERS = 20
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # all attachments of a request together, decoded
JOB_TIMEOUT = 300  # seconds; a claim older than this (and a margin) belonged to a dead job

# Unsubscribing stops marketing, not the mail a person asks for (a password reset, a receipt):
# only these suppressions refuse transactional mail. Domain suppressions always do.
REFUSING_REASONS = frozenset(
    {
        Suppression.Reason.BOUNCED,
        Suppression.Reason.COMPLAINED,
        Suppression.Reason.BLOCKLISTED,
        Suppression.Reason.MANUAL,
        Suppression.Reason.ERASED,  # the person asked for their data to be gone: no mail at all
    }
)
Status = TxMessage.Status


class TxInvalidError(ValueError):
    """The request cannot be sent as it is; nothing was stored. `problems` names the fields."""

    def __init__(self, problems: dict[str, list[str]]):
        self.problems = problems
        super().__init__("; ".join(f"{k}: {m}" for k, found in problems.items() for m in found))


class TxTooLargeError(ValueError):
    """The attachments are larger than MAX_ATTACHMENT_BYTES together."""


class IdempotencyKeyReusedError(ValueError):
    """The key was used before for a request with another body."""


@dataclass(frozen=True)
class TxRecipientIn:
    email: str
    name: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TxAccepted:
    request_id: int
    response: dict  # {"request": id, "messages": [{"id", "email", "status", "reason"}]}
    replayed: bool = False  # answered from an earlier request with the same Idempotency-Key


def tx_request_accept(
    *,
    template: Template,
    sender: Sender,
    recipients: Sequence[TxRecipientIn],
    data: Mapping[str, Any] | None = None,
    headers: Sequence[tuple[str, str]] = (),
    attachments: Sequence[Attachment] = (),
    by=None,
    idempotency_key: str = "",
    fingerprint: str = "",
) -> TxAccepted:
    """Check, store and queue a request; see the module docstring.

    Raises TxInvalidError, TxTooLargeError or IdempotencyKeyReusedError.
    """
    if idempotency_key:
        earlier = _earlier(by, idempotency_key, fingerprint)
        if earlier is not None:
            return earlier
    content, checked = _checked(template, sender, recipients, data or {}, headers, attachments)
    # By key: a contact written USER7@Sina.com is the recipient user7@sina.com.
    keys = [email_key(r.email) for r in checked]
    contacts = {c.email_key: c for c in Contact.objects.filter(email_key__in=keys)}
    _render_each(content, checked, contacts)
    refusals = _refusals([r.email for r in checked])
    request = TxRequest(
        created_by=by,
        template=template,
        template_name=template.name,
        subject=content.content.subject,
        html=content.content.html,
        text=content.content.text,
        layout=content.content.layout,
        from_name=sender.name,
        from_email=content.sender.address,
        reply_to=content.sender.reply_to,
        headers=[list(pair) for pair in content.headers],
        attachments=[
            {"filename": a.filename, "content_type": a.content_type, "size": len(a.data)}
            for a in content.attachments
        ],
        attachment_data=b"".join(a.data for a in content.attachments) or None,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
    )
    sender_domain = content.sender.address.rpartition("@")[2]
    with transaction.atomic():
        try:
            with transaction.atomic():
                request.save()
        except IntegrityError:
            # The same key, committed by a request that ran at the same time.
            earlier = _earlier(by, idempotency_key, fingerprint)
            if earlier is None:
                raise
            return earlier
        messages = TxMessage.objects.bulk_create(
            [
                _message(request, recipient, refusals, contacts, sender_domain)
                for recipient in checked
            ]
        )
        request.response = {
            "request": request.pk,
            "messages": [
                {"id": m.pk, "email": m.email, "status": m.status, "reason": m.reason}
                for m in messages
            ],
        }
        request.save(update_fields=["response"])
        if any(m.status == Status.QUEUED for m in messages):
            jobs_queue.enqueue_on_commit(
                queues.TRANSACTIONAL,
                "delivery.jobs.send_tx",
                request.pk,
                job_id=request.job_id,
                timeout=JOB_TIMEOUT,
            )
    return TxAccepted(request.pk, request.response)


def tx_content(request: TxRequest) -> TxContent:
    """What every message of a stored request shares, its attachments read back."""
    attachments, start = [], 0
    data = bytes(request.attachment_data or b"")
    for item in request.attachments:
        end = start + item["size"]
        attachments.append(Attachment(item["filename"], item["content_type"], data[start:end]))
        start = end
    return TxContent(
        template_name=request.template_name,
        content=Content(
            subject=request.subject, html=request.html, text=request.text, layout=request.layout
        ),
        sender=Sender(request.from_name, request.from_email, request.reply_to),
        headers=tuple((name, value) for name, value in request.headers),
        attachments=tuple(attachments),
        limits=RenderLimits.from_settings(settings),
    )


def _earlier(by, key: str, fingerprint: str) -> TxAccepted | None:
    request = TxRequest.objects.filter(created_by=by, idempotency_key=key).first()
    if request is None:
        return None
    if request.fingerprint != fingerprint:
        raise IdempotencyKeyReusedError(
            "This Idempotency-Key was used for a different request; use a new key."
        )
    return TxAccepted(request.pk, request.response, replayed=True)


def _checked(
    template: Template,
    sender: Sender,
    recipients: Sequence[TxRecipientIn],
    data: Mapping[str, Any],
    headers: Sequence[tuple[str, str]],
    attachments: Sequence[Attachment],
) -> tuple[TxContent, list[TxRecipientIn]]:
    """The request's content and recipients, normalized; TxInvalidError or TxTooLargeError."""
    problems: dict[str, list[str]] = {}
    if template.kind != Template.Kind.MESSAGE:
        problems["template"] = ["a layout cannot be sent; name a message template"]
    sender = dataclasses.replace(
        sender,
        address=_address(sender.address, "from_email", problems),
        reply_to=_address(sender.reply_to, "reply_to", problems) if sender.reply_to else "",
    )
    if len(headers) > MAX_HEADERS:
        problems["headers"] = [f"at most {MAX_HEADERS} headers"]
    seen_headers: set[str] = set()
    for name, value in headers:
        try:
            header_check(name, value)
        except InvalidHeaderError as exc:
            problems.setdefault(f"headers.{name}", []).append(str(exc))
        if name.lower() in seen_headers:
            problems.setdefault(f"headers.{name}", []).append("given twice")
        seen_headers.add(name.lower())
    if len(attachments) > MAX_ATTACHMENTS:
        problems["attachments"] = [f"at most {MAX_ATTACHMENTS} attachments"]
    if sum(len(a.data) for a in attachments) > MAX_ATTACHMENT_BYTES:
        raise TxTooLargeError(
            f"The attachments are larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB together."
        )
    checked_attachments = []
    for index, attachment in enumerate(attachments):
        try:
            name, media_type = attachment_check(attachment.filename, attachment.content_type)
        except InvalidAttachmentError as exc:
            problems.setdefault(f"attachments.{index}", []).append(str(exc))
            continue
        checked_attachments.append(Attachment(name, media_type, attachment.data))
    checked = _recipients(recipients, data, problems)
    if problems:
        raise TxInvalidError(problems)
    content = TxContent(
        template_name=template.name,
        content=template_content(template),
        sender=sender,
        headers=tuple(headers),
        attachments=tuple(checked_attachments),
        limits=RenderLimits.from_settings(settings),
    )
    return content, checked


def _recipients(
    recipients: Sequence[TxRecipientIn], data: Mapping[str, Any], problems: dict
) -> list[TxRecipientIn]:
    if not recipients:
        problems["recipients"] = ["at least one recipient is needed"]
    if len(recipients) > MAX_RECIPIENTS:
        problems["recipients"] = [f"at most {MAX_RECIPIENTS} recipients at once"]
    checked, first = [], {}
    for index, recipient in enumerate(recipients):
        where = f"recipients.{index}.email"
        email = _address(recipient.email, where, problems)
        if email in first:
            problems.setdefault(where, []).append(f"the same address as recipient {first[email]}")
        first.setdefault(email, index)
        checked.append(TxRecipientIn(email, recipient.name.strip(), {**data, **recipient.data}))
    return checked


def _address(value: str, where: str, problems: dict) -> str:
    """The normalized address, checked for headers and SMTP (no SMTPUTF8: ASCII local parts)."""
    try:
        email = normalize_email(value).email
        mime.address(email)
    except (InvalidEmailError, mime.InvalidAddressError) as exc:
        problems.setdefault(where, []).append(str(exc))
        return value
    return email


_EXHAUSTING = frozenset({Limit.STEPS, Limit.TIME})


def _render_each(
    content: TxContent, recipients: list[TxRecipientIn], contacts: dict[str, Contact]
) -> None:
    """Render every message once now, so a template that fails is refused before anything is
    stored (the job renders them again when it builds them); TxInvalidError."""
    try:
        compiled = compile_tx(content)
    except InvalidContentError as exc:
        raise TxInvalidError({"template": [str(exc)]}) from None
    problems: dict[str, list[str]] = {}
    deadline = time.monotonic() + ACCEPT_RENDER_SECONDS
    for index, recipient in enumerate(recipients):
        contact = contacts.get(email_key(recipient.email))
        try:
            render_tx(compiled, _tx_recipient(0, "", recipient, contact))
        except TemplateRenderError as exc:
            problems[f"recipients.{index}"] = [f"the template fails for this recipient: {exc}"]
            if exc.limit in _EXHAUSTING:
                break  # the others would most likely use up their budgets too
        if time.monotonic() > deadline and index + 1 < len(recipients):
            problems["template"] = [
                f"rendering took more than {ACCEPT_RENDER_SECONDS:g} s for the first "
                f"{index + 1} recipients; make the template lighter or send fewer at once"
            ]
            break
    if problems:
        raise TxInvalidError(problems)


def _tx_recipient(
    tx_id: int, message_id: str, recipient: TxRecipientIn, contact: Contact | None
) -> TxRecipient:
    """The recipient as the message builder sees it (the job builds from the stored row)."""
    return TxRecipient(
        tx_id=tx_id,
        message_id=message_id,
        email=recipient.email,
        name=recipient.name or (contact.name if contact else ""),
        attributes=_attributes(recipient, contact),
    )


def _attributes(recipient: TxRecipientIn, contact: Contact | None) -> dict:
    """What the template sees as contact.attributes: the contact's, with the request's on top."""
    return {**(contact.attributes if contact else {}), **recipient.data}


def _refusals(emails: list[str]) -> dict[str, str]:
    """Why each refused address is refused: its own suppression (or its erasure's hash, which
    matches any case), or its domain's."""
    domains = {email: email.rpartition("@")[2] for email in emails}
    keys = {email: email_key(email) for email in emails}  # suppressions hold keys
    hashes = address_hashes(emails)
    found = {
        s.value: s
        for s in Suppression.objects.filter(
            Q(value__in=set(keys.values()))
            | Q(value__in=set(domains.values()))
            | Q(value__in=list(hashes))
        )
    }
    erased = {hashes[value]: found[value] for value in hashes if value in found}
    refused = {}
    for email in emails:
        own, domain = found.get(keys[email]) or erased.get(email), found.get(domains[email])
        if own is not None and own.reason in REFUSING_REASONS:
            refused[email] = f"suppressed: {own.get_reason_display()}"
        elif domain is not None:
            refused[email] = f"suppressed: every address at {domain.value}"
    return refused


def _message(
    request: TxRequest,
    recipient: TxRecipientIn,
    refusals: dict[str, str],
    contacts: dict[str, Contact],
    sender_domain: str,
) -> TxMessage:
    contact = contacts.get(email_key(recipient.email))
    refused = refusals.get(recipient.email)
    return TxMessage(
        request=request,
        contact=contact,
        email=recipient.email,
        domain=recipient.email.rpartition("@")[2],
        name=recipient.name or (contact.name if contact else ""),
        data=_attributes(recipient, contact),
        message_id=new_message_id(sender_domain),
        status=Status.REFUSED if refused else Status.QUEUED,
        reason=refused or "",
    )
