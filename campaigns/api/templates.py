"""Templates: create, read, change, delete, and render a preview for a contact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from campaigns.api.contacts import Email, Name
from campaigns.models import Contact, Template
from campaigns.selectors.contact_search import contact_by_email
from campaigns.selectors.previews import template_preview
from campaigns.services import templates as template_services
from campaigns.templating import InvalidContentError, TemplateRenderError
from edm.rest.errors import Invalid
from edm.rest.pagination import PageParams, keyset_page, page_schema
from edm.rest.types import Id, Input, PathId, choice

router = Router(tags=["templates"])
TemplateKind = choice(Template.Kind)

Warnings = dict[str, list[str]]


class TemplateOut(Schema):
    id: int
    name: str
    kind: TemplateKind
    subject: str
    html: str
    text: str
    layout: int | None = Field(..., validation_alias="layout_id")
    created_at: datetime
    updated_at: datetime


class TemplateSavedOut(TemplateOut):
    warnings: Warnings = Field(
        {}, description="Things that are valid but look wrong (unknown variables…), by part."
    )


class TemplateIn(Input):
    name: str = Field(..., min_length=1, max_length=200)
    kind: TemplateKind = Template.Kind.MESSAGE
    subject: str = Field("", max_length=998)
    html: str = ""
    text: str = Field("", description="Empty: read from the HTML.")
    layout: Id | None = Field(None, description="Id of a layout template to place the HTML in.")


class TemplatePatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: TemplateKind | None = None
    subject: str | None = Field(None, max_length=998)
    html: str | None = None
    text: str | None = None
    layout: Id | None = None


class PreviewIn(Input):
    contact: Id | None = Field(None, description="Id of the contact to render for.")
    email: Email = Field("", description="Or an address (its contact's data is used if any).")
    name: Name = ""
    data: dict[str, Any] = Field({}, description="Merged over the contact's attributes.")


class PreviewOut(Schema):
    subject: str
    html: str
    text: str


class TemplateFilter(PageParams):
    kind: TemplateKind | None = None


TemplatePage = page_schema(TemplateOut)


def _layout(layout_id: int | None) -> Template | None:
    if layout_id is None:
        return None
    layout = Template.objects.filter(pk=layout_id, kind=Template.Kind.LAYOUT).first()
    if layout is None:
        raise Invalid("That is not a layout.", {"layout": [f"no layout with id {layout_id}"]})
    return layout


def _saved(saved: template_services.Saved) -> Template:
    template = saved.template
    template.warnings = {
        str(part): [str(p) for p in found] for part, found in saved.warnings.items()
    }
    return template


@router.get("", response=TemplatePage, summary="Templates")
def template_index(request, filters: Query[TemplateFilter]):
    templates = Template.objects.all()
    if filters.kind:
        templates = templates.filter(kind=filters.kind)
    return keyset_page(templates, filters)


@router.post("", response={201: TemplateSavedOut}, summary="Create a template")
def template_create(request, payload: TemplateIn):
    """Only valid Jinja2 is saved (422 names the part and line); warnings come back."""
    fields = payload.model_dump()
    fields["layout"] = _layout(payload.layout)
    return Status(201, _saved(template_services.template_save(None, **fields)))


@router.get("/{int:template_id}", response=TemplateOut, summary="Get a template")
def template_get(request, template_id: PathId):
    return get_object_or_404(Template, pk=template_id)


@router.patch("/{int:template_id}", response=TemplateSavedOut, summary="Change a template")
def template_update(request, template_id: PathId, payload: TemplatePatch):
    template = get_object_or_404(Template, pk=template_id)
    # Null keeps a field as it is, except the layout, where it means "no layout".
    given = {
        name: value
        for name, value in payload.model_dump(exclude_unset=True).items()
        if value is not None or name == "layout"
    }
    fields = {
        name: given.get(name, getattr(template, name))
        for name in ("name", "kind", "subject", "html", "text")
    }
    fields["layout"] = _layout(given["layout"]) if "layout" in given else template.layout
    return _saved(template_services.template_save(template, **fields))


@router.delete("/{int:template_id}", response={204: None}, summary="Delete a template")
def template_delete(request, template_id: PathId):
    """Campaigns keep the content they copied; a layout still in use answers 409."""
    template_services.template_delete(get_object_or_404(Template, pk=template_id))
    return Status(204, None)


@router.post("/{int:template_id}/preview", response=PreviewOut, summary="Render for a contact")
def template_render(request, template_id: PathId, payload: PreviewIn):
    """What the contact (or address) would get; links to unsubscribe are inert placeholders."""
    template = get_object_or_404(Template.objects.select_related("layout"), pk=template_id)
    contact = None
    if payload.contact is not None:
        contact = Contact.objects.filter(pk=payload.contact).first()
        if contact is None:
            raise Invalid(
                "No such contact.", {"contact": [f"no contact with id {payload.contact}"]}
            )
    elif payload.email:
        contact = contact_by_email(payload.email)
    try:
        rendered = template_preview(
            template, contact=contact, email=payload.email, name=payload.name, data=payload.data
        )
    except (InvalidContentError, TemplateRenderError) as exc:
        raise Invalid(f"The template cannot be rendered: {exc}", {"template": [str(exc)]}) from None
    return rendered._asdict()
