"""Models of the delivery app, one module per concept; import them from here."""

from delivery.models.bounces import BounceEvent
from delivery.models.deliveries import Attempt, Batch, Delivery
from delivery.models.engagement import (
    EngagementStats,
    HourEngagement,
    Link,
    LinkClick,
    SiteEngagement,
)
from delivery.models.inbound import InboundMessage
from delivery.models.outbox import CapturedMessage
from delivery.models.reports import CampaignStats, MinuteStats, ReasonStats, SiteStats
from delivery.models.senders import SenderDomain, SiteSetting
from delivery.models.transactional import TxAttempt, TxMessage, TxRequest

__all__ = [
    "Attempt",
    "Batch",
    "BounceEvent",
    "CampaignStats",
    "CapturedMessage",
    "Delivery",
    "EngagementStats",
    "HourEngagement",
    "InboundMessage",
    "Link",
    "LinkClick",
    "MinuteStats",
    "ReasonStats",
    "SenderDomain",
    "SiteEngagement",
    "SiteSetting",
    "SiteStats",
    "TxAttempt",
    "TxMessage",
    "TxRequest",
]
