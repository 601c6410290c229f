"""Previews of content: rendered for one contact exactly as a recipient gets it.

Both the editor's live preview and the campaign page go through `compile_message` and
`render_recipient` of delivery/message.py, the path every sent message takes, so the CSS is
inlined, the layout applied and the links signed as in the real mail. The editor's rendered
HTML is kept in Redis for a few minutes under a slot the page chose, for its sandboxed iframe
to load from a URL (so the response can carry a Content-Security-Policy).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from django.conf import settings

from campaigns.models import Campaign, Contact
from campaigns.render_budget import RenderLimits
from campaigns.services.templates import content_check
from campaigns.templating import Content, Part, Problem, RenderedContent
from delivery.message import CampaignMessage, Recipient, Sender, compile_message, render_recipient
from delivery.prepared import campaign_message
from edm import redis as edm_redis

__all__ = [
    "LAYOUT_SAMPLE_BODY",
    "SAMPLE_RECIPIENT",
    "SLOT",
    "Preview",
    "campaign_preview",
    "content_preview",
    "preview_html",
    "preview_store",
    "recipient_of",
]

# Who a preview is rendered for when no contact is chosen.
SAMPLE_RECIPIENT = Recipient(delivery_id=0, contact_id=0, email="alex@example.com", name="Alex")
# What a layout is previewed with at its {{ content }}.
LAYOUT_SAMPLE_BODY = (
    "<h1>The message goes here</h1><p>A campaign using this layout puts its HTML body in place "
    "of <code>{{ '{{ content }}' }}</code>.</p>"
)
# The sender is not part of what is previewed, but building needs a valid one.
_PREVIEW_SENDER = Sender(name="", address="preview@example.com")
SLOT = re.compile(r"[0-9a-f]{32}")
_SLOT_SECONDS = 600


def recipient_of(contact: Contact | None) -> Recipient:
    """The recipient a contact would be (the sample recipient for None)."""
    if contact is None:
        return SAMPLE_RECIPIENT
    return Recipient(
        delivery_id=0,
        contact_id=contact.pk,
        email=contact.email,
        name=contact.name,
        attributes=contact.attributes,
    )


class Preview(NamedTuple):
    rendered: RenderedContent
    warnings: dict[Part, list[Problem]]  # what saving would warn about (unknown variables…)


def content_preview(
    content: Content, recipient: Recipient, *, campaign_id: int = 0, campaign_name: str = ""
) -> Preview:
    """Check unsaved content as saving would, then render it for one recipient.

    Raises TemplateInvalidError (errors with line and column, by part) or TemplateRenderError
    (the template failed for this recipient, sandbox escapes included).
    """
    warnings = content_check(content)
    compiled = compile_message(
        CampaignMessage(
            campaign_id=campaign_id,
            campaign_name=campaign_name,
            content=content,
            sender=_PREVIEW_SENDER,
            public_url=settings.EDM_PUBLIC_URL,
            bounce_domain=settings.EDM_BOUNCE_DOMAIN,
            secret=settings.SECRET_KEY,
            limits=RenderLimits.from_settings(settings),
        )
    )
    return Preview(render_recipient(compiled, recipient), warnings)


def campaign_preview(campaign: Campaign, recipient: Recipient) -> RenderedContent:
    """Render a campaign's saved content for one recipient; raises like content_preview."""
    return render_recipient(compile_message(campaign_message(campaign)), recipient)


def preview_store(slot: str, html: str) -> None:
    """Keep an editor's latest rendered HTML for its iframe (replacing the one before)."""
    edm_redis.connection().set(_key(slot), html.encode("utf-8"), ex=_SLOT_SECONDS)


def preview_html(slot: str) -> str | None:
    """The HTML last stored in a slot, or None once it expired."""
    stored = edm_redis.connection().get(_key(slot))
    return stored.decode("utf-8") if stored is not None else None


def _key(slot: str) -> str:
    if not SLOT.fullmatch(slot):
        raise ValueError(f"{slot!r} is not a preview slot")
    return f"edm:preview:{slot}"
