"""One data row of a contact file turned into a contact candidate or a rejection."""

from __future__ import annotations

from json.encoder import encode_basestring as quote  # the C encoder: a JSON string
from typing import NamedTuple

from campaigns.emails import InvalidEmailError, normalize_email
from campaigns.importing.columns import Mapping

NAME_MAX_LENGTH = 255
FORMULA_STARTS = "="
REPLACEMENT_CHARACTER = "\ufffd"  # what bytes invalid in the chosen encoding decode to


class Candidate(NamedTuple):
    """A row that can become a contact; its fields in the staging table's column order."""

    row: int
    email: str
    email_key: str  # what duplicates are found by (campaigns.emails.email_key)
    domain: str
    name: str
    attributes: str  # a JSON object of non-blank attribute cells


class Rejection(NamedTuple):
    row: int
    reason: str
    value: str  # the email cell as the file had it
    duplicate: bool = False  # the address came earlier in the file


class RowWarning(NamedTuple):
    """A row that became a candidate with a change the file's owner should hear about."""

    row: int
    message: str
    value: str  # the email cell as the file had it


class RowParser:
    """Turns rows into candidates or rejections under one mapping and encoding.

    Rows taken with a change (a name cut to NAME_MAX_LENGTH) are noted in `warnings`, in row
    order; the caller takes them away with each batch.
    """

    def __init__(self, mapping: Mapping, names: list[str], encoding: str):
        self.warnings: list[RowWarning] = []
        self.email = mapping.email
        self.name = mapping.name
        # Attributes become a JSON object built by hand from pre-quoted keys: json.dumps of
        # a small dict costs more than the rest of the row (2.5 µs against 1 µs).
        self.attributes = [(index, quote(names[index]) + ":") for index in mapping.attributes]
        self.width = max([mapping.email, mapping.name or 0, *mapping.attributes]) + 1
        self.encoding = encoding

    def parse(self, number: int, cells: list[str]) -> Candidate | Rejection:
        """The row's candidate contact, or why it cannot be one."""
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        value = cells[self.email].strip()
        if not value:
            return Rejection(number, "no email address", "")
        if value[0] in FORMULA_STARTS:
            return Rejection(number, "a spreadsheet formula, not an email address", value)
        name = cells[self.name].strip() if self.name is not None else ""
        attributes = (
            "{"
            + ",".join(
                [
                    key + quote(text)
                    for index, key in self.attributes
                    if (text := cells[index].strip())
                ]
            )
            + "}"
        )
        if (
            REPLACEMENT_CHARACTER in value
            or REPLACEMENT_CHARACTER in name
            or REPLACEMENT_CHARACTER in attributes
        ):
            return Rejection(
                number,
                f"holds bytes that are not valid {self.encoding}: is that the file's encoding?",
                value,
            )
        try:
            address = normalize_email(value)
        except InvalidEmailError as exc:
            return Rejection(number, f"invalid email address: {exc}", value)
        if len(name) > NAME_MAX_LENGTH:
            # A long name is most often a cell that swallowed its neighbours; the address is
            # still good, so the row is kept with the name cut, and the owner told.
            name = name[:NAME_MAX_LENGTH].rstrip()
            self.warnings.append(
                RowWarning(number, f"the name was cut to {NAME_MAX_LENGTH} characters", value)
            )
        return Candidate(number, address.email, address.key, address.domain, name, attributes)
