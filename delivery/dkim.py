"""DKIM (RFC 6376): keys, the DNS record to publish, and relaxed/relaxed rsa-sha256 signing.

    key_pem = generate_private_key()
    record = dns_record(key_pem, domain="example.com", selector="edm1")   # to publish
    signer = Signer(domain="example.com", selector="edm1", private_key_pem=key_pem)
    signed = signer.sign(message_bytes)

A Signer is made once per sender domain (the key is parsed once) and signs any number of
messages. The RSA step uses `cryptography` (OpenSSL): dkimpy's pure-Python RSA manages ~120
signatures/s here, OpenSSL ~2,900. Relaxed body canonicalization is skipped when the body is
already canonical (no tabs, no runs of spaces, no blank before CRLF), which is always true of
the base64 bodies `delivery/message.py` builds; otherwise it is done line by line.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterable
from typing import NamedTuple

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# The headers Gmail, Yahoo and Microsoft expect signed for bulk mail (RFC 8058 §4 for the
# List-Unsubscribe pair), plus Reply-To, List-Id and Feedback-ID when present.
SIGNED_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Reply-To",
    "List-Id",
    "Feedback-ID",
)
# Each of these is named once more than it occurs ("over-signed", RFC 6376 §8.15), so a second
# From or Subject added on the way breaks the signature instead of being shown to the reader.
OVERSIGNED_HEADERS = frozenset(name.lower() for name in SIGNED_HEADERS)

_FIELD_SPLIT = re.compile(rb"\r\n(?![ \t])")
_WSP_RUN = re.compile(rb"[ \t]+")
_FOLD_AT = 76


class DnsRecord(NamedTuple):
    name: str  # e.g. "edm1._domainkey.example.com"
    value: str  # the whole TXT value: "v=DKIM1; k=rsa; p=…"
    strings: list[str]  # the value cut into the <= 255-character strings a TXT record holds

    @property
    def zone_text(self) -> str:
        """The TXT data as written in a zone file: quoted strings side by side."""
        return " ".join(f'"{part}"' for part in self.strings)


def generate_private_key() -> bytes:
    """A new 2048-bit RSA key, PEM-encoded (PKCS#8)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def dns_record(private_key_pem: bytes | str, *, domain: str, selector: str) -> DnsRecord:
    """The TXT record publishing the public half of a key under `selector._domainkey.domain`."""
    key = _load_key(private_key_pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    value = f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode('ascii')}"
    strings = [value[i : i + 255] for i in range(0, len(value), 255)]
    return DnsRecord(f"{selector}._domainkey.{domain}", value, strings)


class Signer:
    """Signs messages for one domain and selector with one key, loaded once."""

    def __init__(
        self,
        *,
        domain: str,
        selector: str,
        private_key_pem: bytes | str,
        headers: Iterable[str] = SIGNED_HEADERS,
    ):
        self.domain = domain
        self.selector = selector
        self._key = _load_key(private_key_pem)
        self._headers = tuple(name.lower() for name in headers)

    def sign(self, message: bytes, *, timestamp: int | None = None) -> bytes:
        """The message with a DKIM-Signature field in front. Lines must end in CRLF."""
        head, separator, body = message.partition(b"\r\n\r\n")
        if not separator:
            head, body = message.removesuffix(b"\r\n"), b""
        fields = _fields(head + b"\r\n")
        body_hash = base64.b64encode(hashlib.sha256(_relaxed_body(body)).digest()).decode()

        signed_names: list[str] = []
        hashed: list[bytes] = []
        for name in self._headers:
            instances = fields.get(name, [])
            # Several instances are signed from the last one up (RFC 6376 §5.4.2).
            for raw in reversed(instances):
                signed_names.append(name)
                hashed.append(_relaxed_header(raw))
            if name in OVERSIGNED_HEADERS and instances:
                signed_names.append(name)  # matches no field: signs its absence
        tags = [
            "v=1",
            "a=rsa-sha256",
            "c=relaxed/relaxed",
            f"d={self.domain}",
            f"s={self.selector}",
            f"t={int(time.time()) if timestamp is None else timestamp}",
            f"h={':'.join(signed_names)}",
            f"bh={body_hash}",
        ]
        unsigned = _fold_tags(tags) + b"; b="
        # The signature covers its own field with b= empty and no final CRLF (§3.7).
        hashed.append(_relaxed_header(unsigned).removesuffix(b"\r\n"))
        signature = self._key.sign(b"".join(hashed), padding.PKCS1v15(), hashes.SHA256())
        encoded = base64.b64encode(signature)
        folded = b"\r\n\t".join(encoded[i : i + _FOLD_AT] for i in range(0, len(encoded), _FOLD_AT))
        return unsigned + b"\r\n\t" + folded + b"\r\n" + message


def _load_key(private_key_pem: bytes | str) -> rsa.RSAPrivateKey:
    pem = private_key_pem.encode("ascii") if isinstance(private_key_pem, str) else private_key_pem
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("a DKIM key must be an RSA key")
    return key


def _fields(head: bytes) -> dict[str, list[bytes]]:
    """Header fields by lowercase name, each as written (folding kept, CRLF included)."""
    fields: dict[str, list[bytes]] = {}
    for raw in _FIELD_SPLIT.split(head.removesuffix(b"\r\n")):
        name = raw.partition(b":")[0].strip().lower().decode("ascii", "replace")
        fields.setdefault(name, []).append(raw + b"\r\n")
    return fields


def _relaxed_header(raw: bytes) -> bytes:
    """Relaxed header canonicalization (RFC 6376 §3.4.2)."""
    name, _, value = raw.partition(b":")
    value = _WSP_RUN.sub(b" ", value.replace(b"\r\n", b"")).strip(b" ")
    return name.strip().lower() + b":" + value + b"\r\n"


def _relaxed_body(body: bytes) -> bytes:
    """Relaxed body canonicalization (RFC 6376 §3.4.4), free when the body already is canonical."""
    if not _canonical_whitespace(body):
        lines = [_WSP_RUN.sub(b" ", line).rstrip(b" ") for line in body.split(b"\r\n")]
        body = b"\r\n".join(lines)
    body = body.rstrip(b"\r\n")  # no empty lines at the end…
    return body + b"\r\n" if body else b""  # …and a non-empty body ends in one CRLF


def _canonical_whitespace(body: bytes, spaces_to_look_at: int = 16) -> bool:
    """True when relaxed canonicalization would change no whitespace: no tab, no run of
    spaces, no space before a line end.

    Our base64 parts hold a handful of spaces (in their MIME headers), so visiting each is
    ~2 µs for a 48 KB body where searching for two-byte patterns costs ~75 µs; text with
    many spaces is searched for the patterns instead.
    """
    if b"\t" in body:
        return False
    find = body.find
    at = find(b" ")
    for _ in range(spaces_to_look_at):
        if at < 0:
            return True
        if body[at + 1 : at + 2] in (b" ", b"\r", b""):
            return False
        at = find(b" ", at + 1)
    return not (b"  " in body or b" \r\n" in body or body.endswith(b" "))


def _fold_tags(tags: list[str]) -> bytes:
    """The DKIM-Signature field up to b=, folded below 78 characters, between tags or after a
    colon of h=.

    Verifiers ignore whitespace there (RFC 6376 §3.2), and the signature covers exactly the
    folded text, canonicalized.
    """
    pieces = []  # (text, joined to the previous piece without a space)
    for tag in tags:
        words = tag.split(":") if tag.startswith("h=") else [tag]
        pieces += [(word + ":", i > 0) for i, word in enumerate(words[:-1])]
        pieces.append((words[-1] + ";", len(words) > 1))
    lines, line = [], "DKIM-Signature:"
    for text, glued in pieces:
        joined = line + text if glued else f"{line} {text}"
        if len(joined) > _FOLD_AT:
            lines.append(line)
            joined = "\t" + text
        line = joined
    lines.append(line)
    return "\r\n".join(lines).removesuffix(";").encode("ascii")
