"""What happened to a campaign: its counters, its sites, its deliveries and their attempts, and
the bounces of every campaign.

Counters are read from CampaignStats and SiteStats, kept while mail flows, so polling them
costs one row however large the campaign.
"""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from campaigns.models import Campaign
from delivery.models import Attempt, CampaignStats, Delivery, Link, SiteStats
from delivery.selectors.engagement import campaign_engagement
from edm.rest.pagination import PageParams, keyset_page, page_schema
from edm.rest.types import Id, PathId, choice

router = Router(tags=["reports"])
CampaignStatus = choice(Campaign.Status)
DeliveryStatus = choice(Delivery.Status)


class StatsOut(Schema):
    campaign: int
    status: CampaignStatus
    audience: int = Field(..., description="Deliveries planned; the rest add up to it.")
    queued: int
    deferred: int
    sent: int
    bounced: int
    bounced_hard: int
    bounced_soft: int
    failed: int
    cancelled: int
    complained: int = Field(..., description="Counted among sent.")
    unsubscribed: int = Field(..., description="Counted among sent.")
    sender_rejected: int = Field(..., description="Bounces about us (blocked, spam…): an alarm.")
    pending: int = Field(..., description="queued + deferred")
    opened: int = Field(..., description="Unique people who opened (or clicked).")
    opened_machine: int = Field(..., description="Opens by privacy proxies and prefetchers.")
    clicked: int = Field(..., description="Unique people who followed a link.")
    clicked_bot: int = Field(..., description="Clicks by link scanners.")
    updated_at: dt.datetime | None


class LinkOut(Schema):
    id: int
    index: int = Field(..., description="The link's number in the campaign's content.")
    url: str
    clicks: int = Field(..., description="Clicks by people.")
    unique_clicks: int = Field(..., description="People who followed it.")
    bot_clicks: int = Field(..., description="Clicks by link scanners.")


class SiteStatsOut(Schema):
    site: str
    queued: int
    deferred: int
    sent: int
    bounced: int
    failed: int
    last_code: int | None
    last_reply: str
    last_at: dt.datetime | None


class AttemptOut(Schema):
    at: dt.datetime
    outcome: str
    host: str
    address: str
    tls_version: str
    tls_fallback: bool
    code: int | None
    enhanced: str
    text: str


class DeliveryOut(Schema):
    id: int
    campaign: int = Field(..., validation_alias="campaign_id")
    contact: int | None = Field(..., validation_alias="contact_id")
    email: str
    site: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime | None
    last_code: int | None
    last_enhanced: str
    last_reply: str
    reason: str = Field(..., description="Bounce taxonomy, e.g. userunknown, mailboxfull.")
    hard: bool | None
    sent_at: dt.datetime | None
    updated_at: dt.datetime


class DeliveryDetailOut(DeliveryOut):
    attempt_log: list[AttemptOut]


class DeliveryFilter(PageParams):
    status: DeliveryStatus | None = None
    email: str | None = Field(None, max_length=254, description="Exactly this address.")


class BounceFilter(PageParams):
    campaign: Id | None = None
    reason: str | None = Field(None, max_length=32)
    hard: bool | None = None


SitePage = page_schema(SiteStatsOut)
LinkPage = page_schema(LinkOut)
DeliveryPage = page_schema(DeliveryOut)
BouncePage = page_schema(DeliveryOut, "BouncePage")


def _campaign(campaign_id: int) -> Campaign:
    return get_object_or_404(Campaign, pk=campaign_id)


@router.get("/campaigns/{int:campaign_id}/stats", response=StatsOut, summary="Campaign counters")
def campaign_stats(request, campaign_id: PathId):
    """All zero until the campaign is planned (a few seconds after it starts)."""
    campaign = _campaign(campaign_id)
    stats = CampaignStats.objects.filter(campaign=campaign).first() or CampaignStats(
        campaign=campaign
    )
    engagement = campaign_engagement(campaign, delivered=stats.sent)
    return {
        "campaign": campaign.pk,
        "status": campaign.status,
        "audience": stats.audience,
        "queued": stats.queued,
        "deferred": stats.deferred,
        "sent": stats.sent,
        "bounced": stats.bounced,
        "bounced_hard": stats.bounced_hard,
        "bounced_soft": stats.bounced_soft,
        "failed": stats.failed,
        "cancelled": stats.cancelled,
        "complained": stats.complained,
        "unsubscribed": stats.unsubscribed,
        "sender_rejected": stats.sender_rejected,
        "pending": stats.pending,
        "opened": engagement.opened,
        "opened_machine": engagement.opens_machine,
        "clicked": engagement.clicked,
        "clicked_bot": engagement.clicks_bot,
        "updated_at": stats.updated_at,
    }


@router.get(
    "/campaigns/{int:campaign_id}/links", response=LinkPage, summary="Clicks per tracked link"
)
def campaign_links(request, campaign_id: PathId, page: Query[PageParams]):
    """The campaign's tracked links, each stored once, in the order of the content."""
    return keyset_page(Link.objects.filter(campaign=_campaign(campaign_id)), page)


@router.get(
    "/campaigns/{int:campaign_id}/sites", response=SitePage, summary="Counters per destination"
)
def campaign_sites(request, campaign_id: PathId, page: Query[PageParams]):
    """A site is a group of domains served by the same mail servers (all of Google's, …)."""
    return keyset_page(SiteStats.objects.filter(campaign=_campaign(campaign_id)), page)


@router.get(
    "/campaigns/{int:campaign_id}/deliveries",
    response=DeliveryPage,
    summary="A campaign's deliveries",
)
def campaign_deliveries(request, campaign_id: PathId, filters: Query[DeliveryFilter]):
    deliveries = Delivery.objects.filter(campaign=_campaign(campaign_id))
    if filters.status:
        deliveries = deliveries.filter(status=filters.status)
    if filters.email:
        deliveries = deliveries.filter(email=filters.email.strip())
    return keyset_page(deliveries, filters)


@router.get(
    "/campaigns/{int:campaign_id}/deliveries/{int:delivery_id}",
    response=DeliveryDetailOut,
    summary="A delivery and its attempts",
)
def campaign_delivery(request, campaign_id: PathId, delivery_id: PathId):
    delivery = get_object_or_404(Delivery, pk=delivery_id, campaign_id=campaign_id)
    # Attempts are bounded by the retry schedule: a few dozen within any retry window.
    delivery.attempt_log = list(Attempt.objects.filter(delivery=delivery).order_by("at", "id"))
    return delivery


@router.get("/bounces", response=BouncePage, summary="Bounced and failed deliveries")
def bounce_index(request, filters: Query[BounceFilter]):
    """Deliveries of every campaign that bounced (reason, hard/soft) or failed (gave up)."""
    deliveries = Delivery.objects.filter(
        status__in=[Delivery.Status.BOUNCED, Delivery.Status.FAILED]
    )
    if filters.campaign is not None:
        deliveries = deliveries.filter(campaign_id=filters.campaign)
    if filters.reason:
        deliveries = deliveries.filter(reason=filters.reason)
    if filters.hard is not None:
        deliveries = deliveries.filter(hard=filters.hard)
    return keyset_page(deliveries, filters)
