"""Keeping received messages, and forgetting their raw text after the retention period."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from delivery.models import InboundMessage


def inbound_message_store(
    *, source: str, raw: bytes, mail_from: str = "", recipients: list[str] | None = None
) -> InboundMessage:
    """Record one received message, once: the same bytes received again return the first row.

    A mailbox poll interrupted before its deletions took effect fetches messages again;
    byte-identical copies are the same report and must count once.
    """
    digest = hashlib.sha256(raw).hexdigest()
    message, _ = InboundMessage.objects.get_or_create(
        sha256=digest,
        defaults={
            "source": source,
            "mail_from": mail_from[:998],
            "recipients": recipients or [],
            "size": len(raw),
            "raw": raw,
        },
    )
    return message


def inbound_raw_expire(now=None) -> int:
    """Drop the raw text of messages older than EDM_INBOUND_KEEP_DAYS; how many were cleared."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EDM_INBOUND_KEEP_DAYS)
    return (
        InboundMessage.objects.filter(received_at__lt=cutoff, raw__isnull=False)
        .exclude(state=InboundMessage.State.RECEIVED)
        .update(raw=None)
    )
