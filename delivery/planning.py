"""Planning: a started campaign's audience becomes deliveries, routed and grouped into batches.

1. Snapshot (`deliveries_snapshot`): one INSERT … SELECT writes a delivery row per eligible
   contact (the audience selector's query), each person once; the database does the work,
   so a million recipients plan in bounded memory.
2. Route and batch (`deliveries_assign`): the distinct recipient domains are resolved to
   sites (biggest domains first, a few lookups at a time, answers cached in Redis), and each
   site's deliveries are cut into batches of BATCH_SIZE. Domains that take no mail bounce at
   once; domains whose DNS fails now are deferred and retried like any deferred delivery.
3. Dispatch (delivery/dispatch.py) enqueues as many batches per site as it may have
   connections; each finished batch dispatches the next.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import redis
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.selectors.campaigns import campaign_audience
from delivery import counters, dispatch, jobs_queue, transports
from delivery.models import Batch, CampaignStats, Delivery, SiteStats
from delivery.mx import PermanentRouteError, Route, TemporaryRouteError
from delivery.recording import results_record

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
RESOLVE_THREADS = 16
RESOLVE_CHUNK = 256


def campaign_plan_enqueue(campaign_id: int) -> None:
    """Plan the campaign in a job, once the transaction that started it commits."""
    jobs_queue.enqueue_on_commit("default", "delivery.jobs.plan_campaign", campaign_id)


def campaign_start_at(campaign_id: int, at: dt.datetime) -> None:
    """Start a scheduled campaign at `at` (RQ's scheduler; the reconciler is the safety net)."""
    jobs_queue.enqueue_on_commit(
        "default", "delivery.jobs.start_scheduled_campaign", campaign_id, at=at
    )


def campaign_resume_enqueue(campaign_id: int) -> None:
    jobs_queue.enqueue_on_commit("default", "delivery.jobs.resume_campaign", campaign_id)


def campaign_cancel_enqueue(campaign_id: int) -> None:
    jobs_queue.enqueue_on_commit("default", "delivery.jobs.cancel_campaign", campaign_id)


def campaign_plan(campaign: Campaign) -> None:
    """Snapshot, route and batch a sending campaign; safe to run again after a crash."""
    if campaign.status != Campaign.Status.SENDING:
        return
    deliveries_snapshot(campaign)
    sites = deliveries_assign(campaign)
    for site in sites:
        dispatch.site_dispatch(site)
    dispatch.campaign_finish_if_done(campaign)


def deliveries_snapshot(campaign: Campaign) -> int:
    """Write one queued delivery per audience member, once; the number written."""
    with transaction.atomic():
        stats, created = CampaignStats.objects.select_for_update().get_or_create(campaign=campaign)
        if not created:
            return 0  # planned already: an earlier run committed the snapshot
        audience_sql, params = (
            campaign_audience(campaign).values_list("id", "email", "domain").query.sql_with_params()
        )
        table = connection.ops.quote_name(Delivery._meta.db_table)
        # WHERE true: SQLite needs it to tell ON CONFLICT from a join constraint (its docs,
        # "The UPSERT parsing ambiguity"); PostgreSQL does not mind.
        # The audience query is Django's own SQL; every value is a parameter.
        sql = (
            f"INSERT INTO {table} (campaign_id, contact_id, email, domain, site, status, "  # noqa: S608
            "attempts, last_enhanced, last_reply, reason, updated_at) "
            f"SELECT %s, a.id, a.email, a.domain, '', %s, 0, '', '', '', %s "
            f"FROM ({audience_sql}) a WHERE 1 = 1 ON CONFLICT DO NOTHING"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [campaign.pk, Delivery.Status.QUEUED, timezone.now(), *params])
            written = cursor.rowcount
        stats.audience = stats.queued = written
        stats.updated_at = timezone.now()
        stats.save()
    return written


def deliveries_assign(campaign: Campaign) -> set[str]:
    """Route the campaign's unbatched queued deliveries and cut them into batches; the sites.

    Two passes, neither needing an index on the domain: the distinct domains are resolved
    (GROUP BY), then the deliveries are read once in id order and dealt to their sites.
    """
    unbatched = Delivery.objects.filter(
        campaign=campaign, status=Delivery.Status.QUEUED, batch__isnull=True
    )
    domains = unbatched.values_list("domain", flat=True).annotate(n=Count("id")).order_by()
    routes = dict(_routes(iter(list(domains))))
    batcher = _Batcher(campaign)
    unroutable: dict[str, list[int]] = defaultdict(list)
    rows = unbatched.values_list("id", "domain").order_by("id").iterator(chunk_size=5000)
    for delivery_id, domain in rows:
        route = routes[domain]
        if isinstance(route, Route):
            batcher.add(route.site, delivery_id)
        else:
            unroutable[domain].append(delivery_id)
    for domain, ids in unroutable.items():
        _unroutable(campaign, domain, ids, routes[domain])
    return batcher.flush()


def _routes(domains: Iterator[str]) -> Iterator[tuple[str, Route | Exception]]:
    """(domain, Route or the route error), resolving a chunk of domains concurrently."""
    resolver = transports.router()

    def resolve(domain: str) -> Route | Exception:
        try:
            return transports.route(domain, resolver)
        except (PermanentRouteError, TemporaryRouteError) as exc:
            return exc

    with ThreadPoolExecutor(RESOLVE_THREADS) as pool:
        chunk: list[str] = []
        for domain in domains:
            chunk.append(domain)
            if len(chunk) == RESOLVE_CHUNK:
                yield from zip(chunk, pool.map(resolve, chunk), strict=True)
                chunk = []
        yield from zip(chunk, pool.map(resolve, chunk), strict=True)


class _Batcher:
    """Collects delivery ids per site and writes a batch each time a site has BATCH_SIZE.

    A site's first batch is dispatched as soon as it is written, so sending starts while the
    rest of a big campaign is still being cut into batches (the other workers would idle).
    """

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self.pending: dict[str, list[int]] = defaultdict(list)
        self.sites: set[str] = set()

    def add(self, site: str, delivery_id: int) -> None:
        buffer = self.pending[site]
        buffer.append(delivery_id)
        if len(buffer) == BATCH_SIZE:
            self._write(site, buffer)
            buffer.clear()

    def flush(self) -> set[str]:
        for site, buffer in self.pending.items():
            if buffer:
                self._write(site, buffer)
        self.pending.clear()
        return self.sites

    def _write(self, site: str, ids: list[int]) -> None:
        with transaction.atomic():
            batch = Batch.objects.create(campaign=self.campaign, site=site, size=len(ids))
            # Only rows still unbatched and queued: the reconciler's sweep of deferred mail may
            # batch this campaign at the same time, and a cancel may have come meanwhile.
            taken = Delivery.objects.filter(
                pk__in=ids, batch__isnull=True, status=Delivery.Status.QUEUED
            ).update(batch=batch, site=site)
            if not taken:
                batch.delete()
                return
            if taken != len(ids):
                Batch.objects.filter(pk=batch.pk).update(size=taken)
            # With the batch, so the site's counters never lag behind what it may send.
            counters.add(
                SiteStats,
                key={"campaign_id": self.campaign.pk, "site": site},
                increments={"queued": taken},
            )
        if site not in self.sites:
            self.sites.add(site)
            try:
                dispatch.site_dispatch(site)
            except redis.RedisError as exc:  # campaign_plan dispatches every site at the end
                logger.warning("Early dispatch of %s failed: %s", site, exc)


def _unroutable(campaign: Campaign, domain: str, ids: list[int], error: Exception) -> None:
    """Bounce (no such domain, null MX) or defer (DNS failing now) a domain's deliveries."""
    Delivery.objects.filter(pk__in=ids).update(site=domain)
    counters.add(
        SiteStats, key={"campaign_id": campaign.pk, "site": domain}, increments={"queued": len(ids)}
    )
    results_record(campaign, domain, [transports.unroutable_result(i, domain, error) for i in ids])


def deferred_requeue(campaign: Campaign, now: dt.datetime | None = None) -> set[str]:
    """Put the campaign's deferred deliveries that are due back in batches; the sites."""
    now = now or timezone.now()
    due = Delivery.objects.filter(
        campaign=campaign, status=Delivery.Status.DEFERRED, next_attempt_at__lte=now
    )
    by_site = dict(due.values_list("site").annotate(n=Count("id")).order_by())
    if not by_site:
        return set()
    with transaction.atomic():
        moved = due.update(status=Delivery.Status.QUEUED, batch=None, next_attempt_at=None)
        CampaignStats.objects.filter(campaign=campaign).update(
            deferred=F("deferred") - moved, queued=F("queued") + moved
        )
        counters.add_many(
            SiteStats,
            key_columns=["campaign_id", "site"],
            rows=[
                {"campaign_id": campaign.pk, "site": site, "deferred": -n}
                for site, n in by_site.items()
            ],
            increment_columns=["deferred"],
        )
    return deliveries_assign(campaign)


def campaign_cancel_remaining(campaign: Campaign) -> int:
    """Cancel every delivery of a cancelled campaign that has not gone out; how many.

    Deliveries of a running batch are left to it: its messages may be with a server right
    now, and its results are recorded only for deliveries still queued, so cancelling them
    here would record sent messages as cancelled. The batch notices the cancel between
    messages and, once it has recorded what it sent, calls this again (batches._release).
    """
    left = Delivery.objects.filter(
        campaign=campaign, status__in=[Delivery.Status.QUEUED, Delivery.Status.DEFERRED]
    ).exclude(batch__state=Batch.State.RUNNING)
    with transaction.atomic():
        by_site = list(left.values_list("site", "status").annotate(n=Count("id")).order_by())
        cancelled = left.update(status=Delivery.Status.CANCELLED, updated_at=timezone.now())
        Batch.objects.filter(
            campaign=campaign, state__in=[Batch.State.PENDING, Batch.State.QUEUED]
        ).update(state=Batch.State.DONE, finished_at=timezone.now())
        queued = sum(n for _, status, n in by_site if status == Delivery.Status.QUEUED)
        deferred = sum(n for _, status, n in by_site if status == Delivery.Status.DEFERRED)
        CampaignStats.objects.filter(campaign=campaign).update(
            queued=F("queued") - queued,
            deferred=F("deferred") - deferred,
            cancelled=F("cancelled") + cancelled,
        )
        counters.add_many(
            SiteStats,
            key_columns=["campaign_id", "site"],
            rows=[
                {
                    "campaign_id": campaign.pk,
                    "site": site or "unrouted",
                    "queued": -n if status == Delivery.Status.QUEUED else 0,
                    "deferred": -n if status == Delivery.Status.DEFERRED else 0,
                }
                for site, status, n in by_site
            ],
            increment_columns=["queued", "deferred"],
        )
    return cancelled


def deliveries_cancel(delivery_ids: Sequence[int]) -> int:
    """Cancel those of these deliveries (any campaigns) that have not gone out, moving their
    counters as a cancelled campaign does; how many. Call inside a transaction."""
    left = Delivery.objects.filter(
        pk__in=delivery_ids, status__in=[Delivery.Status.QUEUED, Delivery.Status.DEFERRED]
    )
    moved = list(
        left.values_list("campaign_id", "site", "status").annotate(n=Count("id")).order_by()
    )
    if not moved:
        return 0
    cancelled = left.update(status=Delivery.Status.CANCELLED, updated_at=timezone.now())
    by_campaign: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for campaign_id, _site, status, n in moved:
        by_campaign[campaign_id][status] += n
    for campaign_id, n in by_campaign.items():
        CampaignStats.objects.filter(campaign_id=campaign_id).update(
            queued=F("queued") - n["queued"],
            deferred=F("deferred") - n["deferred"],
            cancelled=F("cancelled") + n["queued"] + n["deferred"],
        )
    counters.add_many(
        SiteStats,
        key_columns=["campaign_id", "site"],
        rows=[
            {
                "campaign_id": campaign_id,
                "site": site,
                "queued": -n if status == Delivery.Status.QUEUED else 0,
                "deferred": -n if status == Delivery.Status.DEFERRED else 0,
            }
            for campaign_id, site, status, n in moved
            if site  # not routed yet: SiteStats never counted it
        ],
        increment_columns=["queued", "deferred"],
    )
    return cancelled
