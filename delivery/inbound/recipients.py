"""Which recipients bounce-in accepts: only the addresses the product hands out itself.

    recipient_kind("b-1234-6yspqkqjogk24edt@bounces.example.com", domain=…, secret=…, roles=…)
        -> RecipientKind.RETURN_PATH

At the bounce domain, and nowhere else (bounce-in is never a relay):
- a return path (`b-…`, `t-…`, delivery/verp.py) whose signature verifies;
- a List-Unsubscribe mailto address (`u-…`, campaigns/links.py) whose signature verifies;
- postmaster, also written bare as `<Postmaster>` (RFC 5321 §4.5.1: it must be accepted);
- the role addresses of EDM_BOUNCE_ROLE_ADDRESSES (abuse, the feedback-loop address…).

Every other local part is refused at RCPT, so nothing is stored for it: otherwise anyone
could fill the database with mail to made-up addresses, kept for EDM_INBOUND_KEEP_DAYS.
"""

from __future__ import annotations

import enum
from collections.abc import Collection

from campaigns.links import read_unsubscribe_address
from delivery import verp

POSTMASTER = "postmaster"


class RecipientKind(enum.Enum):
    RETURN_PATH = "return path"
    UNSUBSCRIBE = "unsubscribe"
    POSTMASTER = "postmaster"
    ROLE = "role address"
    ELSEWHERE = "another domain"  # refused: we are not a relay
    UNKNOWN = "no such address"  # refused: our domain, but not an address we gave out

    @property
    def accepted(self) -> bool:
        return self not in (RecipientKind.ELSEWHERE, RecipientKind.UNKNOWN)


def recipient_kind(
    address: str, *, domain: str, secret: str | bytes, roles: Collection[str]
) -> RecipientKind:
    """What `address` is to bounce-in; `roles` are local parts in lower case."""
    local_part, at, address_domain = address.strip().rpartition("@")
    if not at:
        bare = address.strip().lower()
        return RecipientKind.POSTMASTER if bare == POSTMASTER else RecipientKind.ELSEWHERE
    if address_domain.lower().rstrip(".") != domain.lower().rstrip("."):
        return RecipientKind.ELSEWHERE
    local_part = local_part.lower()  # providers treat local parts without case (DESIGN.md)
    if local_part == POSTMASTER:
        return RecipientKind.POSTMASTER
    if local_part in roles:
        return RecipientKind.ROLE
    if verp.decode_token(address, secret) is not None:
        return RecipientKind.RETURN_PATH
    if read_unsubscribe_address(address, secret) is not None:
        return RecipientKind.UNSUBSCRIBE
    return RecipientKind.UNKNOWN
