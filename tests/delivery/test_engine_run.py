"""delivery/engine/run.py: one batch to one site on the event loop, against real SMTP servers
(aiosmtpd, tests/smtpsink.py) and real Redis. tests/delivery/test_sending.py's claims about the
blocking sender, held by the async one, then what only the async one does."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest
from django.conf import settings

from delivery.asmtp import AsyncSession, Timeouts
from delivery.engine.run import MAX_LOST_SESSIONS, POSSIBLY_DELIVERED, AsyncBatchSender
from delivery.engine.throttle import AsyncThrottle, async_client
from delivery.limits import Rate, SiteLimits
from delivery.mx import Candidate
from delivery.sending import AcceptanceNotRecordedError, Outgoing, UnbuildableMessageError
from delivery.smtp import TlsPolicy
from delivery.throttle import SiteStatus, Throttle
from tests.aio import run as run_async
from tests.delivery.test_sending import DEAD, SITE, classify, outcomes, outgoing
from tests.smtpserver import Script
from tests.smtpsink import Behaviour, running_sink

PATIENT = Timeouts(*[60.0] * len(Timeouts._fields))


@pytest.fixture
def prefix(redis_db):
    return f"test:{uuid.uuid4().hex}"


def connector(server, timeouts: Timeouts = PATIENT, **options):
    options.setdefault("tls_policy", TlsPolicy.NONE)

    def connect(candidate: Candidate) -> AsyncSession:
        return AsyncSession(
            candidate.host,
            server.port,
            address=candidate.address,
            helo_name="mta.edm.test",
            timeouts=timeouts,
            **options,
        )

    return connect


async def no_pause(seconds: float) -> None:
    pass


def send(server, prefix, messages, limits=None, clock=None, **options):
    """Run one AsyncBatchSender over `messages` in a fresh event loop; its results."""

    async def main():
        client = async_client(settings.REDIS_URL)
        try:
            sender = AsyncBatchSender(
                site=options.pop("site", SITE),
                limits=limits or SiteLimits(rate=None),
                throttle=AsyncThrottle(client, prefix=prefix, clock=clock),
                connect=options.pop("connect", None) or connector(server),
                classify=classify,
                **{"sleep": no_pause, **options},
            )
            return await sender.run(messages)
        finally:
            await client.aclose()

    return run_async(main())


def blocking_view(redis_db, prefix) -> Throttle:
    return Throttle(redis_db, prefix=prefix)


# -- sending.py's rules, on the async session ---------------------------------------------


def test_one_connection_carries_the_whole_batch_and_each_acceptance_is_reported_at_once(
    smtp_server, prefix
):
    accepted = []
    results = send(
        smtp_server, prefix, outgoing(5), on_accepted=lambda d, reply: accepted.append(d)
    )

    assert outcomes(results) == ["sent"] * 5
    assert accepted == [1, 2, 3, 4, 5]
    assert smtp_server.connections == 1
    assert [m.rcpt_tos for m in smtp_server.messages] == [
        [f"user{i}@example.test"] for i in range(1, 6)
    ]
    assert {r.address for r in results} == {"127.0.0.1"}


def test_a_5xx_bounces_only_that_recipient(start_smtp_server, prefix):
    server = start_smtp_server(script=Script(rcpt={"user2@example.test": "550 5.1.1 No such user"}))
    results = send(server, prefix, outgoing(3))

    assert outcomes(results) == ["sent", "bounced", "sent"]
    assert (results[1].reason, results[1].hard, results[1].reply.code) == ("userunknown", True, 550)


def test_a_4xx_defers_only_that_message(start_smtp_server, prefix):
    server = start_smtp_server(script=Script(rcpt={"user2@example.test": "452 4.2.2 Mailbox full"}))
    results = send(server, prefix, outgoing(3))

    assert outcomes(results) == ["sent", "deferred", "sent"]
    assert results[1].reply.code == 452


def test_a_421_mid_batch_defers_the_rest_without_reconnecting(start_smtp_server, prefix):
    server = start_smtp_server(script=Script(close_after=2))
    results = send(server, prefix, outgoing(5))

    assert outcomes(results) == ["sent", "sent", "deferred", "deferred", "deferred"]
    assert results[2].reply.code == 421
    assert server.connections == 1
    assert len(server.messages) == 2


def test_messages_per_connection_opens_a_new_connection(smtp_server, prefix):
    limits = SiteLimits(messages_per_connection=2, rate=None)
    results = send(smtp_server, prefix, outgoing(5), limits)

    assert outcomes(results) == ["sent"] * 5
    assert [m.connection for m in smtp_server.messages] == [1, 1, 2, 2, 3]


def test_when_the_first_host_does_not_answer_the_next_is_tried(smtp_server, prefix, redis_db):
    results = send(smtp_server, prefix, outgoing(3, hosts=(DEAD, "127.0.0.1")))

    assert outcomes(results) == ["sent"] * 3
    assert {r.address for r in results} == {"127.0.0.1"}
    state = blocking_view(redis_db, prefix).state(SITE, SiteLimits())
    assert state.status is SiteStatus.NORMAL


def test_a_site_whose_hosts_all_fail_is_suspended_and_its_mail_deferred(
    smtp_server, prefix, redis_db
):
    results = send(smtp_server, prefix, outgoing(3, hosts=(DEAD,)))

    assert outcomes(results) == ["deferred"] * 3
    assert results[0].reason == "networkerror"
    assert DEAD in results[0].detail
    state = blocking_view(redis_db, prefix).state(SITE, SiteLimits())
    assert state.status is SiteStatus.SUSPENDED

    again = send(smtp_server, prefix, outgoing(2, start=10))
    assert outcomes(again) == ["not_attempted"] * 2
    assert again[0].retry_after > 0
    assert smtp_server.connections == 0


def test_without_a_free_slot_nothing_is_attempted(smtp_server, prefix, redis_db):
    limits = SiteLimits(max_connections=1, rate=None)
    blocking = blocking_view(redis_db, prefix)
    held = blocking.acquire(SITE, limits)
    try:
        results = send(smtp_server, prefix, outgoing(3), limits)
    finally:
        blocking.release(held)

    assert outcomes(results) == ["not_attempted"] * 3
    assert all(r.retry_after is not None for r in results)
    assert smtp_server.connections == 0


def test_a_slow_down_reply_slows_the_site_and_defers_that_message(
    start_smtp_server, prefix, redis_db
):
    text = "450 4.7.28 Our system has detected an unusual rate of unsolicited mail"
    server = start_smtp_server(script=Script(rcpt={"user2@example.test": text}))
    results = send(server, prefix, outgoing(3))

    assert outcomes(results) == ["sent", "deferred", "sent"]
    assert results[1].reason == "speeding"
    state = blocking_view(redis_db, prefix).state(SITE, SiteLimits())
    assert state.status is SiteStatus.SLOWED


def test_a_stop_request_leaves_the_rest_untouched(smtp_server, prefix):
    checks = iter([False, True])

    async def should_stop():
        return next(checks)

    results = send(smtp_server, prefix, outgoing(25), should_stop=should_stop)

    assert outcomes(results) == ["sent"] * 10 + ["not_attempted"] * 15
    assert len(smtp_server.messages) == 10


def paced():
    """A clock that only the sender's `sleep` moves: pacing is exact."""
    clock = [1_000_000.0]
    waits = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    return (lambda: clock[0]), sleep, waits


def test_the_site_rate_paces_the_batch(smtp_server, prefix):
    clock, sleep, waits = paced()
    limits = SiteLimits(rate=Rate(40), burst=5)
    results = send(smtp_server, prefix, outgoing(15), limits, clock=clock, sleep=sleep)

    assert outcomes(results) == ["sent"] * 15
    assert sum(waits) == pytest.approx(0.25, abs=0.01)  # 15 at 40/s with a burst of 5


def test_a_slow_site_gives_the_worker_back_instead_of_sleeping(smtp_server, prefix):
    clock, sleep, waits = paced()
    limits = SiteLimits(rate=Rate(2), burst=5)  # the next 5 would need 2.5 s
    results = send(smtp_server, prefix, outgoing(12), limits, clock=clock, sleep=sleep)

    assert outcomes(results) == ["sent"] * 5 + ["not_attempted"] * 7
    assert results[5].retry_after == pytest.approx(2.5, abs=0.05)
    assert waits == []


def test_a_failed_tls_handshake_falls_back_and_is_recorded(broken_tls_server, prefix):
    connect = connector(broken_tls_server, tls_policy=TlsPolicy.OPPORTUNISTIC)
    results = send(broken_tls_server, prefix, outgoing(2), connect=connect)

    assert outcomes(results) == ["sent", "sent"]
    assert all(r.tls_fallback and r.tls_version is None for r in results)


def test_when_an_acceptance_cannot_be_recorded_the_batch_stops_after_that_message(
    smtp_server, prefix
):
    def lost(delivery_id, reply):
        if delivery_id == 2:
            raise AcceptanceNotRecordedError("Redis went away")

    results = send(smtp_server, prefix, outgoing(5), on_accepted=lost)

    assert outcomes(results) == ["sent", "sent", "not_attempted", "not_attempted", "not_attempted"]
    assert len(smtp_server.messages) == 2


def test_a_message_that_fails_to_build_fails_alone(smtp_server, prefix):
    def broken():
        raise UnbuildableMessageError("contact.attributes.x is not defined")

    messages = outgoing(3)
    messages[1] = dataclasses.replace(messages[1], build=broken)
    results = send(smtp_server, prefix, messages)

    assert outcomes(results) == ["sent", "failed", "sent"]
    assert results[1].reason == "contenterror"
    assert [m.rcpt_tos for m in smtp_server.messages] == [
        ["user1@example.test"],
        ["user3@example.test"],
    ]


# -- lost sessions (the item 4) -----------------------------------------------------


def sink_messages(count: int, port_host="127.0.0.1") -> list[Outgoing]:
    return outgoing(count, hosts=(port_host,))


def test_a_session_dropped_after_data_defers_that_message_as_possibly_delivered_and_goes_on(
    prefix, redis_db
):
    pauses = []

    async def sleep(seconds):
        pauses.append(seconds)

    with running_sink(Behaviour(drop_after_data=0.25)) as sink:  # the 4th message is dropped
        results = send(sink, prefix, sink_messages(6), sleep=sleep, lost_session_pause=0.5)
        counters = sink.counters.snapshot()

    assert outcomes(results) == ["sent"] * 3 + ["deferred"] + ["sent"] * 2
    assert results[3].detail.startswith(POSSIBLY_DELIVERED)
    assert results[3].reason == "networkerror"
    assert pauses == [0.5]  # then a new connection
    assert counters["connections"] == 2
    state = blocking_view(redis_db, prefix).state(SITE, SiteLimits())
    assert state.status is SiteStatus.NORMAL  # one loss does not slow the site


def test_repeated_lost_sessions_slow_the_site_and_hand_the_rest_back_untouched(
    start_smtp_server, prefix, redis_db
):
    server = start_smtp_server(script=Script(stall=frozenset({"DATA"})))
    short = PATIENT._replace(final_dot=0.3)
    results = send(
        server,
        prefix,
        outgoing(MAX_LOST_SESSIONS + 2),
        connect=connector(server, short),
        lost_session_pause=0.5,
    )

    assert outcomes(results) == ["deferred"] * MAX_LOST_SESSIONS + ["not_attempted"] * 2
    assert all(POSSIBLY_DELIVERED in r.detail for r in results[:MAX_LOST_SESSIONS])
    assert results[-1].retry_after == 0.5  # requeued after the pause, not the retry backoff
    assert server.connections == MAX_LOST_SESSIONS
    state = blocking_view(redis_db, prefix).state(SITE, SiteLimits())
    assert state.status is SiteStatus.SLOWED
    assert state.limits.max_connections < SiteLimits().max_connections


# -- no site holds back another (the item 2) ----------------------------------------


def test_a_silent_host_does_not_delay_another_sites_batch_in_the_same_event_loop(prefix):
    order = []

    async def main(silent, working):
        client = async_client(settings.REDIS_URL)
        throttle = AsyncThrottle(client, prefix=prefix)

        def sender(site, server):
            return AsyncBatchSender(
                site=site,
                limits=SiteLimits(rate=None),
                throttle=throttle,
                connect=connector(server),  # a greeting timeout of 60 s
                classify=classify,
            )

        async def batch(site, server, count):
            results = await sender(site, server).run(sink_messages(count))
            order.append(site)
            return results

        try:
            waiting = asyncio.create_task(batch("silent.test", silent, 1))
            finished = await batch("working.test", working, 20)
            # The silent site's session is still waiting for its greeting.
            still_waiting = not waiting.done() and silent.counters.open == 1
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            return finished, still_waiting
        finally:
            await client.aclose()

    with (
        running_sink(Behaviour(stall=frozenset({"greeting"}))) as silent,
        running_sink(Behaviour()) as working,
    ):
        finished, still_waiting = run_async(main(silent, working))
        delivered = working.counters.messages

    assert outcomes(finished) == ["sent"] * 20
    assert delivered == 20
    assert still_waiting
    assert order == ["working.test"]


# -- many sessions in one event loop (the "Done when") ------------------------------


def test_two_hundred_batches_hold_two_hundred_sessions_open_at_once_in_one_event_loop(
    prefix, redis_db
):
    batches, each = 200, 3
    all_open = asyncio.Barrier(batches)

    class Gathered(AsyncSession):
        """Waits after its first message until every batch has sent one: all are open."""

        first = True

        async def send(self, *args):
            reply = await super().send(*args)
            if self.first:
                self.first = False
                await all_open.wait()
            return reply

    async def main(sink):
        client = async_client(settings.REDIS_URL)
        throttle = AsyncThrottle(client, prefix=prefix)

        def connect(candidate):
            return Gathered(
                candidate.host,
                sink.port,
                address=candidate.address,
                helo_name="mta.edm.test",
                timeouts=PATIENT,
                tls_policy=TlsPolicy.NONE,
            )

        def batch(n):
            return AsyncBatchSender(
                site=f"site{n}.test",
                limits=SiteLimits(rate=None),
                throttle=throttle,
                connect=connect,
                classify=classify,
            ).run(outgoing(each, start=n * each))

        try:
            return await asyncio.gather(*(batch(n) for n in range(batches)))
        finally:
            await client.aclose()

    with running_sink(Behaviour(reply_delay=0.05)) as sink:
        results = run_async(main(sink))
        counters = sink.counters.snapshot()

    assert [outcomes(r) for r in results] == [["sent"] * each] * batches
    assert counters["max_open"] == batches
    assert counters["messages"] == batches * each
    assert counters["connections"] == batches
