"""Upserting many contacts into a list at once (the API's bulk endpoint): an import without a file.

The rows go through the import's set-based staging (`import_stage.Stage`: one staging table,
one INSERT … ON CONFLICT for the contacts and one for the memberships), so a bulk upsert
means exactly what importing the same rows means: new contacts are created (with the status
a suppression of their address gives), existing ones get the new name and the attributes
merged in (never a new status), and every contact is put on the list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone

from campaigns.emails import InvalidEmailError, normalize_email
from campaigns.importing.rows import NAME_MAX_LENGTH, Candidate
from campaigns.models import ContactList, Import
from campaigns.services.import_stage import Stage

MAX_ROWS = 10_000
MODES = (Import.Mode.ADD_UPDATE, Import.Mode.ADD_ONLY)


class UpsertRow(NamedTuple):
    email: str
    name: str = ""
    attributes: Mapping[str, Any] = {}


class Rejected(NamedTuple):
    index: int  # position in the rows given, from 0
    email: str  # as given
    reason: str


@dataclass(frozen=True)
class UpsertOutcome:
    created: int = 0
    updated: int = 0
    added: int = 0  # put on the list now
    already_on_list: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def contacts_upsert(
    *,
    contact_list: ContactList,
    rows: Sequence[UpsertRow],
    mode: str = Import.Mode.ADD_UPDATE,
    source: str = "API",
) -> UpsertOutcome:
    """Create or update up to MAX_ROWS contacts and put them on the list, in one transaction.

    Rows that are not valid, or repeat an earlier row's address, are rejected by index.
    """
    if len(rows) > MAX_ROWS:
        raise ValueError(f"At most {MAX_ROWS} contacts at once.")
    if mode not in MODES:
        raise ValueError(f"{mode!r} is not one of {', '.join(MODES)}.")
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    candidates: list[Candidate] = []
    rejected: list[Rejected] = []
    first_index: dict[str, int] = {}
    for index, row in enumerate(rows):
        try:
            address = normalize_email(row.email)
        except InvalidEmailError as exc:
            rejected.append(Rejected(index, row.email, f"invalid email address: {exc}"))
            continue
        name = row.name.strip()
        if len(name) > NAME_MAX_LENGTH:
            rejected.append(
                Rejected(index, row.email, f"the name is longer than {NAME_MAX_LENGTH} characters")
            )
            continue
        key = address.key
        if (first := first_index.get(key)) is not None:
            rejected.append(Rejected(index, row.email, f"the same address as item {first}"))
            continue
        first_index[key] = index
        attributes = dumps(dict(row.attributes))
        candidates.append(Candidate(index, address.email, key, address.domain, name, attributes))
    if not candidates:
        return UpsertOutcome(rejected=rejected)
    stage = Stage(list_id=contact_list.pk, mode=mode, source=source)
    stage.open()
    try:
        with transaction.atomic():
            outcome = stage.write(candidates, timezone.now())
    finally:
        stage.close()
    return UpsertOutcome(
        created=outcome.created,
        updated=outcome.updated,
        added=outcome.added,
        already_on_list=outcome.already_on_list,
        rejected=sorted(
            [*rejected, *(Rejected(r.row, rows[r.row].email, r.reason) for r in outcome.erased)]
        ),
    )
