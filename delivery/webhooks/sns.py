"""Amazon SNS messages (how Amazon SES reports bounces and complaints over HTTP).

An SNS message is a JSON object signed by AWS with RSA (SignatureVersion 1: SHA1, 2: SHA256)
over some of its fields, in a fixed order, each as "Name\\nvalue\\n" (AWS SNS developer guide,
"Verifying the signatures of Amazon SNS messages"). We check the signature against a
certificate the operator configured (EDM_SES_CERT_PATH) rather than fetching the one named in
SigningCertURL, and accept only the configured topic (EDM_SES_TOPIC_ARN).

The signature is checked before any other field is compared (only Type is read first: it says
which fields are signed), so nothing a forger wrote decides anything. Refusals say why in
fixed words and never repeat what the request carried.

A new subscription first sends a SubscriptionConfirmation; fetching its SubscribeURL confirms
it. Notifications carry the SES event as a JSON string in Message.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.request
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from edm.json_input import JsonTooDeepError, json_read

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"
# The fields signed, in order; Subject only when the message has one.
SIGNED_FIELDS = {
    NOTIFICATION: ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    SUBSCRIPTION_CONFIRMATION: (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED_FIELDS[UNSUBSCRIBE_CONFIRMATION] = SIGNED_FIELDS[SUBSCRIPTION_CONFIRMATION]
# SubscribeURL must be an SNS endpoint of AWS: sns.<region>.amazonaws.com (or .com.cn).
SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?")
CONFIRM_TIMEOUT_SECONDS = 10


class RefusedMessageError(Exception):
    """The request is not a genuine SNS message for our topic; the text says why."""


def certificate_key(pem: bytes) -> rsa.RSAPublicKey:
    """The RSA key of the configured certificate; ValueError if it holds none."""
    public_key = x509.load_pem_x509_certificate(pem).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ValueError("the certificate does not hold an RSA key")
    return public_key


def message_read(body: bytes) -> dict:
    """The SNS message in a request body; RefusedMessageError if it is not one."""
    try:
        document = json_read(body)
    except JsonTooDeepError:
        raise RefusedMessageError("the body nests too deeply to be an SNS message") from None
    except ValueError:
        raise RefusedMessageError("the body is not JSON") from None
    if not isinstance(document, dict) or document.get("Type") not in SIGNED_FIELDS:
        raise RefusedMessageError("not an SNS message")
    return document


def verify(document: dict, *, key: rsa.RSAPublicKey, topic_arn: str) -> None:
    """Check the signature, then the topic; RefusedMessageError when either is wrong."""
    # SignatureVersion 1 is SHA1 by AWS's definition: not ours to choose.
    algorithm = {"1": hashes.SHA1, "2": hashes.SHA256}.get(str(document.get("SignatureVersion")))
    if algorithm is None:
        raise RefusedMessageError("unknown or missing SignatureVersion")
    try:
        signature = base64.b64decode(str(document.get("Signature") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise RefusedMessageError("the signature is not base64") from None
    try:
        key.verify(signature, string_to_sign(document), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise RefusedMessageError("the signature does not match") from None
    if document.get("TopicArn") != topic_arn:
        raise RefusedMessageError("the message is for another topic")


def string_to_sign(document: dict) -> bytes:
    """The bytes AWS signs for a message of this type."""
    lines = []
    for name in SIGNED_FIELDS[document["Type"]]:
        if name in document and document[name] is not None:
            lines.append(f"{name}\n{document[name]}\n")
        elif name != "Subject":
            raise RefusedMessageError(f"the message has no {name}")
    # A lone surrogate (JSON "\ud800") cannot be in what AWS signed: let it fail the signature
    # rather than the encoding.
    return "".join(lines).encode("utf-8", "surrogatepass")


def subscribe_url(document: dict) -> str:
    """The SubscribeURL of a (verified) subscription confirmation, if it is an SNS endpoint."""
    url = str(document.get("SubscribeURL") or "")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # a malformed authority, such as an unclosed "[" of an IPv6 address
        host = ""
    if not host or parts.scheme != "https" or not SNS_HOST.fullmatch(host):
        raise RefusedMessageError("the SubscribeURL is not an SNS endpoint")
    return url


def subscription_confirm(url: str) -> None:
    """Confirm a subscription by fetching its SubscribeURL (an HTTPS request to AWS)."""
    # Only https URLs on an SNS host reach here (subscribe_url).
    with urllib.request.urlopen(url, timeout=CONFIRM_TIMEOUT_SECONDS) as response:  # noqa: S310
        response.read()


def ses_event(document: dict) -> dict:
    """The SES event a notification carries in its Message; {} when there is none."""
    try:
        event = json_read(str(document.get("Message") or ""))
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}
