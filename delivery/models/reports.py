"""Counters kept while mail flows, so dashboards read a few rows instead of counting deliveries.

Every change of a delivery's status is applied to these rows in the same transaction, in
bulk per batch (delivery/recording.py): the counters always add up to the audience.
"""

from __future__ import annotations

from django.db import models

from campaigns.models import Campaign


class CampaignStats(models.Model):
    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    audience = models.PositiveIntegerField(default=0, db_default=0)
    queued = models.IntegerField(default=0, db_default=0)
    deferred = models.IntegerField(default=0, db_default=0)
    sent = models.IntegerField(default=0, db_default=0)
    bounced_hard = models.IntegerField(default=0, db_default=0)
    bounced_soft = models.IntegerField(default=0, db_default=0)
    failed = models.IntegerField(default=0, db_default=0)
    complained = models.IntegerField(default=0, db_default=0)
    cancelled = models.IntegerField(default=0, db_default=0)
    unsubscribed = models.IntegerField(default=0, db_default=0)
    # Bounces whose reason is about us (blocked, spam, policy…): a deliverability alarm.
    sender_rejected = models.IntegerField(default=0, db_default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"stats of campaign {self.campaign_id}"

    @property
    def pending(self) -> int:
        return self.queued + self.deferred

    @property
    def bounced(self) -> int:
        return self.bounced_hard + self.bounced_soft


class SiteStats(models.Model):
    """A campaign's deliveries to one destination site."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="site_stats")
    site = models.CharField(max_length=253)
    queued = models.IntegerField(default=0, db_default=0)
    deferred = models.IntegerField(default=0, db_default=0)
    sent = models.IntegerField(default=0, db_default=0)
    bounced = models.IntegerField(default=0, db_default=0)
    failed = models.IntegerField(default=0, db_default=0)
    last_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_reply = models.CharField(max_length=1000, blank=True, db_default="")
    last_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "site"], name="site_stats_once")]

    def __str__(self) -> str:
        return f"{self.site} in campaign {self.campaign_id}"


class MinuteStats(models.Model):
    """Outcomes of a campaign per minute: the throughput chart."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="minute_stats")
    minute = models.DateTimeField()
    sent = models.IntegerField(default=0, db_default=0)
    deferred = models.IntegerField(default=0, db_default=0)
    bounced = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "minute"], name="minute_stats_once")
        ]
        # The overview sums every campaign's minutes since midnight or the start of the week.
        indexes = [models.Index(fields=["minute"], name="minute_stats_minute")]

    def __str__(self) -> str:
        return f"{self.minute:%H:%M} of campaign {self.campaign_id}"


class ReasonStats(models.Model):
    """A campaign's bounced deliveries by reason and hard/soft: the bounce reasons chart.

    Counting bounced deliveries by reason on every view reads tens of thousands of rows at a
    million deliveries (half a second measured, "Dashboards" in docs/BENCHMARKS.md); these
    rows move with each delivery that becomes bounced, like the other counters.
    """

    # The unique (campaign, reason, hard) constraint's index serves lookups by campaign.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="reason_stats", db_index=False
    )
    reason = models.CharField(max_length=32)
    hard = models.BooleanField()
    bounced = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "reason", "hard"], name="reason_stats_once")
        ]

    def __str__(self) -> str:
        kind = "hard" if self.hard else "soft"
        return f"{self.bounced} {kind} {self.reason} in campaign {self.campaign_id}"
