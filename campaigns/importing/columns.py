"""The header of a contact file: checking it, and guessing which column is which."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from campaigns.emails import InvalidEmailError, normalize_email

EMAIL_NAMES = re.compile(
    r"^(e-?mail|email address|e-mail address|mail|邮箱|电子邮件|電子郵件|郵箱)", re.I
)
NAME_NAMES = re.compile(r"^(name|full ?name|名字|姓名|名稱|名称|contact)$", re.I)


class HeaderError(ValueError):
    """The first row cannot serve as the header; the message says why, for a person."""


@dataclass(frozen=True)
class Mapping:
    """Which column holds what: column indexes into each row."""

    email: int
    name: int | None = None
    attributes: tuple[int, ...] = field(default_factory=tuple)


def column_names(header: list[str]) -> list[str]:
    """Names for the header's columns ("Column 3" for a blank one); HeaderError if unusable."""
    for cell in header:
        try:
            address = normalize_email(cell)
        except InvalidEmailError:
            continue
        raise HeaderError(
            f"The first row holds an email address ({address.email}), so the file has no "
            "header row. Add a first row that names the columns (e.g. email, name) and upload "
            "the file again."
        )
    names = [cell or f"Column {index + 1}" for index, cell in enumerate(header)]
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        key = name.casefold()
        if key in seen:
            raise HeaderError(
                f'The column name "{name}" appears twice (columns {seen[key] + 1} and '
                f"{index + 1}). Give each column its own name and upload the file again."
            )
        seen[key] = index
    return names


def guess_mapping(names: list[str], rows: list[list[str]]) -> Mapping | None:
    """The likely mapping from header names and sample rows; None when no column holds emails."""
    email = next((i for i, name in enumerate(names) if EMAIL_NAMES.match(name)), None)
    if email is None:
        email = _most_addresses(len(names), rows)
    if email is None:
        return None
    name = next((i for i, text in enumerate(names) if i != email and NAME_NAMES.match(text)), None)
    attributes = tuple(i for i in range(len(names)) if i not in (email, name))
    return Mapping(email=email, name=name, attributes=attributes)


def _most_addresses(width: int, rows: list[list[str]]) -> int | None:
    counts = [0] * width
    for row in rows:
        for index, cell in enumerate(row[:width]):
            if "@" in cell:
                counts[index] += 1
    best = max(range(width), key=counts.__getitem__, default=None)
    return best if best is not None and counts[best] else None
