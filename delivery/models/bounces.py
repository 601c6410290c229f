"""Bounce events: every bounce and complaint recorded against a delivery, from any source."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from campaigns.models import Campaign, Contact
from delivery.bounces import SENDER_SIDE
from delivery.models.deliveries import Delivery
from delivery.models.inbound import InboundMessage


class BounceEvent(models.Model):
    """One bounce or complaint about one delivery, as one report said it.

    Written by `delivery.bounce_effects.bounce_record` only. A report recorded twice for the
    same delivery is one row (the unique `report` key); counters never move on an event
    alone, only when the delivery's status changes, so duplicates cannot count twice.
    """

    class Kind(models.TextChoices):
        BOUNCE = "bounce"
        COMPLAINT = "complaint"

    class Source(models.TextChoices):
        DELIVERY = "delivery", "refused during delivery"  # SMTP reply or DNS, synchronously
        MAIL = "mail", "bounce message"  # a DSN or ARF report to bounce-in or the mailbox
        SES = "ses", "Amazon SES"
        SENDGRID = "sendgrid", "SendGrid"

    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="bounce_events")
    # Copies of the delivery's, so the Bounces page filters without joining deliveries.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="bounce_events", db_index=False
    )
    contact = models.ForeignKey(
        Contact, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    email = models.CharField(max_length=254)
    reason = models.CharField(max_length=32)  # the taxonomy of delivery/bounces/reasons.py
    hard = models.BooleanField(default=False)
    feedback_type = models.CharField(max_length=32, blank=True)  # complaints: abuse, fraud…
    status = models.CharField(max_length=16, blank=True)  # enhanced status code, "5.1.1"
    code = models.PositiveSmallIntegerField(null=True, blank=True)
    diagnostic = models.CharField(max_length=1000, blank=True)
    # What identifies the report ("reply", "mail:<Message-ID>", "ses:<feedback id>"…).
    report = models.CharField(max_length=200)
    inbound = models.ForeignKey(
        InboundMessage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bounce_events",
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "report"], name="bounce_event_once")
        ]
        indexes = [
            models.Index(fields=["campaign", "id"], name="bounce_event_campaign"),
            models.Index(fields=["at"], name="bounce_event_at"),
            models.Index(fields=["contact", "at"], name="bounce_event_contact_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.email} ({self.reason})"

    @property
    def label(self) -> str:
        """hard bounce, soft bounce or complaint."""
        if self.kind == self.Kind.COMPLAINT:
            return "complaint"
        return "hard bounce" if self.hard else "soft bounce"

    @property
    def said(self) -> str:
        """The reply as a server writes it: code, status, text (a DSN's text has them already)."""
        head = " ".join(str(part) for part in (self.code, self.status) if part)
        if not head or self.diagnostic.startswith(head.split()[0]):
            return self.diagnostic
        return f"{head} {self.diagnostic}".rstrip()

    @property
    def sender_side(self) -> bool:
        """A refusal about us (blocked, spam, policy…), not about the recipient."""
        return self.reason in SENDER_SIDE
