"""Campaigns: who sends what to which lists, and when."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from campaigns.models.contacts import ContactList
from campaigns.models.segments import Segment
from campaigns.models.templates import Template

DEFAULT_RETRY_WINDOW = timedelta(days=3)


class Campaign(models.Model):
    """One mailing. Only drafts are edited; starting it snapshots its audience into deliveries.

    Status moves draft → scheduled → sending ⇄ paused → finished, or to cancelled from any
    state before finished (campaigns/services/campaigns.py holds the transitions).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        SCHEDULED = "scheduled", "scheduled"
        SENDING = "sending", "sending"
        PAUSED = "paused", "paused"
        FINISHED = "finished", "finished"
        CANCELLED = "cancelled", "cancelled"

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)

    from_name = models.CharField(max_length=200, blank=True)
    from_email = models.CharField(max_length=254)
    reply_to = models.CharField(max_length=254, blank=True)

    lists = models.ManyToManyField(ContactList, related_name="campaigns", blank=True)
    exclusion_lists = models.ManyToManyField(
        ContactList, related_name="excluded_from_campaigns", blank=True
    )
    # Narrows the lists' members; PROTECT: deleting it would silently widen a draft's audience.
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns"
    )

    template = models.ForeignKey(
        Template,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
        help_text="The template the content was copied from, if any.",
    )
    subject = models.CharField(max_length=998, blank=True)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    layout = models.ForeignKey(
        Template,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Template.Kind.LAYOUT},
    )

    # Open and click tracking of this campaign (docs/ENGAGEMENT.md); EDM_TRACKING=false
    # overrides both.
    track_opens = models.BooleanField(default=True, db_default=True)
    track_clicks = models.BooleanField(default=True, db_default=True)

    scheduled_at = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    retry_window = models.DurationField(default=DEFAULT_RETRY_WINDOW)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="campaign_status_due")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:campaign_detail", args=[self.pk])

    @property
    def editable(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def sender_domain(self) -> str:
        return self.from_email.rpartition("@")[2].lower()
