"""What the RQ queues and workers are doing, read from Redis without changing anything.

rq's registry `count` properties clean expired entries first (a write); a dashboard only
reads, so it asks for the counts without cleanup. A worker is alive while its key exists:
rq refreshes the key's TTL with every heartbeat, so a worker killed with SIGKILL drops out
once its key expires, even though its name stays in the workers set until rq's own cleanup.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import django_rq
import redis
from rq.utils import utcparse
from rq.worker_registration import REDIS_WORKER_KEYS

from edm import queues as edm_queues
from edm import redis as edm_redis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueDepth:
    name: str
    queued: int  # waiting for a worker
    running: int  # taken by a worker
    scheduled: int  # enqueued with a delay (requeued batches, scheduled campaigns)
    failed: int


@dataclass(frozen=True)
class WorkerInfo:
    name: str
    state: str  # idle, busy, suspended…
    queues: list[str]
    last_heartbeat: dt.datetime | None


@dataclass(frozen=True)
class QueueStatus:
    queues: list[QueueDepth]
    workers: list[WorkerInfo]
    error: str = ""  # set when Redis did not answer


def queue_status() -> QueueStatus:
    """Depth of every queue and the workers alive now (a few pipelined Redis round trips)."""
    try:
        return QueueStatus(_depths(), _workers())
    except redis.RedisError as exc:
        log.warning("Redis did not answer the queue status.", exc_info=True)
        return QueueStatus([], [], error=f"Redis did not answer: {exc}")


def _depths() -> list[QueueDepth]:
    queues = [django_rq.get_queue(name) for name in edm_queues.ALL]
    with edm_redis.connection().pipeline(transaction=False) as pipe:
        for queue in queues:
            pipe.llen(queue.key)
            for registry in (
                queue.started_job_registry,
                queue.scheduled_job_registry,
                queue.failed_job_registry,
            ):
                pipe.zcard(registry.key)
        counts = pipe.execute()
    return [QueueDepth(queue.name, *counts[i * 4 : i * 4 + 4]) for i, queue in enumerate(queues)]


def _workers() -> list[WorkerInfo]:
    client = edm_redis.connection()
    keys = sorted(key.decode() for key in client.smembers(REDIS_WORKER_KEYS))
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hmget(key, "state", "queues", "last_heartbeat")
        found = pipe.execute()
    workers = []
    for key, (state, queues, heartbeat) in zip(keys, found, strict=True):
        if state is None:
            continue  # the key expired: the worker died without deregistering
        workers.append(
            WorkerInfo(
                name=key.rpartition(":")[2],
                state=state.decode(),
                queues=queues.decode().split(",") if queues else [],
                last_heartbeat=_heartbeat(heartbeat),
            )
        )
    return workers


def _heartbeat(value: bytes | None) -> dt.datetime | None:
    return utcparse(value.decode()) if value else None
