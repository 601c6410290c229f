"""Template helpers of the report pages: rates as percentages, links to pages that may not
exist in every build, throttle states as badges."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.filter
def percent(ratio: float | None, digits: int = 2) -> str:
    """0.01234 → "1.23%"; None (nothing to divide by yet) → "—"."""
    if ratio is None:
        return "—"
    return f"{ratio * 100:.{int(digits)}f}%"


@register.simple_tag
def optional_url(name: str, *args) -> str:
    """The URL of `name`, or "" when no such page is installed (links are then left out)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.filter
def state_badge(status: str) -> str:
    """The badge class of a site's throttle status."""
    return {"normal": "badge-ok", "slowed": "badge-warn", "suspended": "badge-bad"}.get(
        str(status), ""
    )


@register.filter
def status_badge(status: str) -> str:
    """The badge class of a campaign status."""
    return {
        "scheduled": "badge-queued",
        "sending": "badge-running",
        "paused": "badge-warn",
        "finished": "badge-ok",
        "cancelled": "badge-bad",
    }.get(str(status), "")


@register.filter
def thousands(value: int | float | None) -> str:
    """1234567 → "1,234,567" (whole numbers; fractions keep one digit)."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


@register.filter
def of(mapping: dict, key):
    """mapping[key], or None: `followed|of:d.pk` reads a dict a view built per row."""
    return mapping.get(key)
