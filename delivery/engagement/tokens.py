"""Signed tokens of the tracking pixel and tracked links (imitating campaigns/links.py).

A token carries everything the endpoints need, so reading one looks nothing up: the campaign,
the delivery and, for a click, the link's index in the campaign's links table, with an
HMAC-SHA256 over them and the token's kind, truncated to 12 bytes:

    click_url("https://mail.example.com", Mark(7, 1234, 3), secret)
        -> "https://mail.example.com/l/7-1234-3-Zx0q…"
    read_click("7-1234-3-Zx0q…", secret) -> Mark(7, 1234, 3)
    open_url(…, Mark(7, 1234), secret) -> "https://mail.example.com/o/7-1234-k2Lm….gif"

A click token names a link by index, never by URL: the redirect only ever goes to a URL the
campaign contained (its links table), so a token cannot be made into an open redirect.
"""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
import hmac
import re
from typing import NamedTuple

_MAC_BYTES = 12
_NUMBER = r"(0|[1-9]\d{0,19})"  # no leading zeros: one spelling per signed value
_CLICK = re.compile(rf"{_NUMBER}-{_NUMBER}-{_NUMBER}-([A-Za-z0-9_-]{{16}})")
_OPEN = re.compile(rf"{_NUMBER}-{_NUMBER}-([A-Za-z0-9_-]{{16}})")

# Paths under EDM_PUBLIC_URL; edm/urls.py routes them to delivery/engagement/views.py.
CLICK_PATH = "l"
OPEN_PATH = "o"


class EventKind(enum.StrEnum):
    OPEN = "o"
    CLICK = "c"


class Mark(NamedTuple):
    """What a token identifies: a delivery of a campaign and, for clicks, one of its links."""

    campaign_id: int
    delivery_id: int
    link_index: int = 0


def click_token(mark: Mark, secret: str | bytes) -> str:
    mac = _mac(EventKind.CLICK, mark, secret)
    return f"{mark.campaign_id}-{mark.delivery_id}-{mark.link_index}-{mac}"


def open_token(mark: Mark, secret: str | bytes) -> str:
    return f"{mark.campaign_id}-{mark.delivery_id}-{_mac(EventKind.OPEN, mark, secret)}"


def click_url(public_url: str, mark: Mark, secret: str | bytes) -> str:
    """The tracked link that redirects to link `mark.link_index` of the campaign."""
    return f"{public_url.rstrip('/')}/{CLICK_PATH}/{click_token(mark, secret)}"


def open_url(public_url: str, mark: Mark, secret: str | bytes) -> str:
    """The address of the tracking pixel of one delivery."""
    return f"{public_url.rstrip('/')}/{OPEN_PATH}/{open_token(mark, secret)}.gif"


def read_click(token: str, secret: str | bytes) -> Mark | None:
    """The mark a click token was made for, or None if it is forged, altered or malformed."""
    match = _CLICK.fullmatch(token)
    if match is None:
        return None
    mark = Mark(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    return _checked(EventKind.CLICK, mark, match.group(4), secret)


def read_open(token: str, secret: str | bytes) -> Mark | None:
    """The mark an open token was made for, or None."""
    match = _OPEN.fullmatch(token)
    if match is None:
        return None
    mark = Mark(int(match.group(1)), int(match.group(2)))
    return _checked(EventKind.OPEN, mark, match.group(3), secret)


def _checked(kind: EventKind, mark: Mark, mac: str, secret: str | bytes) -> Mark | None:
    return mark if hmac.compare_digest(mac, _mac(kind, mark, secret)) else None


def _mac(kind: EventKind, mark: Mark, secret: str | bytes) -> str:
    signer = _keyed(secret).copy()
    signer.update(
        f"edm.track:{kind}:{mark.campaign_id}:{mark.delivery_id}:{mark.link_index}".encode()
    )
    return base64.urlsafe_b64encode(signer.digest()[:_MAC_BYTES]).decode()


@functools.lru_cache(maxsize=4)
def _keyed(secret: str | bytes) -> hmac.HMAC:
    """An HMAC already keyed: copying it skips the key schedule, half the cost of a token
    (a message carries one per link, built for every recipient)."""
    return hmac.new(
        secret.encode() if isinstance(secret, str) else secret, digestmod=hashlib.sha256
    )
