"""Lists: create, read with counts, rename, delete; a list's contacts and their memberships."""

from __future__ import annotations

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from campaigns.api.contacts import Attributes, ContactOut, Email, Name
from campaigns.emails import InvalidEmailError
from campaigns.models import Contact, ContactList, Membership
from campaigns.selectors.contacts import STATUS_FILTERS, list_contacts_page, list_summaries
from campaigns.services import contacts as contact_services
from campaigns.services import lists as list_services
from edm.rest.errors import Invalid
from edm.rest.pagination import (
    Page,
    PageParams,
    cursor_decode,
    cursor_encode,
    keyset_page,
    page_schema,
)
from edm.rest.types import Input, PathId, choice

router = Router(tags=["lists"])
MembershipStatus = choice(Membership.Status)


class ListIn(Input):
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=5000)


class ListPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)


class ListCounts(Schema):
    total: int
    subscribed: int = Field(..., description="Subscribed to this list, whatever their status.")
    unsubscribed: int
    sendable: int = Field(..., description="Subscribed, enabled: what a campaign would reach.")
    bounced: int
    complained: int
    blocklisted: int


class ListOut(Schema):
    id: int
    name: str
    description: str
    created_at: datetime
    counts: ListCounts


class MemberOut(Schema):
    contact: ContactOut
    status: MembershipStatus = Field(..., description="Subscription to this list.")
    added_at: datetime = Field(..., validation_alias="created_at")


class MemberIn(Input):
    email: Email
    name: Name = Field("", description="Used only when the contact is new.")
    attributes: Attributes = Field({}, description="Used only when the contact is new.")


class MemberFilter(PageParams):
    search: str = Field("", max_length=254, description="Email or name starts with this.")
    status: str = Field(
        "",
        pattern="^(" + "|".join(STATUS_FILTERS) + ")$",
        description="subscribed (to this list), or a contact status (enabled, bounced…).",
    )


ListPage = page_schema(ListOut)
MemberPage = page_schema(MemberOut)


def _out(contact_list: ContactList) -> dict:
    return _with_counts([contact_list])[0]


def _with_counts(lists: list[ContactList]) -> list[dict]:
    summaries = list_summaries(ContactList.objects.filter(pk__in=[item.pk for item in lists]))
    counts = {s.contact_list.pk: s for s in summaries}
    out = []
    for item in lists:
        summary = counts[item.pk]
        by_status = summary.by_contact_status
        out.append(
            {
                "id": item.pk,
                "name": item.name,
                "description": item.description,
                "created_at": item.created_at,
                "counts": {
                    "total": summary.total,
                    "subscribed": summary.subscribed,
                    "unsubscribed": summary.unsubscribed,
                    "sendable": summary.sendable,
                    "bounced": by_status.get(Contact.Status.BOUNCED, 0),
                    "complained": by_status.get(Contact.Status.COMPLAINED, 0),
                    "blocklisted": by_status.get(Contact.Status.BLOCKLISTED, 0),
                },
            }
        )
    return out


@router.get("", response=ListPage, summary="Lists, with their counts")
def list_index(request, page: Query[PageParams]):
    found = keyset_page(ContactList.objects.all(), page)
    return Page(_with_counts(found.items), found.next)


@router.post("", response={201: ListOut}, summary="Create a list")
def list_create(request, payload: ListIn):
    return Status(201, _out(list_services.list_create(**payload.model_dump())))


@router.get("/{int:list_id}", response=ListOut, summary="Get a list")
def list_get(request, list_id: PathId):
    return _out(get_object_or_404(ContactList, pk=list_id))


@router.patch("/{int:list_id}", response=ListOut, summary="Rename a list or change its text")
def list_update(request, list_id: PathId, payload: ListPatch):
    contact_list = get_object_or_404(ContactList, pk=list_id)
    list_services.list_update(
        contact_list,
        name=contact_list.name if payload.name is None else payload.name,
        description=contact_list.description
        if payload.description is None
        else payload.description,
    )
    return _out(contact_list)


@router.delete("/{int:list_id}", response={204: None}, summary="Delete a list (not its contacts)")
def list_delete(request, list_id: PathId):
    list_services.list_delete(get_object_or_404(ContactList, pk=list_id))
    return Status(204, None)


@router.get("/{int:list_id}/contacts", response=MemberPage, summary="A list's contacts")
def list_members(request, list_id: PathId, filters: Query[MemberFilter]):
    """In email order; `search` is an email or name prefix."""
    contact_list = get_object_or_404(ContactList, pk=list_id)
    page = list_contacts_page(
        contact_list,
        search=filters.search,
        status=filters.status,
        after=cursor_decode(filters.after, str) or "",
        size=filters.limit,
    )
    next_cursor = cursor_encode(page.next_after) if page.next_after is not None else None
    return Page(page.memberships, next_cursor)


@router.post(
    "/{int:list_id}/contacts",
    response={200: MemberOut, 201: MemberOut},
    summary="Put an address on the list (201 when its contact is new)",
)
def list_member_add(request, list_id: PathId, payload: MemberIn):
    """An existing contact keeps its data and status; an unsubscribed membership stays so."""
    contact_list = get_object_or_404(ContactList, pk=list_id)
    try:
        contact, created = contact_services.contact_add(
            contact_list=contact_list,
            email=payload.email,
            name=payload.name,
            attributes=payload.attributes,
        )
    except InvalidEmailError as exc:
        raise Invalid(str(exc), {"email": [str(exc)]}) from None
    membership = Membership.objects.select_related("contact").get(
        list=contact_list, contact=contact
    )
    return Status(201 if created else 200, membership)


@router.delete(
    "/{int:list_id}/contacts/{int:contact_id}",
    response={204: None},
    summary="Take a contact off the list",
)
def list_member_remove(request, list_id: PathId, contact_id: PathId):
    contact_services.membership_remove(
        contact_list=get_object_or_404(ContactList, pk=list_id),
        contact=get_object_or_404(Contact, pk=contact_id),
    )
    return Status(204, None)


@router.post(
    "/{int:list_id}/contacts/{int:contact_id}/unsubscribe",
    response={204: None},
    summary="Unsubscribe a contact from this list only",
)
def list_member_unsubscribe(request, list_id: PathId, contact_id: PathId):
    contact_services.membership_unsubscribe(
        contact_list=get_object_or_404(ContactList, pk=list_id),
        contact=get_object_or_404(Contact, pk=contact_id),
    )
    return Status(204, None)
