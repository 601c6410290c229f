"""Running an aiosmtpd server until told to stop: shared by the capture and bounce-in servers."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiosmtpd.smtp import SMTP
from asgiref.sync import sync_to_async
from django.db import close_old_connections

T = TypeVar("T")

logger = logging.getLogger(__name__)


def database_work(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """`func` run in Django's database thread, for a handler's hooks.

    A long-running server has no requests around which Django renews its connection, so one
    that is too old or broken (a PostgreSQL restart) is replaced before each use.
    """

    def renewed(*args, **kwargs) -> T:
        close_old_connections()
        return func(*args, **kwargs)

    return sync_to_async(renewed)


class _SMTP(SMTP):
    """aiosmtpd's server plus two hooks aiosmtpd lacks, both optional on the handler:

    - `connection_open(peer) -> str | None`: a reply line to refuse a new connection with
      (sent instead of the greeting, then the connection is closed), or None to serve it;
    - `connection_close(peer)`: an accepted connection ended, however it ended.
    """

    _refused = False
    _opened = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        opening = getattr(self.event_handler, "connection_open", None)
        # A second call comes after STARTTLS, on the same connection: not a new one.
        if self.transport is None and opening is not None:
            refusal = opening(transport.get_extra_info("peername"))
            if refusal is not None:
                self._refused = True
                transport.write(f"{refusal}\r\n".encode("ascii"))
                transport.close()
                return
            self._opened = True
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return  # aiosmtpd never saw this connection
        try:
            super().connection_lost(error)
        finally:
            if self._opened:
                self._opened = False
                self.event_handler.connection_close(self.session.peer)


async def serve(
    handler: object,
    *,
    host: str,
    port: int,
    stop: asyncio.Event,
    hostname: str,
    size_limit: int,
    ready: asyncio.Event | None = None,
) -> None:
    """Accept SMTP on host:port with `handler`'s hooks until `stop` is set."""
    server = await asyncio.get_running_loop().create_server(
        lambda: _SMTP(handler, hostname=hostname, data_size_limit=size_limit, decode_data=False),
        host=host,
        port=port,
    )
    logger.info("%s: SMTP server listening on %s:%s", hostname, host, port)
    if ready is not None:
        ready.set()
    async with server:
        await stop.wait()


def run_until_signalled(handler: object, **options) -> None:
    """Serve until SIGINT or SIGTERM: what the server management commands do."""

    async def main() -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await serve(handler, stop=stop, **options)

    asyncio.run(main())
