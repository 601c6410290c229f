"""VERP return paths: the envelope sender that tells which delivery a bounce is about.

    encode(1234, "bounces.example.com", secret)  ->  "b-1234-6yspqkqjogk24edt@bounces.example.com"
    decode("B-1234-6YSPQKQJOGK24EDT@bounces.example.com", secret)  ->  1234

The local part carries the delivery id and an HMAC-SHA256 of it, truncated to 10 bytes (80
bits: forging one takes ~2**79 tries, each a message to our bounce server). Only digits,
lowercase base32 letters and "-" are used, because some MTAs lowercase local parts and some
mangle "+" and "=". A forged or altered address decodes to None.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

PREFIX = "b"
_MAC_BYTES = 10
_LOCAL_PART = re.compile(rf"{PREFIX}-(\d{{1,20}})-([a-z2-7]{{16}})")


def encode(delivery_id: int, domain: str, secret: str | bytes) -> str:
    """The return path for one delivery, on the bounce domain."""
    if delivery_id < 0:
        raise ValueError("a delivery id is not negative")
    return f"{PREFIX}-{delivery_id}-{_mac(delivery_id, secret)}@{domain}"


def decode(address: str, secret: str | bytes) -> int | None:
    """The delivery id an address was made for, or None if it is not one of ours or was altered."""
    local_part = address.strip().strip("<>").rpartition("@")[0] or address
    match = _LOCAL_PART.fullmatch(local_part.lower())
    if match is None:
        return None
    delivery_id = int(match.group(1))
    if str(delivery_id) != match.group(1):
        return None  # leading zeros: not how we write ids
    if not hmac.compare_digest(match.group(2), _mac(delivery_id, secret)):
        return None
    return delivery_id


def _mac(delivery_id: int, secret: str | bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    # A prefix of its own, so a VERP code can never double as another signed value.
    digest = hmac.new(key, b"edm.verp:%d" % delivery_id, hashlib.sha256).digest()
    return base64.b32encode(digest[:_MAC_BYTES]).decode().lower()
