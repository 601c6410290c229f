"""The capture SMTP server: in capture mode every outgoing message ends here, on loopback.

The delivery engine reaches it through the same SMTP path as real mail, so what the Outbox
shows is exactly what would have left the machine.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async

from delivery.outbox import captured_message_store

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 50 * 1024 * 1024


class CaptureHandler:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        stored = await sync_to_async(captured_message_store, thread_sensitive=True)(
            mail_from=envelope.mail_from or "", recipients=list(envelope.rcpt_tos), raw=raw
        )
        logger.info("captured #%s for %s", stored.id, ", ".join(envelope.rcpt_tos))
        return f"250 2.0.0 Captured as #{stored.id}"


async def serve(
    host: str, port: int, stop: asyncio.Event, ready: asyncio.Event | None = None
) -> None:
    """Accept mail on host:port until `stop` is set."""
    handler = CaptureHandler()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(
            handler,
            hostname="capture.localhost",
            data_size_limit=MAX_MESSAGE_BYTES,
            decode_data=False,
        ),
        host=host,
        port=port,
    )
    logger.info("capture SMTP server listening on %s:%s", host, port)
    if ready is not None:
        ready.set()
    async with server:
        await stop.wait()


async def serve_until_signalled(host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM: the `capture_server` command."""
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await serve(host, port, stop)
