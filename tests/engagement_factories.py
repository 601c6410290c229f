"""Builders for engagement tests: a sent, tracked campaign and the events its readers cause.

`sent_campaign` plans and records deliveries with the engine's own code (report_factories),
then prepares the campaign as a sending worker does, which stores its links table.
`event` makes the event a request to a tracking endpoint would push, at a chosen time.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from campaigns.models import Campaign
from delivery.engagement.classify import Agent, Network, Signals
from delivery.engagement.events import Event
from delivery.engagement.tokens import EventKind, Mark
from delivery.models import Delivery
from delivery.prepared import prepared_campaign
from tests.report_factories import planned_campaign, record

HTML = (
    "<html><body><h1>Autumn sale, {{ contact.name|default('friend') }}</h1>"
    '<p><a href="https://shop.example/sale">See the sale</a></p>'
    '<p><a href="https://shop.example/new">New arrivals</a></p>'
    '<p><a href="https://shop.example/stores">Our stores</a></p>'
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
    "</body></html>"
)


def sent_campaign(
    emails: list[str], *, sent_at: dt.datetime | None = None, **fields
) -> tuple[Campaign, dict[str, Delivery]]:
    """A campaign sent to `emails` (at `sent_at`, an hour ago by default), links stored."""
    sent_at = sent_at or timezone.now() - dt.timedelta(hours=1)
    campaign = planned_campaign(
        emails, started_at=sent_at - dt.timedelta(minutes=1), sites=fields.pop("sites", None)
    )
    Campaign.objects.filter(pk=campaign.pk).update(html=HTML, **fields)
    campaign.refresh_from_db()
    record(campaign, dict.fromkeys(emails, "sent"), at=sent_at)
    # Recording stamps sent_at with the clock; the classification of clicks reads it.
    Delivery.objects.filter(campaign=campaign).update(sent_at=sent_at)
    prepared_campaign(campaign)
    deliveries = {d.email: d for d in Delivery.objects.filter(campaign=campaign)}
    return campaign, deliveries


def event(
    kind: EventKind,
    delivery: Delivery,
    *,
    link: int = 0,
    at: dt.datetime | None = None,
    agent: Agent = Agent.BROWSER,
    network: Network = Network.OTHER,
    head: bool = False,
) -> Event:
    """The event a request for `delivery`'s pixel or link `link` pushes."""
    signals = Signals(at=at or timezone.now(), head=head, agent=agent, network=network)
    return Event(kind, Mark(delivery.campaign_id, delivery.pk, link), signals)
