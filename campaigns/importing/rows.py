"""One data row of a contact file turned into a contact candidate or a rejection."""

from __future__ import annotations

from typing import NamedTuple

from campaigns.emails import InvalidEmailError, normalize_email
from campaigns.importing.columns import Mapping
from campaigns.importing.readers import Row

NAME_MAX_LENGTH = 255
FORMULA_STARTS = ("=",)
REPLACEMENT_CHARACTER = "\ufffd"  # what bytes invalid in the chosen encoding decode to


class Candidate(NamedTuple):
    row: int
    email: str
    domain: str
    name: str
    attributes: dict[str, str]


class Rejection(NamedTuple):
    row: int
    reason: str
    value: str  # the email cell as the file had it
    duplicate: bool = False  # the address came earlier in the file


class RowParser:
    """Turns rows into candidates or rejections under one mapping and encoding."""

    def __init__(self, mapping: Mapping, names: list[str], encoding: str):
        self.email = mapping.email
        self.name = mapping.name
        self.attributes = [(index, names[index]) for index in mapping.attributes]
        self.encoding = encoding

    def parse(self, row: Row) -> Candidate | Rejection:
        """The row's candidate contact, or why it cannot be one."""
        cells = row.cells
        width = len(cells)
        value = cells[self.email].strip() if self.email < width else ""
        if not value:
            return Rejection(row.number, "no email address", "")
        if value.startswith(FORMULA_STARTS):
            return Rejection(row.number, "a spreadsheet formula, not an email address", value)
        if REPLACEMENT_CHARACTER in value:
            return Rejection(row.number, self._undecodable(), value)
        try:
            address = normalize_email(value)
        except InvalidEmailError as exc:
            return Rejection(row.number, f"invalid email address: {exc}", value)
        name = cells[self.name].strip() if self.name is not None and self.name < width else ""
        if len(name) > NAME_MAX_LENGTH:
            return Rejection(
                row.number, f"the name is longer than {NAME_MAX_LENGTH} characters", value
            )
        attributes = {}
        for index, key in self.attributes:
            if index < width and (text := cells[index].strip()):
                attributes[key] = text
        if REPLACEMENT_CHARACTER in name or any(
            REPLACEMENT_CHARACTER in text for text in attributes.values()
        ):
            return Rejection(row.number, self._undecodable(), value)
        return Candidate(row.number, address.email, address.domain, name, attributes)

    def _undecodable(self) -> str:
        return f"holds bytes that are not valid {self.encoding}: is that the file's encoding?"
