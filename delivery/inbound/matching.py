"""Which delivery a notice is about, and whether it is an unsubscribe mail.

In order of trust:
1. the VERP return path it was sent to (`delivery/verp.py`): signed, names the delivery;
2. the Message-ID of our message that it quotes (`delivery/message_ids.py`): signed as well,
   for reports that come back to a plain address (a mailbox, a feedback loop, a provider).
An address or Message-ID in our shape whose signature does not match is forged, and the
notice is ignored, as is one naming a delivery that does not exist (any more). Unsigned
clues (the recipient address, List-Id) are never used: they would let anyone who knows an
address get it suppressed with a fake bounce.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from campaigns.links import LinkTarget, read_unsubscribe_address
from delivery import message_ids, verp
from delivery.inbound.notices import Notice
from delivery.models import Delivery

logger = logging.getLogger(__name__)

UNSUBSCRIBE_PREFIX = "u-"


class Match(NamedTuple):
    delivery: Delivery | None
    how: str  # how it was found, or why nothing was


class Unsubscribe(NamedTuple):
    target: LinkTarget | None
    address: str  # the address it was sent to
    forged: bool = False


def notice_delivery(notice: Notice, *, bounce_domain: str, secret: str | bytes) -> Match:
    """The delivery a bounce or complaint is about, or None and why (logged)."""
    forged = None
    for address in _ours(notice.addressed_to, bounce_domain):
        if not address.lower().startswith(f"{verp.PREFIX}-"):
            continue
        delivery_id = verp.decode(address, secret)
        if delivery_id is not None:
            return _delivery(delivery_id, f"return path {address}")
        forged = forged or address
    if forged:
        return _refused(f"forged return path {forged}")
    message_id = notice.message_id or ""
    delivery_id = message_ids.read(message_id, secret) if message_id else None
    if delivery_id is not None:
        return _delivery(delivery_id, f"Message-ID {message_id}")
    if message_id and message_ids.claimed(message_id) is not None:
        return _refused(f"forged Message-ID {message_id}")
    return Match(None, "no return path or Message-ID of ours")


def notice_tx_message(notice: Notice, *, bounce_domain: str, secret: str | bytes) -> int | None:
    """The transactional message a notice is about, from its `t-` return path, if any."""
    for address in _ours(notice.addressed_to, bounce_domain):
        token = verp.decode_token(address, secret)
        if token is not None and token.kind is verp.Kind.TX:
            return token.id
    return None


def notice_unsubscribe(
    notice: Notice, *, bounce_domain: str, secret: str | bytes
) -> Unsubscribe | None:
    """The campaign and contact of an unsubscribe address the notice was sent to, if any."""
    for address in _ours(notice.addressed_to, bounce_domain):
        if address.lower().startswith(UNSUBSCRIBE_PREFIX):
            target = read_unsubscribe_address(address, secret)
            if target is None:
                logger.warning("forged unsubscribe address %s", address)
            return Unsubscribe(target, address, forged=target is None)
    return None


def _ours(addresses: tuple[str, ...], bounce_domain: str) -> list[str]:
    domain = bounce_domain.lower().rstrip(".")
    return [a for a in addresses if a.rpartition("@")[2].lower().rstrip(".") == domain]


def _delivery(delivery_id: int, how: str) -> Match:
    if delivery_id == 0:
        return Match(None, f"a test message ({how})")  # test sends are not deliveries
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        logger.info("bounce for unknown delivery %s (%s)", delivery_id, how)
        return Match(None, f"unknown delivery {delivery_id} ({how})")
    return Match(delivery, how)


def _refused(why: str) -> Match:
    logger.warning("ignored a bounce: %s", why)
    return Match(None, why)
