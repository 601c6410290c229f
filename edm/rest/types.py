"""Input types every router shares: bounded ids, and schemas that refuse NUL characters.

Generated input found both: an id beyond 64 bits overflows the database driver, and a NUL
character is refused by PostgreSQL (text and jsonb alike), each a 500 unless refused here
with a 422 that names the field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.db.models import TextChoices
from ninja import Field, Path, Schema
from pydantic import field_validator

MAX_ID = 2**63 - 1  # the largest BIGINT

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Path[int, {"ge": 1, "le": MAX_ID}]


def choice(choices: type[TextChoices]) -> Any:
    """A field type taking the values of a model's choices, written inline in the OpenAPI
    schema: the choices classes are all called Status or Kind, and named components of the
    same name would overwrite one another."""
    return Literal.__getitem__(tuple(choices.values))


class Input(Schema):
    """A request body or query: no NUL character anywhere in it."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("NUL characters are not allowed")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False  # numbers, and nested schemas (checked by their own validator)
