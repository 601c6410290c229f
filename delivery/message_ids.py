"""Message-IDs that name their delivery, signed like the VERP return path.

    make(1234, "shop.example", secret)                  ->  "<1234.5c0e91a2d4f37b08@shop.example>"
    read("<1234.5c0e91a2d4f37b08@shop.example>", secret) ->  1234

A bounce that comes back to a plain address (a mailbox, a provider's feedback loop) still
quotes the original message's Message-ID, so that is how it finds its delivery. After the
delivery id come 8 random hex digits (each message differs, even two test sends with the same
id 0) and the first 8 hex digits of an HMAC-SHA256 over both: a bounce naming someone else's
delivery cannot be forged without ~2**31 tries, each a message to our bounce server.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_SHAPE = re.compile(r"<?(\d{1,20})\.([0-9a-f]{8})([0-9a-f]{8})@[^\s<>@]+>?")


def make(delivery_id: int, domain: str, secret: str | bytes) -> str:
    """A new Message-ID (with its angle brackets) for a message of this delivery."""
    nonce = secrets.token_hex(4)
    return f"<{delivery_id}.{nonce}{_mac(delivery_id, nonce, secret)}@{domain}>"


def claimed(message_id: str) -> int | None:
    """The delivery id a Message-ID in our shape names, signed or not (None: not our shape)."""
    match = _SHAPE.fullmatch(message_id.strip().lower())
    return int(match.group(1)) if match else None


def read(message_id: str, secret: str | bytes) -> int | None:
    """The delivery id of one of our Message-IDs, or None if it is not ours or was altered."""
    match = _SHAPE.fullmatch(message_id.strip().lower())
    if match is None or str(int(match.group(1))) != match.group(1):
        return None
    delivery_id, nonce = int(match.group(1)), match.group(2)
    if not hmac.compare_digest(match.group(3), _mac(delivery_id, nonce, secret)):
        return None
    return delivery_id


def _mac(delivery_id: int, nonce: str, secret: str | bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    # A prefix of its own, so a Message-ID can never double as another signed value.
    message = f"edm.message-id:{delivery_id}.{nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:8]
