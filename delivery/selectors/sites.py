"""Reading sites for the Delivery pages: limits in force, live throttle state, batches, totals.

A page of sites costs one query per table (SiteStats totals, SiteSetting overrides, Batch
counts), whatever the number of sites, plus one Redis script call per site shown for its
live state. `site_states` reads the live state of many sites for the reports: one query for
their overrides and one pipelined Redis round trip; when Redis does not answer, the states
are unknown and the page still renders.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import redis
from django.db.models import Count, F, Max, OuterRef, Q, Subquery, Sum

from delivery.dispatch import throttle
from delivery.models import Batch, SiteSetting, SiteStats
from delivery.presets import DEFAULT_LIMITS, PRESETS, Preset, preset_for
from delivery.sites import SiteConfig, site_config_from
from delivery.throttle import SiteState, SiteStatus

log = logging.getLogger(__name__)

PAGE_SIZE = 200
ACTIVE_BATCHES = (Batch.State.PENDING, Batch.State.QUEUED, Batch.State.RUNNING)


@dataclass(frozen=True)
class BatchCounts:
    pending: int = 0
    queued: int = 0
    running: int = 0

    @property
    def active(self) -> int:
        return self.pending + self.queued + self.running


@dataclass(frozen=True)
class SiteTotals:
    """A site's deliveries summed over every campaign."""

    campaigns: int = 0
    queued: int = 0
    deferred: int = 0
    sent: int = 0
    bounced: int = 0
    failed: int = 0
    last_reply: str = ""
    last_at: datetime | None = None


@dataclass(frozen=True)
class SiteOverview:
    site: str
    config: SiteConfig  # limits and TLS policy in force when not slowed
    preset: Preset | None  # the provider preset, None: the defaults
    setting: SiteSetting | None  # the site's overrides, if it has any
    state: SiteState  # from the throttle, now
    batches: BatchCounts = field(default_factory=BatchCounts)
    totals: SiteTotals = field(default_factory=SiteTotals)

    @property
    def overridden(self) -> frozenset[str]:
        """Names of the settings the site overrides."""
        if self.setting is None:
            return frozenset()
        names = ("max_connections", "messages_per_connection", "rate", "tls_policy")
        return frozenset(name for name in names if getattr(self.setting, name))

    @property
    def held_back(self) -> bool:
        return self.state.status is not SiteStatus.NORMAL

    @property
    def slow_factor(self) -> int:
        """The slow-down in force: its connections and rate are divided by this."""
        return 2**self.state.slow_level


@dataclass(frozen=True)
class SitesPage:
    sites: list[SiteOverview]
    total: int  # sites matching, of which the first PAGE_SIZE are shown


def sites_page(search: str = "", *, limit: int = PAGE_SIZE) -> SitesPage:
    """Sites seen in campaigns or configured, busiest first; held-back sites lead."""
    match = Q(site__icontains=search.strip()) if search.strip() else Q()
    totals = _totals(match)
    settings = {s.site: s for s in SiteSetting.objects.filter(match)}
    batches = _batch_counts(match)
    names = set(totals) | set(settings) | set(batches)
    ordered = sorted(
        names,
        key=lambda site: (
            -batches.get(site, BatchCounts()).active,
            -(totals.get(site, SiteTotals()).queued + totals.get(site, SiteTotals()).deferred),
            -totals.get(site, SiteTotals()).sent,
            site,
        ),
    )
    shown = [
        _overview(site, settings.get(site), batches.get(site), totals.get(site))
        for site in ordered[:limit]
    ]
    shown.sort(key=lambda overview: not overview.held_back)  # stable: busiest order kept
    return SitesPage(shown, len(names))


def site_overview(site: str) -> SiteOverview:
    """One site, seen or not: what `sites_page` shows of it."""
    match = Q(site=site)
    return _overview(
        site,
        SiteSetting.objects.filter(match).first(),
        _batch_counts(match).get(site),
        _totals(match).get(site),
    )


@dataclass(frozen=True)
class PresetRow:
    provider: str
    sites: list[str]
    preset: Preset | None  # None: the defaults for every other site
    overridden: list[str]  # its sites with overrides of their own

    @property
    def limits(self):
        return self.preset.limits if self.preset else DEFAULT_LIMITS


def preset_rows() -> list[PresetRow]:
    """The provider presets and the defaults, with which of their sites have overrides."""
    configured = set(SiteSetting.objects.values_list("site", flat=True))
    rows = [
        PresetRow(p.provider, sorted(p.sites), p, sorted(p.sites & configured)) for p in PRESETS
    ]
    others = sorted(site for site in configured if preset_for(site) is None)
    rows.append(PresetRow("Every other site (defaults)", [], None, others))
    return rows


def _overview(
    site: str,
    setting: SiteSetting | None,
    batches: BatchCounts | None,
    totals: SiteTotals | None,
) -> SiteOverview:
    config = site_config_from(site, setting)
    return SiteOverview(
        site=site,
        config=config,
        preset=preset_for(site),
        setting=setting,
        state=throttle().state(site, config.limits),
        batches=batches or BatchCounts(),
        totals=totals or SiteTotals(),
    )


def _totals(match: Q) -> dict[str, SiteTotals]:
    latest = (
        SiteStats.objects.filter(site=OuterRef("site"))
        .exclude(last_reply="")
        .order_by(F("last_at").desc(nulls_last=True))
    )
    rows = (
        SiteStats.objects.filter(match)
        .values("site")
        .annotate(
            campaigns=Count("campaign_id"),
            queued=Sum("queued"),
            deferred=Sum("deferred"),
            sent=Sum("sent"),
            bounced=Sum("bounced"),
            failed=Sum("failed"),
            last_at=Max("last_at"),
            last_reply=Subquery(latest.values("last_reply")[:1]),
        )
        .order_by()
    )
    totals = {}
    for row in rows:
        site = row.pop("site")
        totals[site] = SiteTotals(**{**row, "last_reply": row["last_reply"] or ""})
    return totals


def _batch_counts(match: Q) -> dict[str, BatchCounts]:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = (
        Batch.objects.filter(match, state__in=ACTIVE_BATCHES)
        .values_list("site", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for site, state, n in rows:
        counts[site][state] = n
    return {site: BatchCounts(**by_state) for site, by_state in counts.items()}


def site_states(sites: Iterable[str]) -> dict[str, SiteState]:
    """Each site's live state; empty when Redis did not answer."""
    sites = list(sites)
    if not sites:
        return {}
    settings = {s.site: s for s in SiteSetting.objects.filter(site__in=sites)}
    limits = {site: site_config_from(site, settings.get(site)).limits for site in sites}
    try:
        return throttle().states(limits)
    except redis.RedisError:
        log.warning("Redis did not answer; site states are unknown.", exc_info=True)
        return {}
