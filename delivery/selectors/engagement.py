"""A campaign's opens and clicks as reports show them, read from the engagement counters.

Like the other report selectors, each function reads aggregate rows (EngagementStats,
HourEngagement, Link, SiteEngagement) or a bounded number of them: the cost does not grow
with the campaign's deliveries or events.

Rates are ratios (0.0–1.0), or None while what they divide by is zero: the open rate and the
click-through rate are unique people among the messages delivered (sent), the click-to-open
rate is people who clicked among people who opened. Machine opens and bot clicks are never
in them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from campaigns.models import Campaign
from delivery.models import (
    EngagementStats,
    HourEngagement,
    Link,
    LinkClick,
    SiteEngagement,
    SiteStats,
)
from delivery.selectors.reports import EpochSeconds

CHART_POINTS = 720  # at most this many points (30 days of hours)
TOP_LINKS = 10
SITE_ROWS = 25


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Engagement:
    delivered: int = 0
    opened: int = 0  # unique people
    clicked: int = 0  # unique people
    opens: int = 0  # every open by a person
    clicks: int = 0  # every click by a person
    opens_machine: int = 0
    clicks_bot: int = 0

    @property
    def open_rate(self) -> float | None:
        return _ratio(self.opened, self.delivered)

    @property
    def click_rate(self) -> float | None:
        return _ratio(self.clicked, self.delivered)

    @property
    def click_to_open_rate(self) -> float | None:
        return _ratio(self.clicked, self.opened)

    def as_dict(self) -> dict[str, object]:
        """The counters and rates, for the live report's JSON."""
        names = ["opened", "clicked", "opens", "clicks", "opens_machine", "clicks_bot"]
        names += ["open_rate", "click_rate", "click_to_open_rate"]
        return {name: getattr(self, name) for name in names}


@dataclass(frozen=True)
class EngagementChart:
    """People's opens and clicks per bucket of hours since the campaign started."""

    x: list[int]  # start of each bucket, in hours since the hour the campaign started
    opens: list[int]
    clicks: list[int]
    bucket: int  # hours per point

    def as_dict(self) -> dict[str, object]:
        """uPlot's column layout."""
        return {"x": self.x, "opens": self.opens, "clicks": self.clicks, "bucket": self.bucket}


@dataclass(frozen=True)
class SiteEngagementRow:
    site: str
    sent: int
    opened: int
    clicked: int

    @property
    def open_rate(self) -> float | None:
        return _ratio(self.opened, self.sent)

    @property
    def click_rate(self) -> float | None:
        return _ratio(self.clicked, self.sent)


def campaign_engagement(campaign: Campaign, *, delivered: int) -> Engagement:
    """The campaign's engagement counters (one query); `delivered` is its sent counter."""
    stats = EngagementStats.objects.filter(campaign=campaign).first()
    if stats is None:
        return Engagement(delivered=delivered)
    return Engagement(
        delivered=delivered,
        opened=stats.opened,
        clicked=stats.clicked,
        opens=stats.opens,
        clicks=stats.clicks,
        opens_machine=stats.opens_machine,
        clicks_bot=stats.clicks_bot,
    )


def campaign_engagement_chart(campaign: Campaign) -> EngagementChart:
    """Opens and clicks by people per hour since the campaign started (one query)."""
    rows = list(
        HourEngagement.objects.filter(campaign=campaign)
        .order_by("hour")
        .values_list(EpochSeconds("hour"), "opens", "clicks")
    )
    if not rows:
        return EngagementChart([], [], [], 1)
    start = campaign.started_at.timestamp() // 3600 * 3600 if campaign.started_at else rows[0][0]
    first = int(min(start, rows[0][0]))
    span = (rows[-1][0] - first) // 3600 + 1
    bucket = max(1, math.ceil(span / CHART_POINTS))
    points = math.ceil(span / bucket)
    opens, clicks = [0] * points, [0] * points
    for at, o, c in rows:
        i = (at - first) // 3600 // bucket
        opens[i] += o
        clicks[i] += c
    return EngagementChart([i * bucket for i in range(points)], opens, clicks, bucket)


@dataclass(frozen=True)
class EngagementReport:
    """What the report's engagement region and chart show."""

    engagement: Engagement
    chart: EngagementChart
    links: list[Link]
    sites: list[SiteEngagementRow]


def engagement_report_get(campaign: Campaign, *, delivered: int) -> EngagementReport:
    """The campaign's engagement for its report (five queries, any size)."""
    return EngagementReport(
        engagement=campaign_engagement(campaign, delivered=delivered),
        chart=campaign_engagement_chart(campaign),
        links=campaign_top_links(campaign),
        sites=campaign_engagement_sites(campaign),
    )


def links_followed(deliveries) -> dict[int, list[str]]:
    """The links each of these deliveries' recipient followed, first followed first (two
    queries; `deliveries` is a page of a contact's deliveries)."""
    campaign_of = {d.pk: d.campaign_id for d in deliveries}
    clicks = list(
        LinkClick.objects.filter(delivery_id__in=campaign_of)
        .order_by("at")
        .values_list("delivery_id", "link_index")
    )
    urls = dict(
        ((c, i), url)
        for c, i, url in Link.objects.filter(
            campaign_id__in={campaign_of[d] for d, _ in clicks}
        ).values_list("campaign_id", "index", "url")
    )
    followed: dict[int, list[str]] = {}
    for delivery_id, index in clicks:
        url = urls.get((campaign_of[delivery_id], index))
        if url is not None:
            followed.setdefault(delivery_id, []).append(url)
    return followed


def campaign_top_links(campaign: Campaign, *, limit: int = TOP_LINKS) -> list[Link]:
    """The campaign's most clicked links (by people), most first (one query)."""
    return list(Link.objects.filter(campaign=campaign).order_by("-clicks", "index")[:limit])


def campaign_engagement_sites(
    campaign: Campaign, *, limit: int = SITE_ROWS
) -> list[SiteEngagementRow]:
    """Unique opens and clicks per destination site, most opened first (two queries)."""
    rows = list(
        SiteEngagement.objects.filter(campaign=campaign)
        .order_by("-opened", "-clicked", "site")
        .values_list("site", "opened", "clicked")[:limit]
    )
    sent = dict(
        SiteStats.objects.filter(campaign=campaign, site__in=[r[0] for r in rows]).values_list(
            "site", "sent"
        )
    )
    return [SiteEngagementRow(site, sent.get(site, 0), o, c) for site, o, c in rows]
