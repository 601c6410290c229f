"""A site's effective settings: preset and defaults, then the overrides edited in the dashboard."""

from __future__ import annotations

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
    return site_config_from(site, SiteSetting.objects.filter(site=site).first())


def site_config_from(site: str, setting: SiteSetting | None) -> SiteConfig:
    """Limits and TLS policy for `site` given its overrides row (None: it has none)."""
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
