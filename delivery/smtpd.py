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
        lambda: SMTP(handler, hostname=hostname, data_size_limit=size_limit, decode_data=False),
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
