"""Suppressions: addresses and domains nothing is sent to. List, check, add, add many, remove."""

from __future__ import annotations

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from campaigns.api.contacts import Email
from campaigns.emails import InvalidEmailError
from campaigns.models import Suppression
from campaigns.selectors.suppressions import suppression_find, suppression_page
from campaigns.services import suppressions as suppression_services
from campaigns.services.suppressions import SEPARATORS
from edm.rest.errors import Invalid
from edm.rest.pagination import Page, PageParams, cursor_decode, cursor_encode, page_schema
from edm.rest.types import Input, PathId, choice

router = Router(tags=["suppressions"])
SuppressionReason = choice(Suppression.Reason)
SuppressionScope = choice(Suppression.Scope)
MAX_VALUES = 10_000


class SuppressionOut(Schema):
    id: int
    value: str = Field(..., description="A normalized address, or a domain (every address at it).")
    scope: SuppressionScope
    reason: SuppressionReason
    source: str
    created_at: datetime


class SuppressionIn(Input):
    value: str = Field(..., max_length=320, description="An address, or a domain.")
    reason: SuppressionReason = Suppression.Reason.MANUAL
    source: str = Field("", max_length=200)


class SuppressionsIn(Input):
    values: list[str] = Field(..., min_length=1, max_length=MAX_VALUES)
    reason: SuppressionReason = Suppression.Reason.MANUAL
    source: str = Field("", max_length=200)


class NotAddedOut(Schema):
    value: str
    reason: str


class SuppressionsAddedOut(Schema):
    added: int
    already: int = Field(..., description="Were suppressed before.")
    invalid: list[NotAddedOut]


class CheckOut(Schema):
    suppressed: bool
    suppression: SuppressionOut | None = Field(
        ..., description="The entry that covers the address: itself, or its domain."
    )


class SuppressionFilter(PageParams):
    search: str = Field("", max_length=254, description="Value starts with this.")


SuppressionPage = page_schema(SuppressionOut)


def _source(request, given: str) -> str:
    return given or f"API, {request.user.get_username()}"


@router.get("", response=SuppressionPage, summary="Suppressions, in value order")
def suppression_index(request, filters: Query[SuppressionFilter]):
    page = suppression_page(
        search=filters.search, after=cursor_decode(filters.after, str) or "", size=filters.limit
    )
    next_cursor = cursor_encode(page.next_after) if page.next_after is not None else None
    return Page(page.suppressions, next_cursor)


@router.get("/check", response=CheckOut, summary="Is this address suppressed?")
def suppression_check(request, email: Email):
    found = suppression_find(email)
    return {"suppressed": found is not None, "suppression": found}


@router.post(
    "",
    response={200: SuppressionOut, 201: SuppressionOut},
    summary="Suppress an address or domain (201 when new)",
)
def suppression_create(request, payload: SuppressionIn):
    try:
        suppression, created = suppression_services.suppression_add(
            value=payload.value,
            reason=payload.reason,
            source=_source(request, payload.source),
            by=request.user,
        )
    except InvalidEmailError as exc:
        raise Invalid(str(exc), {"value": [str(exc)]}) from None
    return Status(201 if created else 200, suppression)


@router.post(
    "/bulk", response=SuppressionsAddedOut, summary=f"Suppress up to {MAX_VALUES} values at once"
)
def suppression_create_many(request, payload: SuppressionsIn):
    """Each item is one address or domain; items that are not are listed in `invalid`."""
    # The service reads pasted text, where spaces and commas separate entries; an item of
    # the list with one in it is not one entry.
    joined = [v for v in payload.values if not SEPARATORS.search(v.strip())]
    outcome = suppression_services.suppression_add_many(
        text="\n".join(joined),
        reason=payload.reason,
        source=_source(request, payload.source),
        by=request.user,
    )
    invalid = [(v, "one address or domain per item") for v in payload.values if v not in joined]
    return {
        "added": outcome.added,
        "already": outcome.already,
        "invalid": [
            {"value": value, "reason": reason} for value, reason in [*outcome.invalid, *invalid]
        ],
    }


@router.delete("/{int:suppression_id}", response={204: None}, summary="Remove a suppression")
def suppression_remove(request, suppression_id: PathId):
    """Sending to it is allowed again; contact statuses are left as they are."""
    suppression_services.suppression_remove(get_object_or_404(Suppression, pk=suppression_id))
    return Status(204, None)
