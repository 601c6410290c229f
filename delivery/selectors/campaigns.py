"""The campaign list: campaigns newest first with their counters, by status, keyset pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from campaigns.models import Campaign
from delivery.selectors.counters import Counters, stats_of

LIST_PAGE = 25
# A campaign's content can be tens of kilobytes; the dashboards never show it.
CONTENT_FIELDS = ("html", "text")


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    counters: Counters


@dataclass(frozen=True)
class CampaignPage:
    rows: list[CampaignRow]
    next_before: int | None  # the `before` cursor of the next page; None on the last page
    by_status: dict[str, int]  # how many campaigns each status filter would show


def campaign_list_page(
    *, status: str = "", before: int | None = None, size: int = LIST_PAGE
) -> CampaignPage:
    """Campaigns newest first with their counters, after a keyset cursor (2 queries)."""
    campaigns = Campaign.objects.select_related("stats").defer(*CONTENT_FIELDS).order_by("-id")
    if status:
        campaigns = campaigns.filter(status=status)
    if before is not None:
        campaigns = campaigns.filter(id__lt=before)
    found = list(campaigns[: size + 1])
    rows = [CampaignRow(c, Counters.of(stats_of(c))) for c in found[:size]]
    counts = dict(
        Campaign.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return CampaignPage(rows, rows[-1].campaign.pk if len(found) > size else None, counts)
