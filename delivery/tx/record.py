"""Recording what happened to transactional messages: at send time, and when a bounce or a
complaint comes back later.

Like campaign deliveries (delivery/recording.py): sent; deferred with the same backoff
(`retry_delay`) until RETRY_WINDOW after the request, then failed as expired; bounced with the
bounce taxonomy's reason. A hard bounce about the recipient marks the address bounced and
suppresses it, as for campaigns; bounces about the sender (blocked, policy…) never touch it.
Soft bounces of transactional mail are recorded but not counted towards suppression.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from campaigns.emails import InvalidEmailError
from campaigns.services.contacts import contact_mark_bounced, contact_mark_complained
from delivery.bounces import SENDER_SIDE
from delivery.bounces.reasons import NOT_BOUNCES
from delivery.models import TxAttempt, TxMessage
from delivery.recording import retry_delay
from delivery.sending import Outcome, Result

Status = TxMessage.Status
RETRY_WINDOW = dt.timedelta(days=1)  # a password reset a day late is of no use to anyone
_FIELDS = [
    "status",
    "attempts",
    "next_attempt_at",
    "last_code",
    "last_enhanced",
    "last_reply",
    "reason",
    "hard",
    "sent_at",
    "claim_id",
    "claimed_at",
    "updated_at",
]


class TxRecorded(NamedTuple):
    sent: int
    deferred: int
    bounced: int
    failed: int
    retry_after: float | None  # some were not attempted (no slot): try again after this


def tx_results_record(messages: Mapping[int, TxMessage], results: Sequence[Result]) -> TxRecorded:
    """Apply one run's results to its claimed messages, in one transaction."""
    now = timezone.now()
    changed: list[TxMessage] = []
    attempts: list[TxAttempt] = []
    hard_bounced: list[TxMessage] = []
    waits: list[float] = []
    for result in results:
        message = messages[result.delivery_id]
        if result.outcome is Outcome.NOT_ATTEMPTED:
            message.status, message.claim_id, message.claimed_at = Status.QUEUED, "", None
            waits.append(result.retry_after or 1.0)
        else:
            _apply(message, result, now)
            attempts.append(_attempt(message, result))
            if message.status == Status.BOUNCED and _about_recipient(result):
                hard_bounced.append(message)
        message.updated_at = now
        changed.append(message)
    with transaction.atomic():
        TxMessage.objects.bulk_update(changed, _FIELDS)
        TxAttempt.objects.bulk_create(attempts)
        for message in hard_bounced:
            _suppress(
                message, f"hard bounce ({message.reason}), transactional message {message.pk}"
            )
    statuses = [m.status for m in changed]
    return TxRecorded(
        sent=statuses.count(Status.SENT),
        deferred=statuses.count(Status.DEFERRED),
        bounced=statuses.count(Status.BOUNCED),
        failed=statuses.count(Status.FAILED),
        retry_after=max(1.0, min(waits)) if waits else None,
    )


def tx_bounce_record(
    tx_id: int,
    *,
    reason: str,
    hard: bool,
    code: int | None = None,
    enhanced: str = "",
    text: str = "",
    complaint: bool = False,
) -> TxMessage | None:
    """A bounce or complaint that came back for a transactional message (found by its VERP
    return path or Message-ID); None for an unknown id. Recording it twice changes nothing more.
    """
    message = TxMessage.objects.filter(pk=tx_id).first()
    if message is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        if complaint:
            message.status, message.reason = Status.COMPLAINED, "feedback"
            _complain(message)
        else:
            message.status, message.reason, message.hard = Status.BOUNCED, reason, hard
            message.last_code, message.last_enhanced = code, enhanced
            message.last_reply = text[:1000]
            if hard and reason not in SENDER_SIDE and reason not in NOT_BOUNCES:
                _suppress(message, f"hard bounce ({reason}), transactional message {message.pk}")
        message.next_attempt_at, message.updated_at = None, now
        message.save()
    return message


def _apply(message: TxMessage, result: Result, now: dt.datetime) -> None:
    message.attempts += 1
    message.claim_id, message.claimed_at = "", None
    reply = result.reply
    message.last_code = reply.code if reply else None
    message.last_enhanced = (reply.enhanced or "") if reply else ""
    message.last_reply = (reply.text if reply else result.detail)[:1000]
    message.reason, message.hard, message.next_attempt_at = result.reason, None, None
    if result.outcome is Outcome.SENT:
        message.status, message.sent_at, message.reason = Status.SENT, now, ""
    elif result.outcome is Outcome.BOUNCED:
        message.status, message.hard = Status.BOUNCED, result.hard
    elif result.outcome is Outcome.FAILED:
        message.status = Status.FAILED
    elif now + retry_delay(message.attempts) > message.created_at + RETRY_WINDOW:
        message.status, message.reason = Status.FAILED, "expired"
    else:
        message.status = Status.DEFERRED
        message.next_attempt_at = now + retry_delay(message.attempts)


def _attempt(message: TxMessage, result: Result) -> TxAttempt:
    reply = result.reply
    return TxAttempt(
        message=message,
        at=result.at,
        outcome=str(result.outcome),
        host=result.host,
        address=result.address,
        tls_version=result.tls_version or "",
        tls_fallback=result.tls_fallback,
        code=reply.code if reply else None,
        enhanced=(reply.enhanced or "") if reply else "",
        text=((reply.text if reply else result.detail) or "")[:1000],
    )


def _about_recipient(result: Result) -> bool:
    return result.hard and result.reason not in SENDER_SIDE and result.reason not in NOT_BOUNCES


def _suppress(message: TxMessage, source: str) -> None:
    try:
        contact_mark_bounced(email=message.email, source=source)
    except InvalidEmailError:
        return  # it was valid when accepted; normalization rules may have changed since


def _complain(message: TxMessage) -> None:
    try:
        contact_mark_complained(
            email=message.email, source=f"complaint, transactional message {message.pk}"
        )
    except InvalidEmailError:
        return
