"""delivery/sending.py: one batch to one site, against real SMTP servers and real Redis."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from delivery.limits import Rate, SiteLimits
from delivery.mx import Candidate
from delivery.sending import BatchSender, Classification, Outgoing
from delivery.smtp import Session, TlsPolicy
from delivery.throttle import SiteStatus, Throttle
from tests.smtpserver import SERVER_NAME, Script

SITE = "example.test"
DEAD = "127.0.0.2"  # loopback, but the test servers listen on 127.0.0.1 only


def classify(reply) -> Classification:
    return Classification(
        "userunknown" if reply.enhanced == "5.1.1" else "undefined", hard=reply.enhanced == "5.1.1"
    )


@pytest.fixture
def throttle(redis_db):
    return Throttle(redis_db, prefix=f"test:{uuid.uuid4().hex}")


def connector(server, **options):
    options.setdefault("tls_policy", TlsPolicy.NONE)

    def connect(candidate: Candidate) -> Session:
        return Session(
            candidate.host,
            server.port,
            address=candidate.address,
            helo_name="mta.edm.test",
            command_timeout=5,
            connect_timeout=5,
            **options,
        )

    return connect


def outgoing(count: int, *, hosts=("127.0.0.1",), start: int = 1) -> list[Outgoing]:
    candidates = tuple(
        Candidate(SERVER_NAME if a == "127.0.0.1" else f"mx-{a}", a, 10) for a in hosts
    )
    return [
        Outgoing(
            delivery_id=i,
            mail_from=f"b-{i}@bounces.edm.test",
            rcpt_to=f"user{i}@example.test",
            candidates=candidates,
            build=lambda i=i: f"Subject: message {i}\r\n\r\nHello {i}\r\n".encode(),
        )
        for i in range(start, start + count)
    ]


def sender(server, throttle, limits=None, **options) -> BatchSender:
    connect = options.pop("connect", None) or connector(server)
    return BatchSender(
        site=SITE,
        limits=limits or SiteLimits(rate=None),
        throttle=throttle,
        connect=connect,
        classify=classify,
        **options,
    )


def outcomes(results) -> list[str]:
    return [str(result.outcome) for result in results]


def test_one_connection_carries_the_whole_batch_and_each_acceptance_is_reported_at_once(
    smtp_server, throttle
):
    accepted = []
    results = sender(
        smtp_server, throttle, on_accepted=lambda delivery_id, reply: accepted.append(delivery_id)
    ).run(outgoing(5))

    assert outcomes(results) == ["sent"] * 5
    assert accepted == [1, 2, 3, 4, 5]
    assert smtp_server.connections == 1
    assert [m.rcpt_tos for m in smtp_server.messages] == [
        [f"user{i}@example.test"] for i in range(1, 6)
    ]
    assert {r.host for r in results} == {SERVER_NAME}
    assert {r.address for r in results} == {"127.0.0.1"}


def test_a_5xx_bounces_only_that_recipient(start_smtp_server, throttle):
    server = start_smtp_server(script=Script(rcpt={"user2@example.test": "550 5.1.1 No such user"}))
    results = sender(server, throttle).run(outgoing(3))

    assert outcomes(results) == ["sent", "bounced", "sent"]
    assert results[1].reason == "userunknown"
    assert results[1].hard is True
    assert results[1].reply.code == 550


def test_a_4xx_defers_only_that_message(start_smtp_server, throttle):
    server = start_smtp_server(script=Script(rcpt={"user2@example.test": "452 4.2.2 Mailbox full"}))
    results = sender(server, throttle).run(outgoing(3))

    assert outcomes(results) == ["sent", "deferred", "sent"]
    assert results[1].reply.code == 452


def test_a_421_mid_batch_defers_the_rest_without_reconnecting(start_smtp_server, throttle):
    server = start_smtp_server(script=Script(close_after=2))
    results = sender(server, throttle).run(outgoing(5))

    assert outcomes(results) == ["sent", "sent", "deferred", "deferred", "deferred"]
    assert results[2].reply.code == 421
    assert server.connections == 1
    assert len(server.messages) == 2


def test_messages_per_connection_opens_a_new_connection(smtp_server, throttle):
    limits = SiteLimits(messages_per_connection=2, rate=None)
    results = sender(smtp_server, throttle, limits).run(outgoing(5))

    assert outcomes(results) == ["sent"] * 5
    assert smtp_server.connections == 3
    assert [m.connection for m in smtp_server.messages] == [1, 1, 2, 2, 3]


def test_when_the_first_host_does_not_answer_the_next_is_tried(smtp_server, throttle):
    results = sender(smtp_server, throttle).run(outgoing(3, hosts=(DEAD, "127.0.0.1")))

    assert outcomes(results) == ["sent"] * 3
    assert {r.address for r in results} == {"127.0.0.1"}
    assert throttle.state(SITE, SiteLimits()).status is SiteStatus.NORMAL


def test_a_site_whose_hosts_all_fail_is_suspended_and_its_mail_deferred(smtp_server, throttle):
    results = sender(smtp_server, throttle).run(outgoing(3, hosts=(DEAD,)))

    assert outcomes(results) == ["deferred"] * 3
    assert results[0].reason == "networkerror"
    assert DEAD in results[0].detail
    state = throttle.state(SITE, SiteLimits())
    assert state.status is SiteStatus.SUSPENDED

    again = sender(smtp_server, throttle).run(outgoing(2, hosts=("127.0.0.1",), start=10))
    assert outcomes(again) == ["not_attempted"] * 2
    assert again[0].retry_after > 0
    assert smtp_server.connections == 0


def test_without_a_free_slot_nothing_is_attempted(smtp_server, throttle):
    limits = SiteLimits(max_connections=1, rate=None)
    held = throttle.acquire(SITE, limits)
    try:
        results = sender(smtp_server, throttle, limits).run(outgoing(3))
    finally:
        throttle.release(held)

    assert outcomes(results) == ["not_attempted"] * 3
    assert all(r.retry_after is not None for r in results)
    assert smtp_server.connections == 0


def test_a_slow_down_reply_slows_the_site_and_defers_that_message(start_smtp_server, throttle):
    text = "450 4.7.28 Our system has detected an unusual rate of unsolicited mail"
    server = start_smtp_server(script=Script(rcpt={"user2@example.test": text}))
    results = sender(server, throttle).run(outgoing(3))

    assert outcomes(results) == ["sent", "deferred", "sent"]
    assert results[1].reason == "speeding"
    state = throttle.state(SITE, SiteLimits())
    assert state.status is SiteStatus.SLOWED
    assert state.limits.max_connections < SiteLimits().max_connections


def test_a_stop_request_leaves_the_rest_untouched(smtp_server, throttle):
    checks = iter([False, True])
    results = sender(smtp_server, throttle, should_stop=lambda: next(checks)).run(outgoing(25))

    assert outcomes(results) == ["sent"] * 10 + ["not_attempted"] * 15
    assert len(smtp_server.messages) == 10


def paced(redis_db, waits):
    """A throttle on a clock that only the sender's `sleep` moves: pacing is exact."""
    clock = [1_000_000.0]
    throttle = Throttle(redis_db, prefix=f"test:{uuid.uuid4().hex}", clock=lambda: clock[0])

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    return throttle, sleep


def test_the_site_rate_paces_the_batch(smtp_server, redis_db):
    waits = []
    throttle, sleep = paced(redis_db, waits)
    limits = SiteLimits(rate=Rate(40), burst=5)
    results = sender(smtp_server, throttle, limits, sleep=sleep).run(outgoing(15))

    assert outcomes(results) == ["sent"] * 15
    # 5 at once (the burst), then 5 more after 1/8 s, and again: 1/4 s in all at 40/s.
    assert sum(waits) == pytest.approx(0.25, abs=0.01)


def test_a_slow_site_gives_the_worker_back_instead_of_sleeping(smtp_server, redis_db):
    waits = []
    throttle, sleep = paced(redis_db, waits)
    limits = SiteLimits(rate=Rate(2), burst=5)  # the next 5 would need 2.5 s
    results = sender(smtp_server, throttle, limits, sleep=sleep).run(outgoing(12))

    assert outcomes(results) == ["sent"] * 5 + ["not_attempted"] * 7
    assert results[5].retry_after == pytest.approx(2.5, abs=0.05)
    assert waits == []
    assert len(smtp_server.messages) == 5


def test_a_connection_that_breaks_twice_defers_the_rest(start_smtp_server, throttle):
    server = start_smtp_server(script=Script(stall=frozenset({"DATA"})))

    def connect(candidate):
        return Session(
            candidate.host,
            server.port,
            address=candidate.address,
            helo_name="mta.edm.test",
            tls_policy=TlsPolicy.NONE,
            command_timeout=0.5,
            data_timeout=0.5,
        )

    results = sender(server, throttle, connect=connect).run(outgoing(4))

    assert outcomes(results) == ["deferred"] * 4
    assert server.connections == 2  # one retry on a new connection, then the batch gives up


def test_a_failed_tls_handshake_falls_back_and_is_recorded(broken_tls_server, throttle):
    connect = connector(broken_tls_server, tls_policy=TlsPolicy.OPPORTUNISTIC)
    results = sender(broken_tls_server, throttle, connect=connect).run(outgoing(2))

    assert outcomes(results) == ["sent", "sent"]
    assert all(r.tls_fallback and r.tls_version is None for r in results)


def test_when_an_acceptance_cannot_be_recorded_the_batch_stops_after_that_message(
    smtp_server, throttle
):
    from delivery.sending import AcceptanceNotRecordedError

    def lost(delivery_id, reply):
        if delivery_id == 2:
            raise AcceptanceNotRecordedError("Redis went away")

    results = sender(smtp_server, throttle, on_accepted=lost).run(outgoing(5))

    assert outcomes(results) == ["sent", "sent", "not_attempted", "not_attempted", "not_attempted"]
    assert len(smtp_server.messages) == 2


def test_the_next_message_is_built_while_the_server_reads_this_one(smtp_server, throttle):
    # The order of events shows the overlap: message n+1 is built before message n's reply is
    # handled (its acceptance reported), and nothing is sent before that.
    events = []

    def traced(message):
        def build():
            events.append(f"build {message.delivery_id}")
            return message.build()

        return dataclasses.replace(message, build=build)

    messages = [traced(m) for m in outgoing(3)]
    on_accepted = lambda delivery_id, reply: events.append(f"accepted {delivery_id}")  # noqa: E731

    results = sender(smtp_server, throttle, on_accepted=on_accepted).run(messages)

    assert outcomes(results) == ["sent"] * 3
    assert events == ["build 1", "build 2", "accepted 1", "build 3", "accepted 2", "accepted 3"]
    assert [m.rcpt_tos for m in smtp_server.messages] == [
        [f"user{i}@example.test"] for i in (1, 2, 3)
    ]


def test_a_message_that_fails_to_build_ahead_fails_alone_in_its_turn(smtp_server, throttle):
    from delivery.sending import UnbuildableMessageError

    def broken():
        raise UnbuildableMessageError("contact.attributes.x is not defined")

    messages = outgoing(3)
    messages[1] = dataclasses.replace(messages[1], build=broken)

    results = sender(smtp_server, throttle).run(messages)

    assert outcomes(results) == ["sent", "failed", "sent"]
    assert results[1].reason == "contenterror"
    assert "not defined" in results[1].detail
    assert [m.rcpt_tos for m in smtp_server.messages] == [
        ["user1@example.test"],
        ["user3@example.test"],
    ]
