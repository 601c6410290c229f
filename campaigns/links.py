"""Signed links and addresses for unsubscribing and viewing a message online.

A token names a campaign and a contact (not a delivery: links in old messages must keep
working after deliveries are archived) and carries an HMAC-SHA256 over both and the link's
purpose, truncated to 12 bytes, so an unsubscribe token cannot open the view-online page and
a forged or altered token is refused:

    unsubscribe_url("https://mail.example.com", LinkTarget(7, 1234), secret)
        -> "https://mail.example.com/u/7-1234-3kq0F…/"
    read_token(LinkPurpose.UNSUBSCRIBE, "7-1234-3kq0F…", secret) -> LinkTarget(7, 1234)

The mailto unsubscribe address (RFC 2369) uses lowercase base32, as mail systems may change
the case of local parts: `u-7-1234-<mac>@bounces.example.com`.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
from typing import NamedTuple

_MAC_BYTES = 12
_TOKEN = re.compile(r"(\d{1,20})-(\d{1,20})-([A-Za-z0-9_-]{16})")
_ADDRESS = re.compile(r"u-(\d{1,20})-(\d{1,20})-([a-z2-7]{20})")

# Paths of the public pages under EDM_PUBLIC_URL; the web app routes them to its views.
UNSUBSCRIBE_PATH = "u"
VIEW_ONLINE_PATH = "v"


class LinkPurpose(enum.StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    VIEW_ONLINE = "view-online"


class LinkTarget(NamedTuple):
    campaign_id: int
    contact_id: int


def make_token(purpose: LinkPurpose, target: LinkTarget, secret: str | bytes) -> str:
    """A compact, URL-safe token for one purpose, campaign and contact."""
    mac = base64.urlsafe_b64encode(_mac(purpose, target, secret)).decode()
    return f"{target.campaign_id}-{target.contact_id}-{mac}"


def read_token(purpose: LinkPurpose, token: str, secret: str | bytes) -> LinkTarget | None:
    """The campaign and contact a token was made for, or None if it is forged or altered."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    target = _target(match.group(1), match.group(2))
    if target is None:
        return None
    expected = base64.urlsafe_b64encode(_mac(purpose, target, secret)).decode()
    return target if hmac.compare_digest(match.group(3), expected) else None


def unsubscribe_url(public_url: str, target: LinkTarget, secret: str | bytes) -> str:
    """The one-click unsubscribe link (RFC 8058 POSTs to the same URL)."""
    token = make_token(LinkPurpose.UNSUBSCRIBE, target, secret)
    return f"{public_url.rstrip('/')}/{UNSUBSCRIBE_PATH}/{token}/"


def view_online_url(public_url: str, target: LinkTarget, secret: str | bytes) -> str:
    """The link that shows this recipient's message in a browser."""
    token = make_token(LinkPurpose.VIEW_ONLINE, target, secret)
    return f"{public_url.rstrip('/')}/{VIEW_ONLINE_PATH}/{token}/"


def unsubscribe_address(domain: str, target: LinkTarget, secret: str | bytes) -> str:
    """The address a mail to which unsubscribes (the mailto of List-Unsubscribe)."""
    mac = base64.b32encode(_mac(LinkPurpose.UNSUBSCRIBE, target, secret)).decode().lower()
    return f"u-{target.campaign_id}-{target.contact_id}-{mac.rstrip('=')}@{domain}"


def read_unsubscribe_address(address: str, secret: str | bytes) -> LinkTarget | None:
    """The campaign and contact an unsubscribe address was made for, or None."""
    local_part = address.strip().strip("<>").rpartition("@")[0]
    match = _ADDRESS.fullmatch(local_part.lower())
    if match is None:
        return None
    target = _target(match.group(1), match.group(2))
    if target is None:
        return None
    expected = base64.b32encode(_mac(LinkPurpose.UNSUBSCRIBE, target, secret)).decode().lower()
    return target if hmac.compare_digest(match.group(3), expected.rstrip("=")) else None


def _target(campaign: str, contact: str) -> LinkTarget | None:
    target = LinkTarget(int(campaign), int(contact))
    if f"{target.campaign_id}-{target.contact_id}" != f"{campaign}-{contact}":
        return None  # leading zeros: another spelling of a signed value is still refused
    return target


def _mac(purpose: LinkPurpose, target: LinkTarget, secret: str | bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    message = f"edm.link:{purpose}:{target.campaign_id}:{target.contact_id}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()[:_MAC_BYTES]
