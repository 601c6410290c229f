"""Periodic jobs, run by the cron process (`python manage.py rqcron delivery.cron`).

The cron process keeps its schedule in its own memory, so it survives a Redis flush; the
reconciler it runs is what rebuilds the queues from the database after one.
"""

from rq import cron

from campaigns import jobs as campaigns_jobs
from delivery import jobs

cron.register(jobs.reconcile_all, queue_name="default", interval=10, job_timeout=300)
cron.register(jobs.inbound_expire, queue_name="default", interval=3600)
cron.register(jobs.requeue_inbound, queue_name="default", interval=60)
cron.register(campaigns_jobs.uploads_sweep, queue_name="default", interval=3600)
cron.register(jobs.engagement_record, queue_name="default", interval=10, job_timeout=600)
