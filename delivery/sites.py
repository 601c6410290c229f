"""A site's effective settings: preset and defaults, then the overrides edited in the dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from delivery.limits import SiteLimits
from delivery.models import SiteSetting
from delivery.presets import limits_for
from delivery.smtp import TlsPolicy


@dataclass(frozen=True)
class SiteConfig:
    site: str
    limits: SiteLimits
    tls_policy: TlsPolicy


def site_config(site: str) -> SiteConfig:
    """Limits and TLS policy for `site` (one small query)."""
    return _config(site, SiteSetting.objects.filter(site=site).first())


def site_configs(sites: Iterable[str]) -> dict[str, SiteConfig]:
    """`site_config` of several sites, in one query (for pages that list sites)."""
    sites = list(sites)
    settings = {s.site: s for s in SiteSetting.objects.filter(site__in=sites)}
    return {site: _config(site, settings.get(site)) for site in sites}


def _config(site: str, setting: SiteSetting | None) -> SiteConfig:
    if setting is None:
        return SiteConfig(site, limits_for(site), TlsPolicy.OPPORTUNISTIC)
    overrides: dict[str, object] = {}
    if setting.max_connections:
        overrides["max_connections"] = setting.max_connections
    if setting.messages_per_connection:
        overrides["messages_per_connection"] = setting.messages_per_connection
    if setting.rate:
        overrides["rate"] = setting.rate
    return SiteConfig(
        site,
        limits_for(site, overrides),
        TlsPolicy(setting.tls_policy) if setting.tls_policy else TlsPolicy.OPPORTUNISTIC,
    )
