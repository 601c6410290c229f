"""The RQ worker class every EDM worker runs: jobs run in the worker process, not a fork.

RQ's default worker forks a work horse per job. For delivery that costs more than the job:
each fork starts with cold caches, so every batch would compile its campaign's templates
again (tens of milliseconds) and reopen its database and Redis connections. Running jobs in
the worker process keeps a campaign compiled across its batches (delivery/prepared.py).

What the fork gave, and how it is kept:
- job timeouts: RQ's signal-based timeout still interrupts a job that runs too long;
- a crash of the process: the job's batch is taken over by another worker (delivery/
  reconcile.py), exactly as when a work horse dies;
- fresh database connections: Django's connection is checked before and after each job, as
  Django does around each request, so a connection broken meanwhile is replaced.
"""

from __future__ import annotations

from django.db import close_old_connections
from rq.worker import SimpleWorker


class Worker(SimpleWorker):
    def execute_job(self, job, queue):
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections()
