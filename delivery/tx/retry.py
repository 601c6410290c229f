"""The reconciler's part for transactional mail: due retries, and jobs that were lost.

- a deferred message whose next attempt is due goes back to `queued` and its job is enqueued;
- a queued message whose job is gone (Redis flushed, enqueue lost in a crash) gets a new job;
- a message claimed by a run that died (its claim older than the job's timeout) likewise.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from delivery import jobs_queue
from delivery.models import TxMessage
from delivery.tx.accept import JOB_TIMEOUT
from delivery.tx.send import CLAIM_STALE
from edm import queues

Status = TxMessage.Status
QUEUED_GRACE = dt.timedelta(seconds=30)  # a job enqueued on commit may not be visible yet


def tx_deferred_requeue(now: dt.datetime | None = None) -> int:
    """Queue again the deferred messages that are due; how many requests got a job."""
    now = now or timezone.now()
    due = TxMessage.objects.filter(status=Status.DEFERRED, next_attempt_at__lte=now)
    requests = set(due.values_list("request_id", flat=True))
    if not requests:
        return 0
    due.update(status=Status.QUEUED, next_attempt_at=None, updated_at=now)
    for request_id in requests:
        _enqueue(request_id)
    return len(requests)


def tx_lost_requeue(now: dt.datetime | None = None) -> int:
    """Give a job to requests whose queued or dead-claimed messages have none; how many."""
    now = now or timezone.now()
    waiting = TxMessage.objects.filter(
        Q(status=Status.QUEUED, updated_at__lt=now - QUEUED_GRACE)
        | Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_STALE)
    )
    revived = 0
    for request_id in set(waiting.values_list("request_id", flat=True)):
        if not jobs_queue.job_alive(f"edm-tx-{request_id}"):
            _enqueue(request_id)
            revived += 1
    return revived


def _enqueue(request_id: int) -> None:
    jobs_queue.enqueue_now(
        queues.TRANSACTIONAL,
        "delivery.jobs.send_tx",
        request_id,
        job_id=f"edm-tx-{request_id}",
        timeout=JOB_TIMEOUT,
    )
