"""Engagement: a campaign's tracked links and the counters opens and clicks move.

Every row here changes only in the engagement recorder (delivery/engagement/recording.py),
in bulk per batch of events; the redirect and pixel endpoints never write the database.
"""

from __future__ import annotations

from django.db import models

from campaigns.models import Campaign


class Link(models.Model):
    """One distinct URL of a campaign's content, stored once (not per recipient).

    `index` is the URL's position among the campaign's tracked links, fixed when the content
    is compiled; click tokens carry it. The counters are clicks by people: `clicks` all of
    them, `unique_clicks` recipients who followed it at least once; `bot_clicks` the rest.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="links", db_index=False
    )
    index = models.PositiveIntegerField()
    url = models.TextField()
    clicks = models.IntegerField(default=0, db_default=0)
    unique_clicks = models.IntegerField(default=0, db_default=0)
    bot_clicks = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "index"], name="link_once")]

    def __str__(self) -> str:
        return f"link {self.index} of campaign {self.campaign_id}: {self.url}"


class LinkClick(models.Model):
    """A recipient followed a link (by a person), once per delivery and link: unique clicks."""

    delivery = models.ForeignKey("delivery.Delivery", on_delete=models.CASCADE, db_index=False)
    link_index = models.PositiveIntegerField()
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "link_index"], name="link_click_once")
        ]

    def __str__(self) -> str:
        return f"delivery {self.delivery_id} followed link {self.link_index}"


class EngagementStats(models.Model):
    """A campaign's opens and clicks, next to CampaignStats.

    `opened` / `clicked` are unique people: the deliveries whose `opened_at` / `clicked_at`
    the recorder set. `opens` / `clicks` count every human event; machine opens (privacy
    proxies, prefetchers) and bot clicks (link scanners) are counted apart, never as people.
    """

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, primary_key=True, related_name="engagement_stats"
    )
    opened = models.IntegerField(default=0, db_default=0)
    clicked = models.IntegerField(default=0, db_default=0)
    opens = models.IntegerField(default=0, db_default=0)
    clicks = models.IntegerField(default=0, db_default=0)
    opens_machine = models.IntegerField(default=0, db_default=0)
    clicks_bot = models.IntegerField(default=0, db_default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"engagement of campaign {self.campaign_id}"


class HourEngagement(models.Model):
    """A campaign's human opens and clicks per hour: the engagement chart."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="hour_engagement", db_index=False
    )
    hour = models.DateTimeField()
    opens = models.IntegerField(default=0, db_default=0)
    clicks = models.IntegerField(default=0, db_default=0)
    opens_machine = models.IntegerField(default=0, db_default=0)
    clicks_bot = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "hour"], name="hour_engagement_once")
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h of campaign {self.campaign_id}"


class SiteEngagement(models.Model):
    """A campaign's unique human opens and clicks among recipients of one site."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="site_engagement", db_index=False
    )
    site = models.CharField(max_length=253)
    opened = models.IntegerField(default=0, db_default=0)
    clicked = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "site"], name="site_engagement_once")
        ]

    def __str__(self) -> str:
        return f"{self.site} in campaign {self.campaign_id}"
