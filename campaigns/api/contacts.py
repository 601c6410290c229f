"""Contacts: create, read (by id or address), search, update, delete, bulk upsert; export and
erase one contact's data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from campaigns.emails import InvalidEmailError
from campaigns.exports import contact_export_response
from campaigns.models import Contact, ContactList, Import
from campaigns.selectors.contact_search import contact_by_email, contacts_matching
from campaigns.selectors.data_rights import FORMAT as EXPORT_FORMAT
from campaigns.selectors.data_rights import SECTIONS
from campaigns.services import contacts as contact_services
from campaigns.services import data_rights
from campaigns.services.contact_upsert import MAX_ROWS, UpsertRow, contacts_upsert
from edm.rest.errors import Invalid, NotFound
from edm.rest.pagination import PageParams, keyset_page, page_schema
from edm.rest.types import Id, Input, PathId, choice

router = Router(tags=["contacts"])
ContactStatus = choice(Contact.Status)

AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=100)]
AttributeValue = str | int | float | bool
Attributes = dict[AttributeKey, AttributeValue]
Email = Annotated[str, StringConstraints(max_length=320)]
Name = Annotated[str, StringConstraints(max_length=255)]


class ContactOut(Schema):
    id: int
    email: str
    name: str
    attributes: dict[str, Any]
    status: ContactStatus
    do_not_track: bool
    created_at: datetime
    updated_at: datetime


class ListStatusOut(Schema):
    list: int = Field(..., validation_alias="list_id")
    status: str


class ContactDetailOut(ContactOut):
    lists: list[ListStatusOut] = Field(..., validation_alias="memberships")


class ContactIn(Input):
    email: Email
    name: Name = ""
    attributes: Attributes = {}
    lists: list[Id] = Field([], description="Ids of lists to subscribe the contact to.")
    do_not_track: bool = Field(False, description="Never track this person's opens and clicks.")


class ContactPatch(Input):
    email: Email | None = None
    name: Name | None = None
    attributes: Attributes | None = Field(None, description="Replaces all attributes.")
    do_not_track: bool | None = None


class ContactFilter(PageParams):
    search: str = Field("", max_length=254, description="Email or name starts with this.")
    status: ContactStatus | None = None
    list: Id | None = Field(None, description="Only contacts on this list.")


class BulkRow(Input):
    email: Email
    name: Name = ""
    attributes: Attributes = {}


# Module-level names: in a class with a field called `list`, `list[...]` would mean the field.
BulkRows = list[BulkRow]


class BulkIn(Input):
    list: Id = Field(..., description="The list every contact is put on.")
    mode: Annotated[str, Field(pattern="^(add_update|add_only)$")] = Field(
        Import.Mode.ADD_UPDATE,
        description="add_update: update existing contacts too; add_only: leave them as they are.",
    )
    contacts: BulkRows = Field(..., min_length=1, max_length=MAX_ROWS)


class RejectedOut(Schema):
    index: int
    email: str
    reason: str


class BulkOut(Schema):
    created: int
    updated: int
    added: int = Field(..., description="Contacts put on the list by this request.")
    already_on_list: int
    rejected: list[RejectedOut]


ContactPage = page_schema(ContactOut)
Rows = list[dict[str, Any]]


class ContactExportOut(Schema):
    """campaigns/selectors/data_rights.py: each section a list of rows, oldest first."""

    format: str = Field(..., description=f"{EXPORT_FORMAT!r}; a new version changes it.")
    exported_at: datetime
    contact: ContactOut
    memberships: Rows
    consents: Rows
    deliveries: Rows
    bounces: Rows
    complaints: Rows
    unsubscribes: Rows
    transactional: Rows
    suppressions: Rows


# A section added to the export without a field here would go undocumented.
assert {s.name for s in SECTIONS} <= set(ContactExportOut.model_fields), "document the section"


class ErasedOut(Schema):
    """Rows changed, by table: campaigns/services/data_rights.py says what each keeps."""

    contacts: int = Field(..., description="The contact, and any with its address in another case.")
    deliveries: int
    cancelled: int = Field(..., description="Deliveries that had not gone out, now cancelled.")
    bounce_events: int
    inbound_messages: int
    tx_messages: int
    captured_messages: int
    import_rejections: int


def _contact(contact_id: int) -> Contact:
    return get_object_or_404(Contact.objects.prefetch_related("memberships"), pk=contact_id)


def _lists(ids: list[int], field: str = "lists") -> list[ContactList]:
    found = list(ContactList.objects.filter(pk__in=ids))
    missing = sorted(set(ids) - {item.pk for item in found})
    if missing:
        raise Invalid(
            "Some lists do not exist.", {field: [f"no list with id {i}" for i in missing]}
        )
    return found


@router.get("", response=ContactPage, summary="Search contacts")
def contact_index(request, filters: Query[ContactFilter]):
    contacts = contacts_matching(
        search=filters.search, status=filters.status or "", list_id=filters.list
    )
    return keyset_page(contacts, filters)


@router.post("", response={201: ContactDetailOut}, summary="Create a contact")
def contact_create(request, payload: ContactIn):
    lists = _lists(payload.lists)
    try:
        contact = contact_services.contact_create(
            email=payload.email,
            name=payload.name,
            attributes=payload.attributes,
            lists=lists,
            do_not_track=payload.do_not_track,
        )
    except InvalidEmailError as exc:
        raise Invalid(str(exc), {"email": [str(exc)]}) from None
    return Status(201, _contact(contact.pk))


@router.get("/by-email", response=ContactDetailOut, summary="Find a contact by email address")
def contact_find(request, email: Email):
    contact = contact_by_email(email)
    if contact is None:
        raise NotFound(f"No contact has the address {email}.")
    return _contact(contact.pk)


@router.post("/bulk", response=BulkOut, summary=f"Create or update up to {MAX_ROWS} contacts")
def contact_bulk_upsert(request, payload: BulkIn):
    """Every valid row becomes a contact on the list (as an import of the same rows would);
    invalid or repeated rows are listed in `rejected` by their index."""
    contact_list = _lists([payload.list], "list")[0]
    outcome = contacts_upsert(
        contact_list=contact_list,
        rows=[UpsertRow(r.email, r.name, r.attributes) for r in payload.contacts],
        mode=payload.mode,
        source=f"API, {request.user.get_username()}",
    )
    return outcome


@router.get("/{int:contact_id}", response=ContactDetailOut, summary="Get a contact")
def contact_get(request, contact_id: PathId):
    return _contact(contact_id)


@router.patch("/{int:contact_id}", response=ContactDetailOut, summary="Change a contact")
def contact_update(request, contact_id: PathId, payload: ContactPatch):
    contact = _contact(contact_id)
    try:
        contact_services.contact_update(
            contact,
            email=contact.email if payload.email is None else payload.email,
            name=contact.name if payload.name is None else payload.name,
            attributes=contact.attributes if payload.attributes is None else payload.attributes,
            do_not_track=(
                contact.do_not_track if payload.do_not_track is None else payload.do_not_track
            ),
        )
    except InvalidEmailError as exc:
        raise Invalid(str(exc), {"email": [str(exc)]}) from None
    return _contact(contact_id)


@router.delete("/{int:contact_id}", response={204: None}, summary="Delete a contact")
def contact_delete(request, contact_id: PathId):
    """The contact leaves every list; suppressions of its address stay."""
    contact_services.contact_delete(get_object_or_404(Contact, pk=contact_id))
    return Status(204, None)


@router.get(
    "/{int:contact_id}/export",
    response=ContactExportOut,
    summary="Export everything kept about a contact (JSON)",
)
def contact_export(request, contact_id: PathId):
    """Streamed, and recorded with the token that asked (the contact page lists exports)."""
    contact = get_object_or_404(Contact, pk=contact_id)
    data_rights.contact_export(contact, by=request.user, token=request.auth)
    return contact_export_response(contact)


@router.post(
    "/{int:contact_id}/erase",
    response=ErasedOut,
    summary="Erase a contact: personal data removed, a hashed suppression kept",
)
def contact_erase(request, contact_id: PathId):
    """Cannot be undone. The address (any case) is refused from then on by contact creation,
    imports, bulk upserts and transactional mail, until its hashed suppression is removed."""
    contact = get_object_or_404(Contact, pk=contact_id)
    outcome = data_rights.contact_erase(contact, by=request.user, token=request.auth)
    return outcome._asdict()
