"""A campaign ready to build messages from: compiled templates and its DKIM signer.

Compiling takes tens of milliseconds, so a worker process keeps the last few started
campaigns it prepared (a started campaign's content can no longer change; drafts, previewed
and test-sent while being edited, are compiled afresh) and signers for a minute (a new DKIM
key is picked up without a restart).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from campaigns.models import Campaign
from campaigns.render_budget import RenderLimits
from campaigns.services.campaigns import campaign_content
from delivery.dkim import Signer
from delivery.domains import a_label
from delivery.engagement.links import links_store
from delivery.message import CampaignMessage, CompiledMessage, Sender, compile_message
from delivery.models import SenderDomain

_KEEP = 8
SIGNER_SECONDS = 60.0


@dataclass(frozen=True)
class PreparedCampaign:
    compiled: CompiledMessage
    signer: Signer | None  # None: no DKIM key for the sender's domain

    def sign(self, message: bytes) -> bytes:
        return self.signer.sign(message) if self.signer is not None else message


_campaigns: dict[tuple[int, float], CompiledMessage] = {}
_signers: dict[str, tuple[float, Signer | None]] = {}


def prepared_campaign(campaign: Campaign) -> PreparedCampaign:
    """Compile (or reuse) `campaign`; raises InvalidContentError or InvalidAddressError."""
    if campaign.started_at is None:
        compiled = compile_message(campaign_message(campaign))
    else:
        key = (campaign.pk, campaign.started_at.timestamp())
        compiled = _campaigns.get(key)
        if compiled is None:
            compiled = compile_message(campaign_message(campaign))
            links_store(campaign.pk, compiled.tracking.links)
            if len(_campaigns) >= _KEEP:
                _campaigns.pop(next(iter(_campaigns)))
            _campaigns[key] = compiled
    return PreparedCampaign(compiled, signer_for(campaign.sender_domain))


def campaign_message(campaign: Campaign) -> CampaignMessage:
    """What every message of `campaign` shares, with the settings it needs."""
    return CampaignMessage(
        campaign_id=campaign.pk,
        campaign_name=campaign.name,
        content=campaign_content(campaign),
        sender=Sender(campaign.from_name, campaign.from_email, campaign.reply_to),
        public_url=settings.EDM_PUBLIC_URL,
        bounce_domain=settings.EDM_BOUNCE_DOMAIN,
        secret=settings.SECRET_KEY,
        list_name=campaign.name,
        limits=RenderLimits.from_settings(settings),
        track_opens=settings.EDM_TRACKING and campaign.track_opens,
        track_clicks=settings.EDM_TRACKING and campaign.track_clicks,
    )


def signer_for(domain: str) -> Signer | None:
    """The DKIM signer of a sender domain, or None when it has no key."""
    now = time.monotonic()
    cached = _signers.get(domain)
    if cached is not None and now - cached[0] < SIGNER_SECONDS:
        return cached[1]
    # Sender domains are stored in A-label form, as DKIM's d= and DNS need them.
    row = SenderDomain.objects.filter(domain=a_label(domain)).first()
    signer = (
        Signer(domain=row.domain, selector=row.selector, private_key_pem=row.private_key_pem)
        if row is not None
        else None
    )
    _signers[domain] = (now, signer)
    return signer
