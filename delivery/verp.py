"""VERP return paths: the envelope sender that tells which message a bounce is about.

    encode(1234, "bounces.example.com", secret)  ->  "b-1234-6yspqkqjogk24edt@bounces.example.com"
    decode("B-1234-6YSPQKQJOGK24EDT@bounces.example.com", secret)  ->  1234

The local part carries the id and an HMAC-SHA256 of it, truncated to 10 bytes (80 bits:
forging one takes ~2**79 tries, each a message to our bounce server). Only digits, lowercase
base32 letters and "-" are used, because some MTAs lowercase local parts and some mangle "+"
and "=". A forged or altered address decodes to None.

Its first letter says what the id is: "b" a campaign's delivery (`Delivery`), "t" a
transactional message (`TxMessage`). Their MACs differ, so one can never pass for the other;
`decode` answers deliveries only, `decode_token` both, with their kind.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
from typing import NamedTuple

_MAC_BYTES = 10
_LOCAL_PART = re.compile(r"([bt])-(\d{1,20})-([a-z2-7]{16})")


class Kind(enum.StrEnum):
    DELIVERY = "b"
    TX = "t"


PREFIX = Kind.DELIVERY.value

# What each kind's MAC signs; the delivery one is the original, so return paths already out
# in the world still decode.
_SIGNED = {Kind.DELIVERY: b"edm.verp:%d", Kind.TX: b"edm.verp.tx:%d"}


class Token(NamedTuple):
    kind: Kind
    id: int


def encode(message_id: int, domain: str, secret: str | bytes, kind: Kind = Kind.DELIVERY) -> str:
    """The return path for one delivery (or transactional message), on the bounce domain."""
    if message_id < 0:
        raise ValueError("a message id is not negative")
    return f"{kind.value}-{message_id}-{_mac(kind, message_id, secret)}@{domain}"


def decode(address: str, secret: str | bytes) -> int | None:
    """The delivery id an address was made for, or None if it is not one of ours or was altered."""
    token = decode_token(address, secret)
    return token.id if token is not None and token.kind is Kind.DELIVERY else None


def decode_token(address: str, secret: str | bytes) -> Token | None:
    """The kind and id an address was made for, or None if it is not one of ours or was altered."""
    local_part = address.strip().strip("<>").rpartition("@")[0] or address
    match = _LOCAL_PART.fullmatch(local_part.lower())
    if match is None:
        return None
    kind, message_id = Kind(match.group(1)), int(match.group(2))
    if str(message_id) != match.group(2):
        return None  # leading zeros: not how we write ids
    if not hmac.compare_digest(match.group(3), _mac(kind, message_id, secret)):
        return None
    return Token(kind, message_id)


def _mac(kind: Kind, message_id: int, secret: str | bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    # A prefix of its own, so a VERP code can never double as another signed value.
    digest = hmac.new(key, _SIGNED[kind] % message_id, hashlib.sha256).digest()
    return base64.b32encode(digest[:_MAC_BYTES]).decode().lower()
