"""Finding and normalising email addresses in the free text of bounces."""

from __future__ import annotations

import re
from email.utils import getaddresses

LOCAL = r"""(?:"[^"\r\n]+"|[\w!#$%&'*+/=?^`{|}~.-]+)"""
DOMAIN = (
    r"(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]"
    r"|\[[\d.:A-Fa-f]+\])"  # an address literal, [192.0.2.1]
)
ADDRESS = re.compile(rf"{LOCAL}@{DOMAIN}")
# Servers that are not people: their addresses are never the bounced recipient.
DAEMONS = re.compile(r"^(?:mailer-daemon|postmaster|double-bounce|MAILER_DAEMON)@", re.IGNORECASE)


def normalize(address: str) -> str:
    """Strip brackets, quotes around the whole and trailing dots; lower-case the domain."""
    address = address.strip().strip("<>").strip()
    if address.lower().startswith(("rfc822;", "utf-8;")):
        address = address.split(";", 1)[1].strip().strip("<>")
    address = address.rstrip(".")
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    if local.startswith("<"):
        local = local[1:]
    return f"{local}@{domain.lower()}"


def find_all(text: str) -> list[str]:
    """Every address in a text, normalised, in order, without repeats."""
    seen: dict[str, None] = {}
    for found in ADDRESS.finditer(text):
        seen.setdefault(normalize(clean_local(found.group())), None)
    return list(seen)


def find_first(text: str) -> str | None:
    """The first address in a text, normalised."""
    found = ADDRESS.search(text)
    return normalize(clean_local(found.group())) if found else None


def clean_local(address: str) -> str:
    """Drop punctuation that the address pattern swallows from surrounding prose."""
    local, _, domain = address.rpartition("@")
    if not local.startswith('"'):
        local = local.lstrip(".'=/|")
    return f"{local}@{domain}"


def from_header(value: str) -> list[str]:
    """The addresses of an address header (To, Delivered-To, ...), normalised."""
    return [normalize(addr) for _, addr in getaddresses([value]) if "@" in addr]


def is_daemon(address: str) -> bool:
    """Whether an address belongs to a mail server rather than a mailbox."""
    return bool(DAEMONS.match(address))
