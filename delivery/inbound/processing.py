"""Processing received messages: read, match, and record what they say.

Every stored InboundMessage is processed by a job (`delivery.jobs.process_inbound`), enqueued
when the message is stored: by bounce-in's `on_stored` hook, the mailbox poller and the
webhooks (`inbound_message_receive`). Should the job be lost (a Redis flush), the cron sweep
`inbound_requeue` enqueues it again. Processing is idempotent: a message already processed is
left alone, and a report already recorded for a delivery counts once (`bounce_record`).

What a notice does:
- an auto-reply (RFC 3834) or a success notice: nothing;
- a mail to an unsubscribe address (List-Unsubscribe's mailto): unsubscribes, even when the
  mail client words it like a complaint (Apple Mail's "Unsubscribe" button);
- a bounce or complaint about a delivery of ours: `bounce_record`; a delay warning: nothing yet;
- anything else, or a forged or unknown token: ignored, and the message says why.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.links import LinkTarget
from campaigns.models import Unsubscribe
from campaigns.services.unsubscribe import LinkTargetGoneError, unsubscribe_record
from delivery import jobs_queue
from delivery.bounce_effects import Bounce, bounce_record
from delivery.bounces import Kind, Recipient
from delivery.bounces.reasons import NOT_BOUNCES
from delivery.inbound import notices
from delivery.inbound.matching import notice_delivery, notice_tx_message, notice_unsubscribe
from delivery.inbound.notices import Notice, Reading, UnreadableMessageError
from delivery.inbound.store import inbound_message_store
from delivery.models import BounceEvent, InboundMessage
from delivery.tx.record import tx_bounce_record

logger = logging.getLogger(__name__)

JOB = "delivery.jobs.process_inbound"
QUEUE = "default"
LOST_AFTER = dt.timedelta(minutes=2)  # a job not seen by then was lost with Redis
REQUEUE_MAX = 500
State = InboundMessage.State


class Outcome(NamedTuple):
    """What one notice came to."""

    understood: bool  # acted on, or nothing to do; False: ignored
    kind: str
    text: str
    bounce: Bounce | None = None


def inbound_message_receive(
    *, source: str, raw: bytes, mail_from: str = "", recipients: list[str] | None = None
) -> InboundMessage:
    """Store a received message and have it processed once the transaction commits."""
    message = inbound_message_store(
        source=source, raw=raw, mail_from=mail_from, recipients=recipients
    )
    inbound_process_enqueue(message.id)
    return message


def inbound_process_enqueue(inbound_id: int) -> None:
    """Process a stored message in a job (bounce-in's `on_stored` hook)."""
    jobs_queue.enqueue_on_commit(QUEUE, JOB, inbound_id, job_id=_job_id(inbound_id))


def inbound_requeue(now: dt.datetime | None = None) -> int:
    """Enqueue again the messages still waiting whose job was lost; how many."""
    waiting = InboundMessage.objects.filter(
        state=State.RECEIVED, received_at__lt=(now or timezone.now()) - LOST_AFTER
    ).values_list("id", flat=True)[:REQUEUE_MAX]
    lost = [pk for pk in waiting if not jobs_queue.job_alive(_job_id(pk))]
    for pk in lost:
        jobs_queue.enqueue_now(QUEUE, JOB, pk, job_id=_job_id(pk))
    return len(lost)


def inbound_process(inbound_id: int) -> InboundMessage | None:
    """Read a received message and record what it says (see the module docstring)."""
    message = InboundMessage.objects.filter(pk=inbound_id).first()
    if message is None or message.state != State.RECEIVED:
        return message  # processed already (a job run twice, or the same bytes again)
    reading, error = None, ""
    try:
        reading = _read(message)  # outside the transaction: a big message takes a while
    except UnreadableMessageError as exc:
        error = str(exc)
    with transaction.atomic():
        waiting = InboundMessage.objects.select_for_update().filter(state=State.RECEIVED)
        if waiting.filter(pk=inbound_id).only("pk").first() is None:
            return InboundMessage.objects.get(pk=inbound_id)  # another job got there first
        if reading is None:
            _finish(message, State.FAILED, error=error)
            return message
        outcomes = [_act(message, notice) for notice in reading.notices]
        bounce_record([o.bounce for o in outcomes if o.bounce is not None])
        kinds = {o.kind for o in outcomes}
        message.kind = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "")
        message.parsed = reading.parsed
        texts = [o.text for o in outcomes]
        if reading.skipped:
            texts.append(f"{reading.skipped} other events: nothing to do")
        understood = not outcomes or any(o.understood for o in outcomes)
        _finish(message, State.PROCESSED if understood else State.IGNORED, result="; ".join(texts))
    logger.info("inbound #%s %s: %s", message.pk, message.state, message.result)
    return message


def _job_id(inbound_id: int) -> str:
    return f"edm-inbound-{inbound_id}"


def _read(message: InboundMessage) -> Reading:
    raw = bytes(message.raw or b"")
    if message.source == InboundMessage.Source.SES:
        return notices.ses_read(raw)
    if message.source == InboundMessage.Source.SENDGRID:
        return notices.sendgrid_read(raw)
    return notices.mail_read(raw, message.recipients)


def _finish(message: InboundMessage, state: str, *, result: str = "", error: str = "") -> None:
    message.state = state
    message.result = result[:1000]
    message.error = error
    message.processed_at = timezone.now()
    message.save(update_fields=["state", "kind", "parsed", "result", "error", "processed_at"])


def _act(message: InboundMessage, notice: Notice) -> Outcome:
    domain, secret = settings.EDM_BOUNCE_DOMAIN, settings.SECRET_KEY
    kind = str(notice.kind)
    if notice.kind is Kind.AUTOREPLY:
        return Outcome(True, kind, "auto-reply: nothing to do")
    unsubscribe = notice_unsubscribe(notice, bounce_domain=domain, secret=secret)
    if unsubscribe is not None:
        return _unsubscribe(unsubscribe.target, unsubscribe.address)
    if notice.kind is Kind.DELIVERED:
        return Outcome(True, kind, "success notice: nothing to do")
    if notice.kind not in (Kind.BOUNCE, Kind.COMPLAINT):
        return Outcome(False, kind, "not a bounce, complaint or unsubscribe")
    tx_id = notice_tx_message(notice, bounce_domain=domain, secret=secret)
    if tx_id is not None:
        return _tx(notice, tx_id)
    match = notice_delivery(notice, bounce_domain=domain, secret=secret)
    delivery = match.delivery
    if delivery is None:
        return Outcome(False, kind, match.how)
    about = f"delivery {delivery.pk} to {delivery.email}, found by {match.how}"
    common = {
        "delivery_id": delivery.pk,
        "source": notice.source,
        "report": notice.report,
        "inbound_id": message.pk,
    }
    if notice.kind is Kind.COMPLAINT:
        feedback = notice.feedback_type or "abuse"
        bounce = Bounce(
            kind=BounceEvent.Kind.COMPLAINT, reason="feedback", feedback_type=feedback, **common
        )
        return Outcome(True, kind, f"complaint ({feedback}) about {about}", bounce)
    recipient = _recipient(notice.recipients, delivery.email)
    if recipient is None or recipient.reason in NOT_BOUNCES:
        return Outcome(True, kind, f"no failure reported for {about}")
    if recipient.action == "delayed":
        return Outcome(True, kind, f"delay warning ({recipient.reason}) for {about}: nothing yet")
    bounce = Bounce(
        kind=BounceEvent.Kind.BOUNCE,
        reason=str(recipient.reason),
        hard=recipient.hard,
        status=recipient.status or "",
        code=recipient.reply_code,
        diagnostic=recipient.diagnostic,
        **common,
    )
    hardness = "hard" if recipient.hard else "soft"
    return Outcome(True, kind, f"{hardness} bounce ({recipient.reason}) of {about}", bounce)


def _tx(notice: Notice, tx_id: int) -> Outcome:
    """A bounce or complaint of a transactional message (POST /api/tx)."""
    kind = str(notice.kind)
    complaint = notice.kind is Kind.COMPLAINT
    recipient = None if complaint else (notice.recipients or (None,))[0]
    if not complaint and (recipient is None or recipient.reason in NOT_BOUNCES):
        return Outcome(True, kind, f"no failure reported for transactional message {tx_id}")
    if recipient is not None and recipient.action == "delayed":
        return Outcome(True, kind, f"delay warning for transactional message {tx_id}")
    message = tx_bounce_record(
        tx_id,
        reason="feedback" if complaint else str(recipient.reason),
        hard=bool(recipient and recipient.hard),
        code=recipient.reply_code if recipient else None,
        enhanced=(recipient.status or "") if recipient else "",
        text=recipient.diagnostic if recipient else "",
        complaint=complaint,
    )
    if message is None:
        return Outcome(False, kind, f"unknown transactional message {tx_id}")
    return Outcome(True, kind, f"{kind} of transactional message {tx_id} to {message.email}")


def _unsubscribe(target: LinkTarget | None, address: str) -> Outcome:
    if target is None:
        return Outcome(False, "unsubscribe", f"forged unsubscribe address {address}")
    try:
        done = unsubscribe_record(target, Unsubscribe.Method.MAILTO)
    except LinkTargetGoneError:
        return Outcome(False, "unsubscribe", "unsubscribe for a deleted campaign or contact")
    again = "" if done.first else " (again)"
    return Outcome(
        True,
        "unsubscribe",
        f"unsubscribed contact {target.contact_id} ({done.scope}) via mail{again}",
    )


def _recipient(recipients: tuple[Recipient, ...], email: str) -> Recipient | None:
    """The recipient the report says failed: the delivery's address, else the first named
    (a forwarded or aliased address bounces under another name; the return path decides)."""
    named = [r for r in recipients if r.address.lower() == email.lower()]
    return (named or list(recipients) or [None])[0]
