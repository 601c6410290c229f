"""The delivery worker: one process, one event loop, up to EDM_WORKER_CONNECTIONS sessions.

`manage.py deliveryworker` takes `send_batch` jobs from RQ's `delivery` queue and runs each
batch as a task of its event loop (delivery/engine/run.py: one SMTP session per batch), as
many at once as it has connections; `rqworker` keeps the other queues. What a batch needs
of the database happens in one recorder thread with its own connection (claiming, loading
and preparing: `batches.batch_start`; recording and releasing: `batches.batch_end`; one
heartbeat UPDATE for every running batch), so sessions never wait on each other's queries
and the process holds one database connection, not one per session.

Crash safety is the blocking engine's, because it lives in the batch rows and Redis, not in
the process: the claim (one run at a time), the heartbeat and takeover after
EDM_BATCH_STALE_SECONDS, the reconciler, the acceptance log (delivery/control.py). A job is
deleted from RQ as soon as it is dequeued: from then on the batch row is the truth (the
reconciler re-enqueues a `queued` batch whose job is gone, and a `running` one whose
heartbeat stopped), so RQ's registries never hold a job this worker cannot answer for.

SIGTERM (or SIGINT) stops dequeuing; running batches stop between messages (pending again,
and dispatched to the other workers) and the process exits once they are recorded. A batch
still waiting on a server after STOP_GRACE is cancelled: its session is aborted and its
run taken over after EDM_BATCH_STALE_SECONDS, as if the worker had been killed.
Relay mode needs SMTP AUTH, which the async client does not speak yet: there each batch
runs on the blocking engine in the recorder thread.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import django_rq
import redis
from django.conf import settings
from django.db import close_old_connections, connection
from rq.exceptions import DequeueTimeout
from rq.intermediate_queue import IntermediateQueue
from rq.queue import Queue

from campaigns.models import Campaign
from delivery import batches, control, transports
from delivery.dispatch import DELIVERY_QUEUE
from delivery.engine.run import AsyncBatchSender
from delivery.engine.throttle import AsyncThrottle, async_client

log = logging.getLogger(__name__)

SEND_BATCH = "delivery.jobs.send_batch"
STOP_GRACE = 10.0  # seconds running batches get to stop after SIGTERM
DEQUEUE_WAIT = 1  # seconds a dequeue waits for a job (RQ's BLMOVE timeout, at least 1)


class DeliveryWorker:
    """See the module docstring. `burst`: stop once the queue is empty and nothing runs."""

    def __init__(self, *, connections: int, burst: bool = False):
        self.connections = connections
        self.burst = burst
        self.stopping = False
        self.running: set[asyncio.Task] = set()
        self.heartbeats: set[int] = set()  # batch ids this process is running
        self.failures = 0

    def run(self) -> int:
        """Serve until SIGTERM (or, in burst mode, until there is nothing left); exit code."""
        asyncio.run(self._main())
        return 1 if self.failures else 0

    def stop(self) -> None:
        if not self.stopping:
            log.info("Stopping: %d batches finish their current message.", len(self.running))
        self.stopping = True

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop)
        self.recorder = ThreadPoolExecutor(1, thread_name_prefix="recorder")
        self.dequeuer = ThreadPoolExecutor(1, thread_name_prefix="dequeue")
        self.redis = async_client(settings.REDIS_URL)
        self.throttle = AsyncThrottle(self.redis)
        beating = asyncio.create_task(self._heartbeat(), name="heartbeat")
        log.info("Delivery worker: up to %d sessions.", self.connections)
        try:
            await self._serve()
            await self._drain()
        finally:
            beating.cancel()
            await self.redis.aclose()
            # The recorder thread's own connection (resolved there, not here).
            await self._db(lambda: connection.close())
            self.recorder.shutdown()
            self.dequeuer.shutdown()

    async def _drain(self) -> None:
        """Let running batches stop between messages; after STOP_GRACE, cancel the ones
        still waiting on a server (a silent host can hold a step for minutes): their
        sessions are aborted and their batches taken over as after a crash."""
        if not self.running:
            return
        _, waiting = await asyncio.wait(self.running, timeout=STOP_GRACE)
        for task in waiting:
            task.cancel()
        if waiting:
            log.warning("%d batches cancelled: their runs are taken over later.", len(waiting))
            await asyncio.wait(waiting)

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.stopping:
            if len(self.running) >= self.connections:
                await asyncio.wait(self.running, return_when=asyncio.FIRST_COMPLETED)
                continue
            batch_id = await loop.run_in_executor(self.dequeuer, self._dequeue)
            if batch_id is None:
                if self.burst:
                    if not self.running:
                        return
                    await asyncio.wait(self.running, return_when=asyncio.FIRST_COMPLETED)
                continue
            task = asyncio.create_task(self._batch(batch_id), name=f"batch {batch_id}")
            self.running.add(task)
            task.add_done_callback(self.running.discard)

    def _dequeue(self) -> int | None:
        """The next batch id from the delivery queue, its job deleted (see the docstring)."""
        queue = django_rq.get_queue(DELIVERY_QUEUE)
        try:
            _move_due_jobs(queue)
            found = Queue.dequeue_any(
                [queue], None if self.burst else DEQUEUE_WAIT, connection=queue.connection
            )
        except DequeueTimeout:
            return None
        except redis.RedisError as exc:  # Redis away: ask again
            log.warning("Could not dequeue: %s", exc)
            time.sleep(DEQUEUE_WAIT)
            return None
        if found is None:
            return None
        job, _ = found
        job.delete()
        IntermediateQueue(queue.key, queue.connection).remove(job.id)
        if job.func_name != SEND_BATCH:
            log.warning("Not a batch job on the delivery queue, dropped: %s", job.func_name)
            return None
        return int(job.args[0])

    async def _db(self, work: Callable, *args):
        """Run `work(*args)` in the recorder thread, around a checked database connection."""

        def checked():
            close_old_connections()
            try:
                return work(*args)
            finally:
                close_old_connections()

        return await asyncio.get_running_loop().run_in_executor(self.recorder, checked)

    async def _batch(self, batch_id: int) -> None:
        try:
            if transports.mode() == "relay":
                await self._db(batches.batch_send, batch_id)
                return
            claimed = await self._db(batches.batch_start, batch_id)
            if isinstance(claimed, batches.BatchRun):
                return
            self.heartbeats.add(batch_id)
            try:
                results = await self._send(claimed) if claimed.messages else []
                await self._db(batches.batch_end, claimed, results)
            finally:
                self.heartbeats.discard(batch_id)
        except Exception:
            # The batch stays `running` without a heartbeat: the reconciler hands it on.
            self.failures += 1
            log.exception("Batch %s failed.", batch_id)

    async def _send(self, claimed: batches.Claimed) -> list:
        batch, config = claimed.batch, claimed.config
        with control.AcceptanceLog(batch.pk) as acceptances:
            sender = AsyncBatchSender(
                site=batch.site,
                limits=config.limits,
                throttle=self.throttle,
                connect=transports.async_connector(config.tls_policy),
                classify=batches.reply_classification,
                on_accepted=acceptances.mark,
                should_stop=self._stopper(batch.campaign_id),
            )
            return await sender.run(claimed.messages)

    def _stopper(self, campaign_id: int):
        """should_stop for a batch: this worker stopping, or the campaign no longer sending."""

        async def should_stop() -> bool:
            if self.stopping:
                return True
            state = await self.redis.get(control._state_key(campaign_id))
            if state is None:  # Redis forgot: ask the database
                state = await self._db(_campaign_status, campaign_id)
            elif isinstance(state, bytes):
                state = state.decode()
            return state != Campaign.Status.SENDING

        return should_stop

    async def _heartbeat(self) -> None:
        every = settings.EDM_BATCH_STALE_SECONDS / 4
        while True:
            await asyncio.sleep(every)
            if self.heartbeats:
                try:
                    await self._db(batches.batches_heartbeat, list(self.heartbeats))
                except Exception:  # the database may be back before the runs go stale
                    log.warning("Heartbeat failed.", exc_info=True)


def _move_due_jobs(queue: Queue) -> None:
    """Put the queue's delayed jobs that are due on it (RQ's scheduler does this for the
    queues its worker listens to, and no `rqworker` listens to this one). Without the
    scheduler's lock two workers may both enqueue a job: harmless, since a batch runs only
    for the one that claims it."""
    registry = queue.scheduled_job_registry
    for job_id in registry.get_jobs_to_schedule(int(time.time())):
        registry.remove(job_id)
        job = queue.fetch_job(job_id)
        if job is not None:
            queue.enqueue_job(job)


def _campaign_status(campaign_id: int) -> str | None:
    return Campaign.objects.filter(pk=campaign_id).values_list("status", flat=True).first()
