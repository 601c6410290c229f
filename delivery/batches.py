"""Running one batch: claim it, build and send its messages, record what happened.

A batch job may run twice (RQ after a crash, or the reconciler re-enqueueing a batch whose
worker died), so `batch_send` first claims the batch with a conditional UPDATE: only one run
at a time, and a run whose worker stopped heart-beating for HEARTBEAT_STALE can be taken
over. Messages a server accepted during a run that died before recording them are found in
Redis (delivery/control.py) and recorded as sent, never sent again.
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from campaigns.models import Campaign, Contact
from campaigns.templating import InvalidContentError, TemplateRenderError
from delivery import control, dispatch, planning, transports
from delivery.bounces import classify_reply
from delivery.domains import a_label
from delivery.message import Recipient, build, envelope_sender
from delivery.mime import InvalidAddressError
from delivery.models import Batch, Delivery
from delivery.mx import PermanentRouteError, TemporaryRouteError
from delivery.prepared import PreparedCampaign, prepared_campaign
from delivery.recording import results_record
from delivery.sending import (
    BatchSender,
    Classification,
    Outcome,
    Outgoing,
    Result,
    UnbuildableMessageError,
)
from delivery.sites import SiteConfig, site_config
from delivery.smtp import Reply

SENDING = Campaign.Status.SENDING


class BatchRun(enum.StrEnum):
    SENT = "sent"  # every delivery has an outcome
    BUSY = "busy"  # another run has the batch, or it is done
    STOPPED = "stopped"  # the campaign is not sending: the rest waits for resume
    REQUEUED = "requeued"  # no connection slot: the job comes back later


def batch_send(batch_id: int) -> BatchRun:
    """Send what is left of a batch; see the module docstring."""
    if not _claim(batch_id):
        return BatchRun.BUSY
    batch = Batch.objects.select_related("campaign").get(pk=batch_id)
    with _Heartbeat(batch_id):
        outcome, retry_after = _run(batch)
    return _release(batch, outcome, retry_after)


class Claimed(NamedTuple):
    """A claimed batch, ready for a sender: what `batch_start` hands the async engine."""

    batch: Batch
    messages: list[Outgoing]
    results: list[Result]  # already known: accepted in a dead run, unroutable, unbuildable
    config: SiteConfig


def batch_start(batch_id: int) -> Claimed | BatchRun:
    """Claim a batch and make its messages, or say why it does not run (BUSY, STOPPED).

    The first half of `batch_send`, for a sender that runs elsewhere (the async engine's
    worker); `batch_end` is the second. Between the two the caller heartbeats the batch.
    """
    if not _claim(batch_id):
        return BatchRun.BUSY
    batch = Batch.objects.select_related("campaign").get(pk=batch_id)
    if batch.campaign.status != SENDING:
        return _release(batch, BatchRun.STOPPED, None)
    messages, results = _messages(batch)
    return Claimed(batch, messages, results, site_config(batch.site))


def batch_end(claimed: Claimed, results: list[Result]) -> BatchRun:
    """Record a claimed batch's results and release it (requeued, pending or done)."""
    outcome, retry_after = _recorded(claimed.batch, claimed.results + results)
    return _release(claimed.batch, outcome, retry_after)


def _release(batch: Batch, outcome: BatchRun, retry_after: float | None) -> BatchRun:
    if outcome is BatchRun.REQUEUED:
        dispatch.batch_enqueue(batch.pk, from_states=(Batch.State.RUNNING,), delay=retry_after)
    elif outcome is BatchRun.STOPPED:
        Batch.objects.filter(pk=batch.pk).update(state=Batch.State.PENDING, heartbeat_at=None)
        if Campaign.objects.filter(pk=batch.campaign_id, status=Campaign.Status.CANCELLED).exists():
            # The cancel left this batch's deliveries to it while it ran (see planning).
            planning.campaign_cancel_remaining(batch.campaign)
    else:
        Batch.objects.filter(pk=batch.pk).update(state=Batch.State.DONE, finished_at=timezone.now())
    dispatch.site_dispatch(batch.site)
    dispatch.campaign_finish_if_done(batch.campaign)
    return outcome


def stale_before(now: dt.datetime) -> dt.datetime:
    """Heartbeats older than this belong to runs whose worker died."""
    return now - dt.timedelta(seconds=settings.EDM_BATCH_STALE_SECONDS)


def _claim(batch_id: int) -> bool:
    now = timezone.now()
    return bool(
        Batch.objects.filter(pk=batch_id)
        .filter(
            Q(state__in=[Batch.State.QUEUED, Batch.State.PENDING])
            | Q(state=Batch.State.RUNNING, heartbeat_at__lt=stale_before(now))
        )
        .update(state=Batch.State.RUNNING, heartbeat_at=now, runs=F("runs") + 1)
    )


def _run(batch: Batch) -> tuple[BatchRun, float | None]:
    campaign = batch.campaign
    if campaign.status != SENDING:
        return BatchRun.STOPPED, None
    messages, results = _messages(batch)
    config = site_config(batch.site)
    with control.AcceptanceLog(batch.pk) as acceptances:
        sender = BatchSender(
            site=batch.site,
            limits=config.limits,
            throttle=dispatch.throttle(),
            connect=transports.connector(config.tls_policy),
            classify=reply_classification,
            on_accepted=acceptances.mark,
            should_stop=_stopper(campaign.pk),
        )
        results += sender.run(messages)
    return _recorded(batch, results)


def _messages(batch: Batch) -> tuple[list[Outgoing], list[Result]]:
    """The messages left to send, and the results already known without sending."""
    deliveries = [
        Queued(*row)
        for row in Delivery.objects.filter(batch=batch, status=Delivery.Status.QUEUED)
        .order_by("pk")
        .values_list(
            "pk",
            "email",
            "domain",
            "contact_id",
            "contact__name",
            "contact__attributes",
            "contact__status",
            "contact__do_not_track",
        )
    ]
    accepted = control.accepted_read(batch.pk)
    now = timezone.now()
    results = [
        Result(d.pk, Outcome.SENT, now, reply=accepted[d.pk])
        for d in deliveries
        if d.pk in accepted
    ]
    to_send = [d for d in deliveries if d.pk not in accepted]
    try:
        prepared = prepared_campaign(batch.campaign)
    except (InvalidContentError, InvalidAddressError, ValueError) as exc:
        # Content that cannot compile fails every message; the campaign page says why.
        results += [
            Result(d.pk, Outcome.FAILED, now, detail=str(exc), reason="contenterror")
            for d in to_send
        ]
        to_send = []
    messages, unroutable = _outgoing(batch, prepared, to_send) if to_send else ([], [])
    return messages, results + unroutable


def _recorded(batch: Batch, results: list[Result]) -> tuple[BatchRun, float | None]:
    results_record(batch.campaign, batch.site, results)
    control.accepted_clear(batch.pk)
    untouched = [r for r in results if r.outcome is Outcome.NOT_ATTEMPTED]
    if not untouched:
        return BatchRun.SENT, None
    retry_after = [r.retry_after for r in untouched if r.retry_after is not None]
    if retry_after:
        return BatchRun.REQUEUED, max(1.0, min(retry_after))
    return BatchRun.STOPPED, None


class Queued(NamedTuple):
    """What sending needs of a queued delivery (read as tuples: no model instances per row)."""

    pk: int
    email: str
    domain: str
    contact_id: int | None
    name: str | None
    attributes: dict | None
    contact_status: str | None
    do_not_track: bool | None

    @property
    def tracked(self) -> bool:
        """Whether opens and clicks may be tracked: never after an unsubscribe, or if refused."""
        return self.contact_status == Contact.Status.ENABLED and not self.do_not_track


def _outgoing(
    batch: Batch, prepared: PreparedCampaign, deliveries: list[Queued]
) -> tuple[list[Outgoing], list[Result]]:
    """The messages to send, and results for deliveries whose domain no longer routes."""
    resolver = transports.router()
    routes: dict[str, object] = {}
    messages: list[Outgoing] = []
    failed: list[Result] = []
    for delivery in deliveries:
        route = routes.get(delivery.domain)
        if route is None:
            try:
                route = transports.route(delivery.domain, resolver)
            except (PermanentRouteError, TemporaryRouteError) as exc:
                route = exc
            routes[delivery.domain] = route
        if isinstance(route, Exception):
            failed.append(transports.unroutable_result(delivery.pk, delivery.domain, route))
            continue
        recipient = Recipient(
            delivery_id=delivery.pk,
            contact_id=delivery.contact_id or 0,
            email=delivery.email,
            name=delivery.name or "",
            attributes=delivery.attributes or {},
            tracked=delivery.tracked,
        )
        local, _, domain = delivery.email.rpartition("@")
        messages.append(
            Outgoing(
                delivery_id=delivery.pk,
                mail_from=envelope_sender(prepared.compiled, recipient),
                rcpt_to=f"{local}@{a_label(domain)}",
                candidates=route.hosts,
                build=message_builder(prepared, recipient),
            )
        )
    return messages, failed


def message_builder(prepared: PreparedCampaign, recipient: Recipient):
    def build_one() -> bytes:
        try:
            return prepared.sign(build(prepared.compiled, recipient))
        except (TemplateRenderError, InvalidAddressError) as exc:
            raise UnbuildableMessageError(str(exc)) from exc

    return build_one


def reply_classification(reply: Reply) -> Classification:
    found = classify_reply(reply.code, reply.enhanced, reply.text, reply.command or None)
    return Classification(str(found.reason), found.hard)


def _stopper(campaign_id: int):
    """should_stop for BatchSender: the campaign's published state, or the database's."""

    def should_stop() -> bool:
        state = control.campaign_state(campaign_id)
        if state is None:  # Redis forgot: ask the database
            state = Campaign.objects.filter(pk=campaign_id).values_list("status", flat=True).first()
        return state != SENDING

    return should_stop


class _Heartbeat:
    """Tells the reconciler this run is alive, from a thread, while the batch sends."""

    def __init__(self, batch_id: int):
        self.batch_id = batch_id
        self.stop = threading.Event()
        self.every = settings.EDM_BATCH_STALE_SECONDS / 4
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self.thread.join()

    def _beat(self) -> None:
        try:
            while not self.stop.wait(self.every):
                Batch.objects.filter(pk=self.batch_id, state=Batch.State.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        finally:
            connection.close()  # this thread's own connection


def batches_heartbeat(batch_ids: list[int]) -> None:
    """One sign of life for every batch a worker process is running."""
    Batch.objects.filter(pk__in=batch_ids, state=Batch.State.RUNNING).update(
        heartbeat_at=timezone.now()
    )
