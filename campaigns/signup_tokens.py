"""Signed values of sign-up forms: the render stamp in the form and the confirmation link.

Both imitate campaigns/links.py: an HMAC-SHA256 keyed with SECRET_KEY over a purpose and the
values, truncated to 12 bytes, URL-safe base64. Both carry the time they were made, so the
reader can tell their age without storing anything:

    form_stamp("Xy3…", now)                      -> "1764871234-3kq0F…"
    stamp_issued_at("Xy3…", "1764871234-3kq0F…") -> 1764871234 (None: forged or for another form)
    confirm_token(Confirmation(form_id=3, contact_id=41, issued_at=1764871234))
                                                 -> "3-41-1764871234-Hc9…"
    read_confirm_token("3-41-1764871234-Hc9…")  -> Confirmation(3, 41, 1764871234) | None

A stamp proves the form was shown by us, for this form, at that time (so a robot cannot
skip the page or reuse one forever); a confirmation token proves its holder received the mail
sent to the contact's address for that form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import NamedTuple

from django.conf import settings

_MAC_BYTES = 12
_STAMP = re.compile(r"([1-9]\d{0,11})-([A-Za-z0-9_-]{16})")
_CONFIRM = re.compile(r"([1-9]\d{0,19})-([1-9]\d{0,19})-([1-9]\d{0,11})-([A-Za-z0-9_-]{16})")

# Paths of the public pages under EDM_PUBLIC_URL.
FORM_PATH = "f"
CONFIRM_PATH = "f/confirm"


class Confirmation(NamedTuple):
    form_id: int
    contact_id: int
    issued_at: int  # Unix seconds


def form_stamp(public_id: str, now: float) -> str:
    """The hidden field of a form shown at `now`: its time, signed for this form."""
    issued = int(now)
    return f"{issued}-{_mac(f'form-stamp:{public_id}:{issued}')}"


def stamp_issued_at(public_id: str, stamp: str) -> int | None:
    """When a stamp was made for this form, or None if it is forged, altered or another's."""
    match = _STAMP.fullmatch(stamp or "")
    if match is None:
        return None
    issued = int(match.group(1))
    expected = _mac(f"form-stamp:{public_id}:{issued}")
    return issued if hmac.compare_digest(match.group(2), expected) else None


def confirm_token(confirmation: Confirmation) -> str:
    """The token of the confirmation link for one contact's sign-up through one form."""
    form_id, contact_id, issued = confirmation
    return (
        f"{form_id}-{contact_id}-{issued}-{_mac(f'signup-confirm:{form_id}:{contact_id}:{issued}')}"
    )


def read_confirm_token(token: str) -> Confirmation | None:
    """What a confirmation token was made for, or None if it is forged or altered (its age
    is the caller's to judge: an expired link gets a page that says so)."""
    match = _CONFIRM.fullmatch(token)
    if match is None:
        return None
    confirmation = Confirmation(*(int(group) for group in match.groups()[:3]))
    form_id, contact_id, issued = confirmation
    expected = _mac(f"signup-confirm:{form_id}:{contact_id}:{issued}")
    return confirmation if hmac.compare_digest(match.group(4), expected) else None


def confirm_url(public_url: str, confirmation: Confirmation) -> str:
    return f"{public_url.rstrip('/')}/{CONFIRM_PATH}/{confirm_token(confirmation)}/"


def form_url(public_url: str, public_id: str) -> str:
    return f"{public_url.rstrip('/')}/{FORM_PATH}/{public_id}/"


def _mac(message: str) -> str:
    key = settings.SECRET_KEY.encode()
    digest = hmac.new(key, f"edm.signup:{message}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).decode()
