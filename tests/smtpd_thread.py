"""Run one of our aiosmtpd handlers (capture, bounce-in) in a thread for a test."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from delivery import smtpd
from delivery.inbound.client_limits import ClientLimits
from delivery.inbound.receiver import BounceHandler
from tests.net import free_port


def bounce_handler(domain: str, *, on_stored=None, limits: ClientLimits | None = None):
    """bounce-in's handler as `manage.py bounce_server` builds it (default limits and roles)."""
    return BounceHandler(
        domain,
        secret=settings.SECRET_KEY,
        limits=limits or ClientLimits(max_connections=10, messages_per_minute=60),
        roles=settings.EDM_BOUNCE_ROLE_ADDRESSES,
        on_stored=on_stored,
    )


@contextlib.contextmanager
def running_smtpd(handler, *, hostname: str = "test.localhost", size_limit: int = 10_000_000):
    """Serve `handler` on a free loopback port until the block ends; yields the port."""
    port = free_port()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()

    async def main():
        ready = asyncio.Event()
        task = asyncio.create_task(
            smtpd.serve(
                handler,
                host="127.0.0.1",
                port=port,
                stop=stop,
                hostname=hostname,
                size_limit=size_limit,
                ready=ready,
            )
        )
        await ready.wait()
        started.set()
        await task
        # The handlers store through sync_to_async, whose thread keeps a database connection;
        # closed here, or PostgreSQL refuses to drop the test database at the end of the run.
        await sync_to_async(connections.close_all)()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the SMTP server did not start")
    try:
        yield port
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
