"""Deliveries (one recipient of one campaign), the batches that send them, their attempts."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from campaigns.models import Campaign, Contact


class Batch(models.Model):
    """Deliveries of one campaign to one site, sent by one job on one connection slot.

    The database is the truth: a batch that is `running` with a stale heartbeat belonged to a
    worker that died, and one that is `queued` without its RQ job was lost with Redis; the
    reconciler finds both and enqueues them again (delivery/reconcile.py).
    """

    class State(models.TextChoices):
        PENDING = "pending"  # waiting for a free connection of its site (delivery/dispatch.py)
        QUEUED = "queued"  # its RQ job is enqueued
        RUNNING = "running"
        DONE = "done"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="batches")
    site = models.CharField(max_length=253)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    size = models.PositiveIntegerField(default=0)
    runs = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    not_before = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "heartbeat_at"], name="batch_state_heartbeat"),
            models.Index(fields=["site", "state"], name="batch_site_state"),
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} of campaign {self.campaign_id} to {self.site} ({self.state})"

    @property
    def job_id(self) -> str:
        return f"edm-batch-{self.pk}"


class Delivery(models.Model):
    """One recipient of one campaign: planned once, sent at most once, with its outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued"  # waiting for its batch
        SENT = "sent"
        DEFERRED = "deferred"  # will be tried again at next_attempt_at
        BOUNCED = "bounced"  # permanent failure for this address (reason, hard)
        FAILED = "failed"  # gave up: no route, or the retry window ended
        COMPLAINED = "complained"  # sent, and the recipient reported it as spam
        CANCELLED = "cancelled"  # the campaign was cancelled before it went out

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    contact = models.ForeignKey(
        Contact, null=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    email = models.CharField(max_length=254)
    domain = models.CharField(max_length=253)
    site = models.CharField(max_length=253, blank=True)  # set when routed
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_enhanced = models.CharField(max_length=16, blank=True)
    last_reply = models.CharField(max_length=1000, blank=True)
    reason = models.CharField(max_length=32, blank=True)
    hard = models.BooleanField(null=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Engagement by a person (machine opens and bot clicks are only counted in aggregates):
    # the first time this recipient opened the message and followed one of its links.
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "contact"], name="delivery_once_per_contact"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="delivery_campaign_status"),
            models.Index(fields=["campaign", "email"], name="delivery_campaign_email"),
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_deferred_due",
                condition=models.Q(status="deferred"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} in campaign {self.campaign_id} ({self.status})"


class Attempt(models.Model):
    """One SMTP try of one delivery: where, how, and what the server said."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_set")
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
        # A campaign report's latest events walk attempts backwards in time from the
        # campaign's last recorded result (delivery/selectors/reports.py).
        indexes = [models.Index(fields=["at"], name="attempt_at")]

    def __str__(self) -> str:
        return f"attempt of delivery {self.delivery_id} at {self.at}: {self.code} {self.text}"
