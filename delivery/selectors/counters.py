"""A campaign's counters as the pages show them, and the rates the alarms watch.

Rates are ratios (0.0–1.0), or None while nothing they divide by has happened:

- bounce rate and hard bounce rate: bounces among the messages a server answered for good
  (sent + bounced), the way mailbox providers and ESPs count them;
- complaint rate: complaints among the messages sent (Gmail's and Yahoo's bulk-sender rules
  ask to stay under 0.1 % and never reach 0.3 %).
"""

from __future__ import annotations

from dataclasses import dataclass

from delivery.models import CampaignStats

# Alarm thresholds as "one in N", so that code and SQL compare whole numbers exactly.
COMPLAINT_ALARM_ONE_IN = 1000  # complaint rate ≥ 0.1 %
HARD_BOUNCE_ALARM_ONE_IN = 50  # hard bounce rate ≥ 2 %


@dataclass(frozen=True)
class Counters:
    """Where a campaign's deliveries are; they add up to `audience`."""

    audience: int = 0
    queued: int = 0
    in_flight: int = 0  # of `queued`: in batches a worker is sending now
    sent: int = 0
    deferred: int = 0
    bounced_hard: int = 0
    bounced_soft: int = 0
    failed: int = 0
    cancelled: int = 0
    complained: int = 0  # counted on top of sent
    unsubscribed: int = 0  # counted on top of sent
    sender_rejected: int = 0  # bounces about us (blocked, spam…), counted in bounced

    @classmethod
    def of(cls, stats: CampaignStats | None, *, in_flight: int = 0) -> Counters:
        """The counters of a CampaignStats row (all zero before the campaign is planned)."""
        if stats is None:
            return cls(in_flight=in_flight)
        return cls(
            audience=stats.audience,
            queued=stats.queued,
            in_flight=in_flight,
            sent=stats.sent,
            deferred=stats.deferred,
            bounced_hard=stats.bounced_hard,
            bounced_soft=stats.bounced_soft,
            failed=stats.failed,
            cancelled=stats.cancelled,
            complained=stats.complained,
            unsubscribed=stats.unsubscribed,
            sender_rejected=stats.sender_rejected,
        )

    @property
    def bounced(self) -> int:
        return self.bounced_hard + self.bounced_soft

    @property
    def done(self) -> int:
        """Deliveries with a final outcome: nothing more will be tried for them."""
        return self.sent + self.bounced + self.failed + self.cancelled

    @property
    def progress(self) -> float:
        """Percentage of the audience done, 0–100."""
        return 100.0 * self.done / self.audience if self.audience else 0.0

    @property
    def answered(self) -> int:
        return self.sent + self.bounced

    @property
    def bounce_rate(self) -> float | None:
        return self.bounced / self.answered if self.answered else None

    @property
    def hard_bounce_rate(self) -> float | None:
        return self.bounced_hard / self.answered if self.answered else None

    @property
    def complaint_rate(self) -> float | None:
        return self.complained / self.sent if self.sent else None

    @property
    def complaint_alarm(self) -> bool:
        return self.complained > 0 and self.complained * COMPLAINT_ALARM_ONE_IN >= self.sent

    @property
    def hard_bounce_alarm(self) -> bool:
        return (
            self.bounced_hard > 0 and self.bounced_hard * HARD_BOUNCE_ALARM_ONE_IN >= self.answered
        )

    def as_dict(self) -> dict[str, int | float | None]:
        """Every counter and rate, for the live endpoint's JSON."""
        names = [
            "audience",
            "queued",
            "in_flight",
            "sent",
            "deferred",
            "bounced_hard",
            "bounced_soft",
            "bounced",
            "failed",
            "cancelled",
            "complained",
            "unsubscribed",
            "sender_rejected",
            "done",
            "progress",
            "bounce_rate",
            "hard_bounce_rate",
            "complaint_rate",
        ]
        return {name: getattr(self, name) for name in names}


def stats_of(campaign) -> CampaignStats | None:
    """The campaign's CampaignStats when it was loaded with select_related("stats")."""
    try:
        return campaign.stats
    except CampaignStats.DoesNotExist:
        return None
