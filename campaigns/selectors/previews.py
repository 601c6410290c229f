"""Previews: what a template renders to for one contact (or an address and some data).

Rendered with the same `render()` that builds every message, so a preview shows what the
person would get; its unsubscribe and view-online links are inert placeholders (a working
unsubscribe link in a preview would unsubscribe whoever clicks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from campaigns.models import Contact, Template
from campaigns.render_budget import RenderLimits
from campaigns.templating import Content, RenderedContent, TemplateContact, compile_content, render

PLACEHOLDER_UNSUBSCRIBE = "#unsubscribe"
PLACEHOLDER_VIEW = "#view-online"


def template_content(template: Template) -> Content:
    """A message template's sources, with its layout's HTML."""
    return Content(
        subject=template.subject,
        html=template.html,
        text=template.text,
        layout=template.layout.html if template.layout_id else "",
    )


def template_preview(
    template: Template,
    *,
    contact: Contact | None = None,
    email: str = "",
    name: str = "",
    data: Mapping[str, Any] | None = None,
) -> RenderedContent:
    """The template rendered for `contact`, or for an address that is no contact.

    `data` is merged over the contact's attributes (templates read both as
    `contact.attributes.<key>`). Raises InvalidContentError or TemplateRenderError.
    """
    compiled = compile_content(
        template_content(template),
        campaign_name=template.name,
        limits=RenderLimits.from_settings(settings),
    )
    attributes = {**(contact.attributes if contact else {}), **(data or {})}
    recipient = TemplateContact(
        contact.email if contact else email,
        name or (contact.name if contact else ""),
        attributes,
    )
    return render(
        compiled,
        recipient,
        unsubscribe_url=PLACEHOLDER_UNSUBSCRIBE,
        view_online_url=PLACEHOLDER_VIEW,
    )
