"""Transactional mail: one API request (`TxRequest`), one message per recipient (`TxMessage`),
and each message's SMTP tries (`TxAttempt`).

A message's VERP return path is `t-<TxMessage id>-<mac>@<bounce domain>` (delivery/verp.py,
Kind.TX), and its Message-ID is stored, so a bounce finds its message either way.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from campaigns.models import Contact, Template


def _empty_list() -> list:
    return []


def _empty_dict() -> dict:
    return {}


class TxRequest(models.Model):
    """One `POST /api/tx`: the content its messages share, and its Idempotency-Key.

    The template's sources are copied, so a template edited a second later does not change
    mail already accepted. `response` is what the request was answered; a retry with the same
    key (and the same body) gets it again and sends nothing.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    template = models.ForeignKey(
        Template, null=True, on_delete=models.SET_NULL, related_name="tx_requests"
    )
    template_name = models.CharField(max_length=200)
    subject = models.CharField(max_length=998)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    layout = models.TextField(blank=True)  # the layout's HTML, if the template has one
    from_name = models.CharField(max_length=200, blank=True)
    from_email = models.CharField(max_length=254)
    reply_to = models.CharField(max_length=254, blank=True)
    headers = models.JSONField(default=_empty_list)  # [[name, value], …], checked
    attachments = models.JSONField(default=_empty_list)  # [{filename, content_type, size}]
    attachment_data = models.BinaryField(null=True)  # the files, one after another
    idempotency_key = models.CharField(max_length=255, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)  # SHA-256 of the request
    response = models.JSONField(default=_empty_dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="tx_request_idempotency_key_once",
            )
        ]

    def __str__(self) -> str:
        return f"transactional request {self.pk} ({self.template_name})"

    @property
    def job_id(self) -> str:
        return f"edm-tx-{self.pk}"


class TxMessage(models.Model):
    """One recipient of a transactional request: sent at once, retried like a delivery."""

    class Status(models.TextChoices):
        QUEUED = "queued"  # waiting for its job
        SENDING = "sending"  # a job has claimed it (claim_id)
        SENT = "sent"
        DEFERRED = "deferred"  # will be tried again at next_attempt_at
        BOUNCED = "bounced"
        FAILED = "failed"  # gave up: the retry window ended, or the message could not be built
        REFUSED = "refused"  # never sent: the address is suppressed
        COMPLAINED = "complained"

    request = models.ForeignKey(TxRequest, on_delete=models.CASCADE, related_name="messages")
    contact = models.ForeignKey(
        Contact, null=True, on_delete=models.SET_NULL, related_name="tx_messages"
    )
    email = models.CharField(max_length=254)
    domain = models.CharField(max_length=253)
    name = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=_empty_dict)  # what the template sees as contact.attributes
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    site = models.CharField(max_length=253, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_id = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_enhanced = models.CharField(max_length=16, blank=True)
    last_reply = models.CharField(max_length=1000, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    hard = models.BooleanField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="tx_message_status_due"),
            models.Index(fields=["email"], name="tx_message_email"),
        ]

    def __str__(self) -> str:
        return f"transactional message {self.pk} to {self.email} ({self.status})"


class TxAttempt(models.Model):
    """One SMTP try of a transactional message (the fields of a delivery's Attempt)."""

    message = models.ForeignKey(TxMessage, on_delete=models.CASCADE, related_name="attempt_set")
    at = models.DateTimeField()
    outcome = models.CharField(max_length=16)
    host = models.CharField(max_length=253, blank=True)
    address = models.CharField(max_length=45, blank=True)
    tls_version = models.CharField(max_length=16, blank=True)
    tls_fallback = models.BooleanField(default=False)
    code = models.PositiveSmallIntegerField(null=True, blank=True)
    enhanced = models.CharField(max_length=16, blank=True)
    text = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"attempt of transactional message {self.message_id} at {self.at}"
