"""Transactional mail: `POST /api/tx` sends a template to one or more recipients at once;
`GET /api/tx/{id}` follows one message and its attempts.

The service (delivery/tx/accept.py) checks everything and queues the job; this module only
reads the JSON (the template by id or name, attachments from base64) and answers 202 with a
message per recipient. With an `Idempotency-Key` header, a retried request gets the first
answer again (header `Idempotent-Replayed: true`) and nothing is sent twice.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from typing import Annotated, Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Header, Query, Router, Schema, Status
from pydantic import StringConstraints

from campaigns.models import Template
from delivery.api.reports import AttemptOut
from delivery.message import Sender
from delivery.models import TxAttempt, TxMessage
from delivery.tx.accept import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_HEADERS,
    MAX_RECIPIENTS,
    TxRecipientIn,
    tx_request_accept,
)
from delivery.tx_message import Attachment
from edm.rest.errors import BadRequest, Invalid, TooLarge
from edm.rest.pagination import PageParams, keyset_page, page_schema
from edm.rest.types import Id, Input, PathId, choice

router = Router(tags=["transactional"])
TxMessageStatus = choice(TxMessage.Status)

Email = Annotated[str, StringConstraints(max_length=320)]
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, as the IETF draft's examples


class RecipientIn(Input):
    email: Email
    name: str = Field("", max_length=255)
    data: dict[str, Any] = Field({}, description="Merged over the request's data.")


class AttachmentIn(Input):
    filename: str = Field(..., min_length=1, max_length=255)
    content_type: str = Field("", max_length=127, description="Guessed from the name if empty.")
    content: str = Field(..., description="The file, base64-encoded.")


class TxIn(Input):
    template: Id | Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        ..., description="A message template's id or name."
    )
    from_email: Email
    from_name: str = Field("", max_length=200)
    reply_to: Email = ""
    recipients: list[Email | RecipientIn] = Field(..., min_length=1, max_length=MAX_RECIPIENTS)
    data: dict[str, Any] = Field(
        {}, description="What the template reads as contact.attributes.<key>."
    )
    headers: dict[str, str] = Field(
        {}, max_length=MAX_HEADERS, description="Extra headers: one line each, no structural ones."
    )
    attachments: list[AttachmentIn] = Field(
        [],
        max_length=MAX_ATTACHMENTS,
        description=f"Up to {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB together.",
    )


class TxMessageBriefOut(Schema):
    id: int
    email: str
    status: TxMessageStatus = Field(..., description="queued, or refused (see reason).")
    reason: str


class TxAcceptedOut(Schema):
    request: int
    messages: list[TxMessageBriefOut]


class TxMessageOut(Schema):
    id: int
    request: int = Field(..., validation_alias="request_id")
    template: str
    email: str
    name: str
    status: TxMessageStatus
    reason: str
    hard: bool | None
    site: str
    message_id: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_code: int | None
    last_enhanced: str
    last_reply: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    updated_at: dt.datetime

    @staticmethod
    def resolve_template(message: TxMessage) -> str:
        return message.request.template_name


class TxMessageDetailOut(TxMessageOut):
    attempt_log: list[AttemptOut]


class TxFilter(PageParams):
    status: TxMessageStatus | None = None
    email: str | None = Field(None, max_length=254, description="Exactly this address.")


TxMessagePage = page_schema(TxMessageOut)


def _template(reference: int | str) -> Template:
    found = Template.objects.select_related("layout")
    if isinstance(reference, int):
        template = found.filter(pk=reference).first()
    else:
        template = found.filter(name=reference).first()
    if template is None:
        raise Invalid("No such template.", {"template": [f"no template {reference!r}"]})
    return template


def _attachments(items: list[AttachmentIn]) -> list[Attachment]:
    # base64 is 4/3 of the data: refuse what is certainly too large before decoding it.
    if sum(len(item.content) for item in items) * 3 // 4 > MAX_ATTACHMENT_BYTES + 3 * len(items):
        raise TooLarge(f"The attachments are larger than {MAX_ATTACHMENT_BYTES} bytes together.")
    decoded = []
    for index, item in enumerate(items):
        try:
            data = base64.b64decode(item.content, validate=True)
        except (binascii.Error, ValueError):
            raise Invalid(
                "An attachment is not valid base64.",
                {f"attachments.{index}.content": ["not valid base64"]},
            ) from None
        decoded.append(Attachment(item.filename, item.content_type, data))
    return decoded


@router.post(
    "/tx",
    response={202: TxAcceptedOut},
    summary="Send a transactional message now",
)
def tx_send(
    request,
    payload: TxIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="Any unique string; a retry with the same key sends nothing again.",
    ),
):
    """Queued at once on the transactional queue, which every worker serves before campaign
    batches. Suppressed recipients are `refused` with the reason; the others `queued`."""
    if idempotency_key is not None and not _KEY.fullmatch(idempotency_key):
        raise BadRequest(
            "An Idempotency-Key is 1 to 255 printable ASCII characters.",
            {"Idempotency-Key": ["1 to 255 printable ASCII characters"]},
        )
    recipients = [
        TxRecipientIn(item) if isinstance(item, str) else TxRecipientIn(**item.model_dump())
        for item in payload.recipients
    ]
    accepted = tx_request_accept(
        template=_template(payload.template),
        sender=Sender(payload.from_name, payload.from_email, payload.reply_to),
        recipients=recipients,
        data=payload.data,
        headers=list(payload.headers.items()),
        attachments=_attachments(payload.attachments),
        by=request.user,
        idempotency_key=idempotency_key or "",
        fingerprint=_fingerprint(payload),
    )
    if accepted.replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(202, accepted.response)


@router.get("/tx", response=TxMessagePage, summary="Transactional messages")
def tx_index(request, filters: Query[TxFilter]):
    messages = TxMessage.objects.select_related("request")
    if filters.status:
        messages = messages.filter(status=filters.status)
    if filters.email:
        messages = messages.filter(email=filters.email.strip())
    return keyset_page(messages, filters)


@router.get(
    "/tx/{int:message_id}", response=TxMessageDetailOut, summary="A message and its attempts"
)
def tx_get(request, message_id: PathId):
    message = get_object_or_404(TxMessage.objects.select_related("request"), pk=message_id)
    # Bounded by the retry schedule: a few dozen attempts within the retry window.
    message.attempt_log = list(TxAttempt.objects.filter(message=message).order_by("at", "id"))
    return message


def _fingerprint(payload: TxIn) -> str:
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
