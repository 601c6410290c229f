"""The safety net, run every few seconds by the cron process: the database is the truth.

- a batch `running` whose heartbeat stopped belonged to a worker that died: it is queued
  again (its accepted messages are in Redis and will not be sent twice);
- a batch `queued` whose RQ job is gone (Redis restarted or flushed) is enqueued again;
- every site with pending batches is dispatched;
- a sending campaign whose plan job was lost is planned again;
- a scheduled campaign whose time has come is started (RQ's scheduler normally does it);
- a sending campaign with nothing left is finished;
- deferred deliveries that are due go back into batches;
- transactional messages that are due, or whose job was lost, get a job (delivery/tx/retry.py).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services.campaigns import CampaignStateError, campaign_start
from delivery import dispatch, jobs_queue, planning
from delivery.batches import stale_before
from delivery.models import Batch, CampaignStats
from delivery.tx.retry import tx_deferred_requeue, tx_lost_requeue

logger = logging.getLogger(__name__)

SENDING = Campaign.Status.SENDING
QUEUED_GRACE = dt.timedelta(seconds=30)  # a job enqueued on commit may not be visible yet


def reconcile(now: dt.datetime | None = None) -> dict[str, int]:
    """One pass of every check above; counts of what it did, for the log."""
    now = now or timezone.now()
    done = {
        "revived": _revive_dead_runs(now),
        "requeued": _requeue_lost_jobs(now),
        "planned": _plan_lost_campaigns(),
        "started": _start_due_campaigns(now),
        "retried": deferred_requeue(now),
        "tx_retried": tx_deferred_requeue(now),
        "tx_revived": tx_lost_requeue(now),
    }
    done["dispatched"] = _dispatch_all()
    done["finished"] = sum(
        dispatch.campaign_finish_if_done(c) for c in Campaign.objects.filter(status=SENDING)
    )
    if any(done.values()):
        logger.info("reconcile: %s", done)
    return done


def _revive_dead_runs(now: dt.datetime) -> int:
    dead = Batch.objects.filter(
        state=Batch.State.RUNNING, heartbeat_at__lt=stale_before(now)
    ).values_list("id", flat=True)
    return sum(dispatch.batch_enqueue(i, from_states=(Batch.State.RUNNING,)) for i in dead)


def _requeue_lost_jobs(now: dt.datetime) -> int:
    queued = Batch.objects.filter(state=Batch.State.QUEUED, campaign__status=SENDING)
    revived = 0
    for batch in queued.only("id", "created_at"):
        if batch.created_at > now - QUEUED_GRACE or jobs_queue.job_alive(batch.job_id):
            continue
        Batch.objects.filter(pk=batch.pk, state=Batch.State.QUEUED).update(
            state=Batch.State.PENDING
        )
        revived += dispatch.batch_enqueue(batch.pk, from_states=(Batch.State.PENDING,))
    return revived


def _plan_lost_campaigns() -> int:
    unplanned = Campaign.objects.filter(status=SENDING).exclude(
        pk__in=CampaignStats.objects.values("campaign_id")
    )
    count = 0
    for campaign in unplanned:
        planning.campaign_plan(campaign)
        count += 1
    return count


def _start_due_campaigns(now: dt.datetime) -> int:
    started = 0
    for campaign in Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, scheduled_at__lte=now
    ):
        try:
            campaign_start(campaign)
        except CampaignStateError:
            continue  # started by the scheduler in the meantime
        started += 1
    return started


def deferred_requeue(now: dt.datetime | None = None) -> int:
    """Put due deferred deliveries of sending campaigns back in batches; how many sites."""
    sites: set[str] = set()
    for campaign in Campaign.objects.filter(status=SENDING):
        sites |= planning.deferred_requeue(campaign, now)
    return len(sites)


def _dispatch_all() -> int:
    sites = (
        Batch.objects.filter(state=Batch.State.PENDING, campaign__status=SENDING)
        .values_list("site", flat=True)
        .distinct()
    )
    return sum(dispatch.site_dispatch(site) for site in list(sites))
