"""Unsubscribes: when and how a contact left through one campaign's link or address."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from campaigns.models.campaigns import Campaign
from campaigns.models.contacts import Contact


class Unsubscribe(models.Model):
    """A contact unsubscribed through a campaign, once per (campaign, contact)."""

    class Method(models.TextChoices):
        WEB = "web", "unsubscribe page"
        ONE_CLICK = "one-click", "one-click (RFC 8058)"
        MAILTO = "mailto", "email to the unsubscribe address"
        PREFERENCES = "preferences", "preference centre"

    class Scope(models.TextChoices):
        LIST = "list", "the campaign's lists"
        ALL = "all", "every list"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="unsubscribes")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="unsubscribes")
    method = models.CharField(max_length=16, choices=Method.choices)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="unsubscribe_once")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} left through campaign {self.campaign_id} ({self.method})"
