"""The capture SMTP server: in capture mode every outgoing message ends here, on loopback.

The delivery engine reaches it through the same SMTP path as real mail, so what the Outbox
shows is exactly what would have left the machine.
"""

from __future__ import annotations

import logging

from aiosmtpd.smtp import SMTP, Envelope, Session

from delivery.outbox import captured_message_store
from delivery.smtpd import database_work

logger = logging.getLogger(__name__)

HOSTNAME = "capture.localhost"
MAX_MESSAGE_BYTES = 50 * 1024 * 1024


class CaptureHandler:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        stored = await database_work(_store)(envelope)
        logger.info("captured #%s for %s", stored.id, ", ".join(envelope.rcpt_tos))
        return f"250 2.0.0 Captured as #{stored.id}"


def _store(envelope: Envelope):
    return captured_message_store(
        mail_from=envelope.mail_from or "",
        recipients=list(envelope.rcpt_tos),
        raw=envelope.original_content or b"",
    )
