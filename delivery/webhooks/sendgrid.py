"""SendGrid's signed event webhook.

SendGrid signs each POST with ECDSA (P-256, SHA-256) over the timestamp header followed by the
raw body, and sends the signature base64-encoded (SendGrid docs, "Getting Started with the
Event Webhook Security Features"). The verification key is the public key SendGrid shows when
signing is enabled: base64 DER (SubjectPublicKeyInfo), or the same in PEM.

The timestamp is signed, so a captured request cannot be given a new one: a request signed more
than MAX_AGE_SECONDS ago (or as far ahead: clock skew) is refused, which bounds how long a
replay works. Within that window a replay changes nothing either: the same body is stored once
and each event is recorded once (`sg_event_id`, delivery/inbound/notices.py).
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edm.json_input import json_read

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_AGE_SECONDS = 5 * 60


class RefusedRequestError(Exception):
    """The request is not signed by SendGrid with our key, or not lately; the text says why."""


class UnreadableEventsError(Exception):
    """A signed body that is not a JSON list of events SendGrid would send."""


def public_key(text: str) -> ec.EllipticCurvePublicKey:
    """The verification key from its base64 DER or PEM text; ValueError if it is not one."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not an ECDSA public key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an ECDSA public key")
    return key


def verify(
    body: bytes,
    *,
    signature: str | None,
    timestamp: str | None,
    key: ec.EllipticCurvePublicKey,
    now: float,
) -> None:
    """Check the signature of one webhook request, then its age against `now` (Unix
    seconds); RefusedRequestError when either is wrong."""
    if not signature or not timestamp:
        raise RefusedRequestError("the request is not signed")
    try:
        decoded = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise RefusedRequestError("the signature is not base64") from None
    try:
        key.verify(decoded, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise RefusedRequestError("the signature does not match") from None
    try:
        signed_at = int(timestamp)
    except ValueError:
        raise RefusedRequestError("the timestamp is not a number of seconds") from None
    if abs(now - signed_at) > MAX_AGE_SECONDS:
        raise RefusedRequestError(
            f"the request was not signed in the last {MAX_AGE_SECONDS // 60} minutes"
        )


def events_check(body: bytes) -> None:
    """UnreadableEventsError unless the (verified) body is a JSON list, nested no deeper
    than JSON input may be."""
    try:
        events = json_read(body)
    except ValueError:  # JsonTooDeepError among them
        raise UnreadableEventsError("the body is not a JSON list of events") from None
    if not isinstance(events, list):
        raise UnreadableEventsError("the body is not a JSON list of events")
