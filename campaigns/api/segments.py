"""Segments: create, read, change, delete, and count the contacts a definition selects.

A definition is the JSON tree of campaigns/segments/definition.py; a bad one answers 422
with each problem under its path (`definition.conditions[2].value`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from campaigns.models import Segment
from campaigns.segments.definition import parse
from campaigns.selectors.segments import segment_count, segment_group
from campaigns.services import segments as segment_services
from edm.rest.pagination import PageParams, keyset_page, page_schema
from edm.rest.types import Input, PathId

router = Router(tags=["segments"])

Definition = dict[str, Any]
DEFINITION = (
    '{"match": "all" | "any", "conditions": [{"field", "op", "value"} | a nested group]}; '
    "fields: attribute (with a key), status, list, created, domain, opened, clicked, received."
)


class SegmentIn(Input):
    name: str = Field(..., min_length=1, max_length=200)
    definition: Definition = Field(..., description=DEFINITION)


class SegmentPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    definition: Definition | None = Field(None, description=DEFINITION)


class SegmentOut(Schema):
    id: int
    name: str
    definition: Definition
    created_at: datetime
    updated_at: datetime


class CountIn(Input):
    definition: Definition = Field(..., description=DEFINITION)


class CountOut(Schema):
    count: int = Field(..., description="Contacts matching now, whatever their status or lists.")


SegmentPage = page_schema(SegmentOut)


@router.get("", response=SegmentPage, summary="Segments")
def segment_index(request, page: Query[PageParams]):
    return keyset_page(Segment.objects.all(), page)


@router.post("", response={201: SegmentOut}, summary="Create a segment")
def segment_create(request, payload: SegmentIn):
    return Status(201, segment_services.segment_create(**payload.model_dump()))


@router.post("/count", response=CountOut, summary="Count the contacts a definition selects")
def segment_count_definition(request, payload: CountIn):
    return {"count": segment_count(parse(payload.definition, within="definition"))}


@router.get("/{int:segment_id}", response=SegmentOut, summary="Get a segment")
def segment_get(request, segment_id: PathId):
    return get_object_or_404(Segment, pk=segment_id)


@router.patch("/{int:segment_id}", response=SegmentOut, summary="Change a segment")
def segment_update(request, segment_id: PathId, payload: SegmentPatch):
    """Fields left out (or null) keep their value; drafts using it get the new audience."""
    segment = get_object_or_404(Segment, pk=segment_id)
    return segment_services.segment_update(
        segment,
        name=segment.name if payload.name is None else payload.name,
        definition=segment.definition if payload.definition is None else payload.definition,
    )


@router.delete("/{int:segment_id}", response={204: None}, summary="Delete an unused segment")
def segment_delete(request, segment_id: PathId):
    segment_services.segment_delete(get_object_or_404(Segment, pk=segment_id))
    return Status(204, None)


@router.get("/{int:segment_id}/count", response=CountOut, summary="Count a segment's contacts")
def segment_count_saved(request, segment_id: PathId):
    return {"count": segment_count(segment_group(get_object_or_404(Segment, pk=segment_id)))}
