"""bounce-in: the SMTP server for the bounce domain. It is never a relay.

It accepts only recipients the product hands out itself (`delivery/inbound/recipients.py`:
signed return paths and unsubscribe addresses, postmaster and the role addresses) and refuses
every other one at RCPT time, so it cannot be abused to send mail anywhere nor to store mail
for made-up addresses. Each client address may hold a few connections at once and send a
few messages a minute (`delivery/inbound/client_limits.py`); mail to postmaster is never
rate-limited (RFC 5321 §4.5.1), only its connections are. Accepted messages are stored first
and processed afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from aiosmtpd.smtp import SMTP, Envelope, Session

from delivery.inbound.client_limits import ClientLimits
from delivery.inbound.recipients import RecipientKind, recipient_kind
from delivery.inbound.store import inbound_message_store
from delivery.models import InboundMessage
from delivery.smtpd import database_work

logger = logging.getLogger(__name__)


class BounceHandler:
    def __init__(
        self,
        domain: str,
        *,
        secret: str | bytes,
        limits: ClientLimits,
        roles: Collection[str] = frozenset(),
        on_stored: Callable[[int], object] | None = None,
    ):
        self.domain = domain.lower()
        self.secret = secret
        self.limits = limits
        self.roles = frozenset(role.lower() for role in roles)
        # Called with the stored row's id (in the database thread), e.g. to enqueue processing.
        self.on_stored = on_stored

    def connection_open(self, peer) -> str | None:
        if self.limits.connection_open(_host(peer)):
            return None
        logger.info("refused a connection from %s: too many open", _host(peer))
        return "421 4.7.0 Too many connections from your address, try again later"

    def connection_close(self, peer) -> None:
        self.limits.connection_close(_host(peer))

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        kind = self._kind(address)
        if kind is RecipientKind.ELSEWHERE:
            logger.info("refused relay attempt from %s to %s", session.peer, address)
            return f"550 5.7.1 Relaying denied: only mail for @{self.domain} is accepted here"
        if kind is RecipientKind.UNKNOWN:
            logger.info("refused unknown recipient %s from %s", address, session.peer)
            return "550 5.1.1 No such recipient here"
        # A message counts once, at its first recipient that is not postmaster.
        counts = kind is not RecipientKind.POSTMASTER and all(
            self._kind(earlier) is RecipientKind.POSTMASTER for earlier in envelope.rcpt_tos
        )
        if counts and not self.limits.message_take(_host(session.peer)):
            logger.info("refused a message from %s: too many this minute", session.peer)
            return "450 4.7.0 Too many messages from your address, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    def _kind(self, address: str) -> RecipientKind:
        return recipient_kind(address, domain=self.domain, secret=self.secret, roles=self.roles)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        stored = await database_work(self._store)(envelope)
        return f"250 2.0.0 Received as #{stored.id}"

    def _store(self, envelope: Envelope) -> InboundMessage:
        stored = inbound_message_store(
            source=InboundMessage.Source.SMTP,
            raw=envelope.original_content or b"",
            mail_from=envelope.mail_from or "",
            recipients=list(envelope.rcpt_tos),
        )
        logger.info("received #%s for %s", stored.id, ", ".join(envelope.rcpt_tos))
        if self.on_stored is not None:
            self.on_stored(stored.id)
        return stored


def _host(peer) -> str:
    """The client's address from asyncio's peername (host, port[, flowinfo, scope])."""
    return peer[0] if isinstance(peer, tuple) else str(peer)
