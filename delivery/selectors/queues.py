"""Reading RQ's state for the Delivery page: jobs per queue and the workers alive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import django_rq
from rq import Worker

from edm import queues


@dataclass(frozen=True)
class QueueDepth:
    name: str
    waiting: int  # enqueued, not started
    running: int
    scheduled: int  # waiting for a time (retries, delayed requeues)
    failed: int


@dataclass(frozen=True)
class WorkerSummary:
    name: str
    hostname: str
    pid: int | None
    state: str  # busy, idle, suspended…
    queues: list[str]
    current_job: str | None
    last_heartbeat: datetime | None


def queue_depths() -> list[QueueDepth]:
    """Every RQ queue of the product, highest priority first."""
    depths = []
    for name in queues.ALL:
        queue = django_rq.get_queue(name)
        depths.append(
            QueueDepth(
                name=name,
                waiting=queue.count,
                running=queue.started_job_registry.count,
                scheduled=queue.scheduled_job_registry.count,
                failed=queue.failed_job_registry.count,
            )
        )
    return depths


def workers_alive() -> list[WorkerSummary]:
    """The workers registered in Redis (a worker that stops heartbeating drops out)."""
    workers = Worker.all(connection=django_rq.get_connection(queues.DEFAULT))
    return sorted(
        (
            WorkerSummary(
                name=worker.name,
                hostname=worker.hostname or "",
                pid=worker.pid,
                state=str(worker.get_state()),
                queues=worker.queue_names(),
                current_job=worker.get_current_job_id(),
                last_heartbeat=worker.last_heartbeat,
            )
            for worker in workers
        ),
        key=lambda worker: worker.name,
    )
