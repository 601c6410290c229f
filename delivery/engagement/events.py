"""Engagement events in Redis: pushed by the endpoints, drained in batches by the recorder.

Keys:
    edm:engagement:events   list of encoded events, oldest first (RPUSH, LRANGE + LTRIM)
    edm:engagement:wake     set (NX, EX WAKE_SECONDS) by the push that found no recorder
                            queued: that push enqueues `delivery.jobs.engagement_record`;
                            the recorder deletes it when the list is empty

An event is one short string, "kind|campaign|delivery|link|time|method|agent|network":
the classification inputs reduced at the request, never the client's address.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import NamedTuple

from delivery import jobs_queue
from delivery.engagement.classify import Agent, Network, Signals
from delivery.engagement.tokens import EventKind, Mark
from edm import queues
from edm.redis import connection

logger = logging.getLogger(__name__)

EVENTS_KEY = "edm:engagement:events"
WAKE_KEY = "edm:engagement:wake"
# A recorder that died leaves the wake flag set; after this long a push enqueues another
# (the cron sweep drains the list meanwhile).
WAKE_SECONDS = 30
RECORD_JOB = "delivery.jobs.engagement_record"


class Event(NamedTuple):
    kind: EventKind
    mark: Mark
    signals: Signals

    def encode(self) -> str:
        s = self.signals
        method = "H" if s.head else "G"
        return (
            f"{self.kind}|{self.mark.campaign_id}|{self.mark.delivery_id}|{self.mark.link_index}"
            f"|{s.at.timestamp():.3f}|{method}|{s.agent}|{s.network}"
        )

    @classmethod
    def decode(cls, data: bytes | str) -> Event | None:
        """The event, or None for data this version cannot read (logged, then dropped)."""
        text = data.decode() if isinstance(data, bytes) else data
        try:
            kind, campaign, delivery, link, at, method, agent, network = text.split("|")
            return cls(
                EventKind(kind),
                Mark(int(campaign), int(delivery), int(link)),
                Signals(
                    at=dt.datetime.fromtimestamp(float(at), dt.UTC),
                    head=method == "H",
                    agent=Agent(agent),
                    network=Network(network),
                ),
            )
        except ValueError:
            logger.warning("dropped an unreadable engagement event %r", text[:200])
            return None


def event_push(event: Event) -> None:
    """Queue one event for recording, waking a recorder if none is queued (one round trip).

    Raises redis.RedisError when Redis does not answer.
    """
    pipe = connection().pipeline(transaction=False)
    pipe.rpush(EVENTS_KEY, event.encode())
    pipe.set(WAKE_KEY, 1, nx=True, ex=WAKE_SECONDS)
    _, woke = pipe.execute()
    if woke:
        jobs_queue.enqueue_now(queues.DEFAULT, RECORD_JOB)


def events_peek(count: int) -> list[bytes]:
    """The oldest `count` events, left in place until `events_drop` (a crash loses none)."""
    return connection().lrange(EVENTS_KEY, 0, count - 1)


def events_drop(count: int) -> None:
    """Remove the oldest `count` events, once they are recorded."""
    connection().ltrim(EVENTS_KEY, count, -1)


def recorder_sleep() -> bool:
    """Clear the wake flag; True if the list is empty, so the recorder may stop.

    Clearing before looking closes the race with a push: a push after the look finds the
    flag clear and enqueues a new recorder; one before it is seen here.
    """
    r = connection()
    r.delete(WAKE_KEY)
    return r.llen(EVENTS_KEY) == 0
