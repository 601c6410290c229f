"""SendGrid's signed event webhook.

SendGrid signs each POST with ECDSA (P-256, SHA-256) over the timestamp header followed by the
raw body, and sends the signature base64-encoded (SendGrid docs, "Getting Started with the
Event Webhook Security Features"). The verification key is the public key SendGrid shows when
signing is enabled: base64 DER (SubjectPublicKeyInfo), or the same in PEM.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


class RefusedRequestError(Exception):
    """The request is not signed by SendGrid with our key; the text says why."""


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


def verify(body: bytes, *, signature: str | None, timestamp: str | None, key: str) -> None:
    """Check the signature of one webhook request; RefusedRequestError when it is wrong."""
    if not signature or not timestamp:
        raise RefusedRequestError("the request is not signed")
    try:
        decoded = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise RefusedRequestError("the signature is not base64") from None
    try:
        public_key(key).verify(decoded, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise RefusedRequestError("the signature does not match") from None
