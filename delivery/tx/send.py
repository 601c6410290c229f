"""The transactional job: send one request's queued messages now, through the campaign engine's
routing, shaping, DKIM and reply handling.

A run first claims its messages (queued → sending, with its own claim id) in one conditional
UPDATE, so two runs of one job never send the same message; a claim older than the job's
timeout belonged to a run that died and is taken over. Messages a server accepted during a
run that died before recording them are found in Redis (delivery/control.py) and recorded as
sent, never sent again.

Shaping: the messages go through `BatchSender` under the site's message rate and slow-downs,
but on a connection lane of their own (`<site>/tx`, one connection): campaign batches may hold
every connection a site allows, and a password reset must not wait for them to finish.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections import defaultdict
from contextlib import AbstractContextManager

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from campaigns.templating import InvalidContentError, TemplateRenderError
from delivery import control, dispatch, jobs_queue, transports
from delivery.batches import reply_classification
from delivery.domains import a_label
from delivery.limits import SiteLimits
from delivery.mime import InvalidAddressError
from delivery.models import TxMessage, TxRequest
from delivery.mx import PermanentRouteError, TemporaryRouteError
from delivery.prepared import signer_for
from delivery.sending import BatchSender, Outcome, Outgoing, Result, UnbuildableMessageError
from delivery.sites import site_config
from delivery.throttle import Lease, Throttle
from delivery.tx.accept import JOB_TIMEOUT, tx_content
from delivery.tx.record import tx_results_record
from delivery.tx_message import (
    CompiledTx,
    TxRecipient,
    build_tx,
    compile_tx,
    tx_envelope_sender,
)
from edm import queues

Status = TxMessage.Status
CLAIM_STALE = dt.timedelta(seconds=JOB_TIMEOUT + 60)
LANE = "{site}/tx"
MARKS_RETRY_AFTER = 10.0  # seconds before messages held back for want of Redis are tried again


def tx_request_send(request_id: int) -> int:
    """Send what is queued of a request; how many messages this run claimed."""
    run = uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        TxMessage.objects.filter(request_id=request_id)
        .filter(
            Q(status=Status.QUEUED) | Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_STALE)
        )
        .update(status=Status.SENDING, claim_id=run, claimed_at=now, updated_at=now)
    )
    if not claimed:
        return 0
    request = TxRequest.objects.get(pk=request_id)
    messages = {
        m.pk: m
        for m in TxMessage.objects.filter(claim_id=run, status=Status.SENDING).order_by("pk")
    }
    marks = f"tx-{request_id}"
    accepted = control.accepted_read(marks)
    results = [
        Result(pk, Outcome.SENT, now, reply=accepted[pk]) for pk in messages if pk in accepted
    ]
    to_send = [m for pk, m in messages.items() if pk not in accepted]
    try:
        compiled = compile_tx(tx_content(request))
    except (InvalidContentError, InvalidAddressError, ValueError) as exc:
        results += [
            Result(m.pk, Outcome.FAILED, now, detail=str(exc), reason="contenterror")
            for m in to_send
        ]
        to_send = []
    results += _send(request, compiled if to_send else None, to_send, marks)
    recorded = tx_results_record(messages, results)
    control.accepted_clear(marks)
    if recorded.retry_after is not None:
        # No connection slot now: the untouched messages are queued again; come back later.
        jobs_queue.enqueue_now(
            queues.TRANSACTIONAL,
            "delivery.jobs.send_tx",
            request_id,
            job_id=request.job_id,
            delay=recorded.retry_after,
            timeout=JOB_TIMEOUT,
        )
    return claimed


def _send(
    request: TxRequest, compiled: CompiledTx | None, messages: list[TxMessage], marks: str
) -> list[Result]:
    if compiled is None or not messages:
        return []
    results: list[Result] = []
    by_site: dict[str, list[Outgoing]] = defaultdict(list)
    resolver = transports.router()
    signer = signer_for(request.from_email.rpartition("@")[2].lower())
    for message in messages:
        try:
            route = transports.route(message.domain, resolver)
        except (PermanentRouteError, TemporaryRouteError) as exc:
            results.append(transports.unroutable_result(message.pk, message.domain, exc))
            continue
        TxMessage.objects.filter(pk=message.pk).update(site=route.site)
        local, _, domain = message.email.rpartition("@")
        by_site[route.site].append(
            Outgoing(
                delivery_id=message.pk,
                mail_from=tx_envelope_sender(
                    message.pk, settings.EDM_BOUNCE_DOMAIN, settings.SECRET_KEY
                ),
                rcpt_to=f"{local}@{a_label(domain)}",
                candidates=route.hosts,
                build=_builder(compiled, message, signer),
            )
        )
    with control.AcceptanceLog(marks) as acceptances:
        for site, outgoing in by_site.items():
            if acceptances.broken:
                # Sending without a mark could send these twice after a crash: later.
                results += [_not_now(m.delivery_id) for m in outgoing]
                continue
            config = site_config(site)
            sender = BatchSender(
                site=site,
                limits=config.limits,
                throttle=TxLane(dispatch.throttle()),
                connect=transports.connector(config.tls_policy),
                classify=reply_classification,
                on_accepted=acceptances.mark,
            )
            results += sender.run(outgoing)
    return results


def _not_now(message_id: int) -> Result:
    return Result(
        message_id,
        Outcome.NOT_ATTEMPTED,
        timezone.now(),
        detail="acceptances cannot be recorded (Redis)",
        retry_after=MARKS_RETRY_AFTER,
    )


def _builder(compiled: CompiledTx, message: TxMessage, signer):
    recipient = TxRecipient(
        tx_id=message.pk,
        message_id=message.message_id,
        email=message.email,
        name=message.name,
        attributes=message.data,
    )

    def build_one() -> bytes:
        try:
            data = build_tx(compiled, recipient)
        except (TemplateRenderError, InvalidAddressError) as exc:
            raise UnbuildableMessageError(str(exc)) from exc
        return signer.sign(data) if signer is not None else data

    return build_one


class TxLane:
    """A site's throttle, but with a connection slot of transactional mail's own.

    `slot()` leases from `<site>/tx` (one connection); `take()`, `slow_down()`, `suspend()`
    and the rest are the site's, so transactional mail obeys the site's message rate and
    slows down with it.
    """

    def __init__(self, throttle: Throttle):
        self.throttle = throttle

    def slot(self, site: str, limits: SiteLimits, **options) -> AbstractContextManager[Lease]:
        lane = dataclasses.replace(limits, max_connections=1)
        return self.throttle.slot(LANE.format(site=site), lane, **options)

    def __getattr__(self, name: str):
        return getattr(self.throttle, name)
