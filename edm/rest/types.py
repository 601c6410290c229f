"""Input types every router shares: bounded ids, and schemas that take plain JSON values only.

Generated input found each of these a 500 (or a misleading answer) unless refused here with a
422 that names the field: an id beyond 64 bits overflows the database driver; a NUL character
is refused by PostgreSQL (text and jsonb alike); NaN and Infinity (and 1e999, which Python
reads as Infinity) are not JSON, so the database refuses them (SQLite's JSON check constraint
read as "contact exists"); and values nested hundreds deep overflow the stack of whatever
walks them next (json.dumps, templates).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, NamedTuple

from django.db.models import TextChoices
from ninja import Field, Path, Schema
from pydantic import field_validator
from pydantic_core import PydanticCustomError

MAX_ID = 2**63 - 1  # the largest BIGINT
MAX_NESTING = 32  # levels of arrays and objects inside one field: far more than templates read
# The key of a validation error's context holding the path inside the field (errors.py
# appends it to the field's name: "attributes.score").
WITHIN = "within"

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Path[int, {"ge": 1, "le": MAX_ID}]


def choice(choices: type[TextChoices]) -> Any:
    """A field type taking the values of a model's choices, written inline in the OpenAPI
    schema: the choices classes are all called Status or Kind, and named components of the
    same name would overwrite one another."""
    return Literal.__getitem__(tuple(choices.values))


class Problem(NamedTuple):
    within: tuple[str | int, ...]  # where in the field's value: ("score",), (2, "name")
    message: str


class Input(Schema):
    """A request body or query of plain JSON values: no NUL character, no NaN or Infinity,
    no nesting deeper than MAX_NESTING."""

    @field_validator("*", mode="after")
    @classmethod
    def _plain_json(cls, value: Any) -> Any:
        problem = value_problem(value)
        if problem is not None:
            raise PydanticCustomError("invalid_value", problem.message, {WITHIN: problem.within})
        return value


def value_problem(value: Any) -> Problem | None:
    """What is wrong with a field's value, and where, if anything; without recursion, so a
    deep value is refused rather than overflowing the stack."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, within = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return Problem(within, "NUL characters are not allowed")
        elif isinstance(item, float):
            if not math.isfinite(item):
                return Problem(within, "must be a finite number (NaN and Infinity are not JSON)")
        elif isinstance(item, dict | list | tuple):
            if len(within) >= MAX_NESTING:
                return Problem((), f"nested deeper than {MAX_NESTING} levels")
            entries = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in entries:
                if isinstance(key, str) and "\x00" in key:
                    return Problem(within, "NUL characters are not allowed")
                stack.append((child, (*within, key)))
        # Anything else is a number, a boolean, None, or a nested schema (checked by its own
        # validator).
    return None
