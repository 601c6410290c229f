"""Per-site settings: overrides of a site's limits and TLS policy, and lifting a slow-down."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from delivery import dispatch
from delivery.domains import a_label
from delivery.limits import Rate
from delivery.models import SiteSetting
from delivery.presets import limits_for
from delivery.smtp import TlsPolicy


def site_name(text: str) -> str:
    """A site as routing names it (lower-case A-label); InvalidDomainError otherwise."""
    return a_label(text)


def site_setting_save(
    site: str,
    *,
    max_connections: int | None = None,
    messages_per_connection: int | None = None,
    rate: str = "",
    tls_policy: str = "",
) -> SiteSetting | None:
    """Store `site`'s overrides; None or "" keeps the preset's value, and a site left with no
    override loses its row. ValueError for a rate or limit that cannot be used.

    Pending batches of the site are dispatched at once, so a raised connection limit is used
    without waiting for the reconciler.
    """
    rate = str(Rate.parse(rate)) if rate.strip() else ""
    tls_policy = TlsPolicy(tls_policy).value if tls_policy else ""
    overrides = {
        "max_connections": max_connections,
        "messages_per_connection": messages_per_connection,
        "rate": rate,
    }
    limits_for(site, {name: value for name, value in overrides.items() if value})  # validates
    with transaction.atomic():
        if not any(overrides.values()) and not tls_policy:
            SiteSetting.objects.filter(site=site).delete()
            setting = None
        else:
            setting, _ = SiteSetting.objects.update_or_create(
                site=site,
                defaults={**overrides, "tls_policy": tls_policy, "updated_at": timezone.now()},
            )
        transaction.on_commit(lambda: dispatch.site_dispatch(site))
    return setting


def site_resume(site: str) -> None:
    """End the site's suspension or slow-down now and dispatch its waiting batches."""
    dispatch.throttle().resume(site)
    dispatch.site_dispatch(site)
