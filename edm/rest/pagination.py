"""Cursor pages: every list the API answers is one bounded page and the cursor of the next.

    GET /api/contacts?limit=100            -> {"items": [...], "next": "MTIzNA"}
    GET /api/contacts?limit=100&after=MTIzNA

Pages are keyset pages (`WHERE id > last ORDER BY id LIMIT n`), never OFFSET: each costs the
same however deep it is, and rows added meanwhile are neither skipped nor repeated. A cursor
is opaque to clients (base64 of the last key); `next` is null on the last page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import create_model

from edm.json_input import json_read
from edm.rest.errors import Invalid
from edm.rest.types import Input

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class PageParams(Input):
    after: str | None = Field(None, description="The `next` cursor of the previous page.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items on this page.")


@dataclass(frozen=True)
class Page:
    items: list
    next: str | None


def page_schema(item: type[Schema], name: str | None = None) -> type[Schema]:
    """The response schema of a page of `item`s: {"items": [...], "next": cursor | null}."""
    name = name or f"{item.__name__.removesuffix('Out')}Page"
    return create_model(
        name,
        __base__=Schema,
        items=(list[item], ...),
        next=(str | None, Field(..., description="Cursor of the next page; null on the last.")),
    )


def cursor_encode(value: int | str) -> str:
    """The opaque cursor of a key."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def cursor_decode(cursor: str | None, kind: type[int] | type[str]) -> Any:
    """The key in a cursor from `cursor_encode`, or None; Invalid (field `after`) if it is not."""
    if not cursor:
        return None
    try:
        value = json_read(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):  # JsonTooDeepError is a ValueError
        value = None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Invalid("This cursor is not one this API gave.", {"after": ["not a valid cursor"]})
    return value


def keyset_page(queryset: QuerySet, params: PageParams, *, key: str = "id") -> Page:
    """The page of `queryset` after the cursor, in `key` order (a unique, indexed column)."""
    kind = int if isinstance(queryset.model._meta.get_field(key), models.IntegerField) else str
    after = cursor_decode(params.after, kind)
    rows = queryset.order_by(key)
    if after is not None:
        rows = rows.filter(**{f"{key}__gt": after})
    found = list(rows[: params.limit + 1])
    more = len(found) > params.limit
    found = found[: params.limit]
    return Page(found, cursor_encode(getattr(found[-1], key)) if more else None)
