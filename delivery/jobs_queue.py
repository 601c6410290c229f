"""Putting jobs on RQ queues: after the transaction commits, by dotted path, with stable ids.

Jobs are named by dotted path ("delivery.jobs.send_batch") so that services can enqueue them
without importing the job module (which imports the services). A batch's job id is stable
(`edm-batch-<id>`), so the reconciler can tell whether its job still exists.
"""

from __future__ import annotations

import datetime as dt

import django_rq
from django.db import transaction
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def enqueue_on_commit(
    queue: str,
    func: str,
    *args,
    job_id: str | None = None,
    at: dt.datetime | None = None,
    delay: float | None = None,
    timeout: int | None = None,
) -> None:
    """Enqueue `func(*args)` once the current transaction commits (at once outside one)."""
    transaction.on_commit(
        lambda: enqueue_now(queue, func, *args, job_id=job_id, at=at, delay=delay, timeout=timeout)
    )


def enqueue_now(
    queue: str,
    func: str,
    *args,
    job_id: str | None = None,
    at: dt.datetime | None = None,
    delay: float | None = None,
    timeout: int | None = None,
) -> None:
    target = django_rq.get_queue(queue)
    options = {"job_id": job_id, "result_ttl": 600, "failure_ttl": 7 * 86400}
    if timeout is not None:
        options["job_timeout"] = timeout
    if at is not None:
        target.enqueue_at(at, func, *args, **options)
    elif delay:
        target.enqueue_in(dt.timedelta(seconds=delay), func, *args, **options)
    else:
        target.enqueue(func, *args, **options)


def job_alive(job_id: str) -> bool:
    """Whether RQ still has this job waiting, scheduled or running."""
    try:
        job = Job.fetch(job_id, connection=django_rq.get_connection("delivery"))
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in ALIVE
