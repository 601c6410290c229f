"""bounce-in: the SMTP server for the bounce domain. It is never a relay.

It accepts a recipient only on EDM_BOUNCE_DOMAIN (VERP return paths and the unsubscribe
mailto address live there) and refuses every other one at RCPT time, so it cannot be abused
to send mail anywhere. Accepted messages are stored first and processed afterwards.
"""

from __future__ import annotations

import logging

from aiosmtpd.smtp import SMTP, Envelope, Session

from delivery.inbound.store import inbound_message_store
from delivery.models import InboundMessage
from delivery.smtpd import database_work

logger = logging.getLogger(__name__)


class BounceHandler:
    def __init__(self, domain: str, on_stored=None):
        self.domain = domain.lower()
        # Called with the stored row's id (in the database thread), e.g. to enqueue processing.
        self.on_stored = on_stored

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address.rpartition("@")[2].lower().rstrip(".") != self.domain:
            logger.info("refused relay attempt from %s to %s", session.peer, address)
            return f"550 5.7.1 Relaying denied: only mail for @{self.domain} is accepted here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

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
