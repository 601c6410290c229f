"""Which batches run now: per site, no more enqueued or running than it may have connections.

Postfix's queue manager does the same for its delivery agents: batches wait in the database
(`pending`) and a site gets a new job only when one of its connections is free, so workers
never spin on jobs that cannot get a slot. Every finished batch dispatches its site again;
the reconciler dispatches every site as a safety net. Two dispatches racing may enqueue one
batch too many: the throttle's connection slots still hold the limit, the extra job waits.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign
from delivery import jobs_queue
from delivery.models import Batch, CampaignStats
from delivery.sites import site_config
from delivery.throttle import Throttle
from edm import redis as edm_redis

DELIVERY_QUEUE = "delivery"
SENDING = Campaign.Status.SENDING


def throttle() -> Throttle:
    return Throttle(edm_redis.connection())


def site_dispatch(site: str) -> int:
    """Enqueue pending batches of `site` up to its free connections; how many were enqueued."""
    limits = throttle().state(site, site_config(site).limits).limits
    active = Batch.objects.filter(
        site=site, state__in=[Batch.State.QUEUED, Batch.State.RUNNING]
    ).count()
    free = limits.max_connections - active
    if free <= 0:
        return 0
    pending = list(
        Batch.objects.filter(site=site, state=Batch.State.PENDING, campaign__status=SENDING)
        .order_by("id")
        .values_list("id", flat=True)[:free]
    )
    enqueued = 0
    for batch_id in pending:
        enqueued += batch_enqueue(batch_id, from_states=(Batch.State.PENDING,))
    return enqueued


def batch_enqueue(
    batch_id: int, *, from_states: tuple[str, ...], delay: float | None = None
) -> int:
    """Mark the batch queued and enqueue its job after commit; 0 if another got there first."""
    with transaction.atomic():
        claimed = Batch.objects.filter(pk=batch_id, state__in=from_states).update(
            state=Batch.State.QUEUED, heartbeat_at=None
        )
        if claimed:
            jobs_queue.enqueue_on_commit(
                DELIVERY_QUEUE,
                "delivery.jobs.send_batch",
                batch_id,
                job_id=f"edm-batch-{batch_id}",
                delay=delay,
            )
    return claimed


def campaign_sites_dispatch(campaign: Campaign) -> None:
    """Dispatch every site the campaign still has pending batches for (on resume)."""
    sites = (
        Batch.objects.filter(campaign=campaign, state=Batch.State.PENDING)
        .values_list("site", flat=True)
        .distinct()
    )
    for site in list(sites):
        site_dispatch(site)


def campaign_finish_if_done(campaign: Campaign) -> bool:
    """Mark a sending campaign finished when nothing is queued, deferred or running."""
    stats = CampaignStats.objects.filter(campaign=campaign).first()
    if stats is None or stats.queued > 0 or stats.deferred > 0:
        return False
    if Batch.objects.filter(campaign=campaign, state=Batch.State.RUNNING).exists():
        return False
    finished = Campaign.objects.filter(pk=campaign.pk, status=SENDING).update(
        status=Campaign.Status.FINISHED, finished_at=timezone.now(), updated_at=timezone.now()
    )
    return bool(finished)
