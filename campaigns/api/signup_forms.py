"""Sign-up forms: list, create, read (with the hosted URL and the snippet); a contact's consents.

Creating a form goes through the dashboard's own settings form (`SignupFormForm`), so both
check the same things and the API has no rule of its own.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from campaigns.forms import SignupFormForm
from campaigns.models import Consent, Contact, SignupForm
from campaigns.services.signup_forms import signup_form_save
from campaigns.signup_entry import embed_snippet
from campaigns.signup_tokens import form_url
from edm.rest.errors import Invalid
from edm.rest.pagination import Page, PageParams, keyset_page, page_schema
from edm.rest.types import Id, Input, PathId, choice

router = Router(tags=["sign-up forms"])
OptIn = choice(SignupForm.OptIn)
ConsentMethod = choice(Consent.Method)


class AttributeField(Schema):
    key: str = Field(..., pattern=r"^[A-Za-z0-9_]{1,64}$")
    label: str = Field("", max_length=200, pattern=r"^[^\r\n]*$")


class SignupFormIn(Input):
    name: str = Field(..., min_length=1, max_length=200)
    lists: list[Id] = Field(..., min_length=1, max_length=100)
    visitor_chooses_lists: bool = False
    asks_name: bool = True
    attribute_fields: list[AttributeField] = Field([], max_length=20)
    opt_in: OptIn = SignupForm.OptIn.DOUBLE
    consent_text: str = Field(..., min_length=1, max_length=5000)
    from_name: str = Field("", max_length=200)
    from_email: str = Field(..., max_length=254)
    confirmation_template: Id | None = None
    welcome_template: Id | None = None
    active: bool = True


class SignupFormOut(Schema):
    id: int
    name: str
    public_id: str
    hosted_url: str
    embed_html: str = Field(..., description="Plain HTML for another site; needs no script.")
    lists: list[int]
    visitor_chooses_lists: bool
    asks_name: bool
    attribute_fields: list[AttributeField]
    opt_in: OptIn
    consent_text: str
    from_name: str
    from_email: str
    confirmation_template: int | None
    welcome_template: int | None
    active: bool
    created_at: datetime


class ConsentOut(Schema):
    id: int
    list: int = Field(..., validation_alias="list_id")
    form: int | None = Field(..., validation_alias="form_id")
    method: ConsentMethod
    text: str
    client_address: str | None
    user_agent: str
    requested_at: datetime
    confirmed_at: datetime | None


SignupFormPage = page_schema(SignupFormOut)
ConsentPage = page_schema(ConsentOut)


def _out(form: SignupForm) -> dict:
    return {
        "id": form.pk,
        "name": form.name,
        "public_id": form.public_id,
        "hosted_url": form_url(settings.EDM_PUBLIC_URL, form.public_id),
        "embed_html": embed_snippet(form),
        "lists": sorted(item.pk for item in form.lists.all()),
        "visitor_chooses_lists": form.visitor_chooses_lists,
        "asks_name": form.asks_name,
        "attribute_fields": form.attribute_fields,
        "opt_in": form.opt_in,
        "consent_text": form.consent_text,
        "from_name": form.from_name,
        "from_email": form.from_email,
        "confirmation_template": form.confirmation_template_id,
        "welcome_template": form.welcome_template_id,
        "active": form.active,
        "created_at": form.created_at,
    }


@router.get("/forms", response=SignupFormPage, summary="Sign-up forms")
def signup_form_index(request, page: Query[PageParams]):
    found = keyset_page(SignupForm.objects.prefetch_related("lists"), page)
    return Page([_out(form) for form in found.items], found.next)


@router.post("/forms", response={201: SignupFormOut}, summary="Create a sign-up form")
def signup_form_create(request, payload: SignupFormIn):
    values = payload.model_dump()
    fields = values.pop("attribute_fields")
    values["attribute_lines"] = "\n".join(f"{f['key']}: {f['label'] or f['key']}" for f in fields)
    form = SignupFormForm(
        {key: value for key, value in values.items() if value is not None}, instance=SignupForm()
    )
    if not form.is_valid():
        problems = {
            "attribute_fields" if name == "attribute_lines" else name: messages
            for name, messages in form.errors.items()
        }
        raise Invalid("The sign-up form cannot be saved as given.", problems)
    return Status(201, _out(signup_form_save(form)))


@router.get("/forms/{int:form_id}", response=SignupFormOut, summary="Get a sign-up form")
def signup_form_get(request, form_id: PathId):
    return _out(get_object_or_404(SignupForm, pk=form_id))


@router.get(
    "/contacts/{int:contact_id}/consents",
    response=ConsentPage,
    summary="A contact's consents: when, where from and what they agreed to",
)
def contact_consents(request, contact_id: PathId, page: Query[PageParams]):
    contact = get_object_or_404(Contact, pk=contact_id)
    return keyset_page(Consent.objects.filter(contact=contact), page)
