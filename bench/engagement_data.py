"""Engagement for bench/bench_dashboard.py: 2,000,000 events through the real recorder.

Events are pushed to Redis as the endpoints push them (pipelined) and recorded by
`engagement_record()` in-process, so every counter row the pages read is written the way
production writes it. The mix, for the big campaign's sent deliveries: a third of them
opened by a person (several times), Apple-proxy machine opens for a quarter, clicks by people
on five links, and scanner bursts; spread over the hours since the campaign started.
"""

from __future__ import annotations

import datetime as dt
import random
import time

EVENTS = 2_000_000
PUSH_CHUNK = 10_000


def generated(campaign) -> bool:
    from delivery.models import EngagementStats

    return EngagementStats.objects.filter(campaign=campaign).exists()


def generate(campaign, *, events: int = EVENTS) -> float:
    """Record `events` events of `campaign`; returns events recorded per second."""
    from delivery.engagement.classify import Agent, Network, Signals
    from delivery.engagement.events import EVENTS_KEY, Event
    from delivery.engagement.links import links_store
    from delivery.engagement.recording import engagement_record
    from delivery.engagement.tokens import EventKind, Mark
    from delivery.models import Delivery
    from edm.redis import connection

    links_store(campaign.pk, [f"https://shop.example/autumn/{i}" for i in range(1, 6)])
    sent = list(
        Delivery.objects.filter(campaign=campaign, sent_at__isnull=False).values_list(
            "pk", "sent_at"
        )
    )
    rng = random.Random(7)
    redis = connection()
    started = time.perf_counter()
    made = 0
    while made < events:
        batch = []
        for _ in range(min(PUSH_CHUNK, events - made)):
            delivery, sent_at = sent[rng.randrange(len(sent))]
            at = sent_at + dt.timedelta(seconds=rng.randrange(60, 20 * 3600))
            roll = rng.random()
            if roll < 0.45:
                kind, link, agent, network = EventKind.OPEN, 0, Agent.BROWSER, Network.OTHER
            elif roll < 0.70:
                kind, link, agent, network = EventKind.OPEN, 0, Agent.GENERIC, Network.APPLE
            elif roll < 0.92:
                kind, link = EventKind.CLICK, rng.randrange(1, 6)
                agent, network = Agent.BROWSER, Network.OTHER
            else:
                kind, link, agent, network = (
                    EventKind.CLICK,
                    rng.randrange(1, 6),
                    Agent.SCANNER,
                    Network.OTHER,
                )
            signals = Signals(at=at, head=False, agent=agent, network=network)
            batch.append(Event(kind, Mark(campaign.pk, delivery, link), signals).encode())
        redis.rpush(EVENTS_KEY, *batch)
        made += len(batch)
        engagement_record()
    return events / (time.perf_counter() - started)
