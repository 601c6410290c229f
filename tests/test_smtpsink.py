"""The benchmark sink of tests/smtpsink.py misbehaves as asked and counts what it saw."""

from __future__ import annotations

import socket
import time

import pytest

from delivery.smtp import PossiblyDeliveredError, Session, TlsPolicy
from tests.smtpsink import Behaviour, SinkProcess, running_sink

MESSAGE = b"Subject: x\r\n\r\n.a line with a dot\r\nbody\r\n"


def session_to(sink) -> Session:
    return Session(
        "sink.test", sink.port, address=sink.host, helo_name="client.test",
        tls_policy=TlsPolicy.NONE, command_timeout=30, data_timeout=30,
    )  # fmt: skip


def test_every_reply_leaves_no_sooner_than_the_reply_delay():
    with running_sink(Behaviour(reply_delay=0.2)) as sink:
        started = time.monotonic()
        with session_to(sink) as session:  # the greeting and EHLO: two replies
            opened = time.monotonic()
            reply = session.send("a@example.org", "b@example.com", MESSAGE)
            sent = time.monotonic()

    assert reply.ok
    assert opened - started >= 0.4
    # MAIL, RCPT and DATA are pipelined: one delay for the three, one for the final dot.
    assert sent - opened >= 0.4


def test_sink_counts_connections_the_most_open_at_once_and_messages():
    with running_sink() as sink:
        with session_to(sink) as first, session_to(sink) as second:
            first.send("a@example.org", "b@example.com", MESSAGE)
            second.send("a@example.org", "c@example.com", MESSAGE)
        with session_to(sink) as third:
            third.send("a@example.org", "d@example.com", MESSAGE)
        counts = sink.counters

        assert (counts.connections, counts.max_open, counts.messages) == (3, 2, 3)


def test_drops_and_refusals_are_spread_over_the_messages():
    behaviour = Behaviour(drop_after_data=0.5, refuse_every=3, refusal="452 4.3.1 Full")
    outcomes = []
    with running_sink(behaviour) as sink:
        for n in range(6):
            with session_to(sink) as session:
                try:
                    outcomes.append(
                        session.send("a@example.org", f"u{n}@example.com", MESSAGE).code
                    )
                except PossiblyDeliveredError:
                    outcomes.append("dropped")
        counts = sink.counters.snapshot()

    # Message 2, 4 and 6 are dropped (every second one); of the others, the third is refused.
    assert outcomes == [250, "dropped", 452, "dropped", 250, "dropped"]
    assert (counts["dropped"], counts["refused"], counts["messages"]) == (3, 1, 6)


def test_a_silent_host_accepts_the_connection_and_never_greets():
    with running_sink(Behaviour(stall=frozenset({"greeting"}))) as sink:
        with socket.create_connection((sink.host, sink.port)) as client:
            client.settimeout(0.3)
            with pytest.raises(TimeoutError):
                client.recv(100)
        assert sink.counters.connections == 1


def test_a_sink_in_its_own_process_serves_every_address_and_shares_its_counters():
    with SinkProcess(Behaviour(close_after=1), hosts=("127.0.0.1", "127.0.1.2")) as sink:
        with session_to(sink) as session:
            first = session.send("a@example.org", "b@example.com", MESSAGE)
            second = session.send("a@example.org", "c@example.com", MESSAGE)
        other = Session(
            "sink.test", sink.port, address="127.0.1.2", helo_name="client.test",
            tls_policy=TlsPolicy.NONE,
        )  # fmt: skip
        with other:
            third = other.send("a@example.org", "d@example.com", MESSAGE)
        counts = sink.counters.snapshot()

    assert (first.code, second.code, third.code) == (250, 421, 250)
    assert (counts["connections"], counts["messages"]) == (2, 2)
    assert counts["octets"] == 2 * len(MESSAGE.replace(b"\n.", b"\n.."))  # as sent: stuffed


def test_an_address_of_a_sink_process_can_behave_on_its_own():
    silent = Behaviour(stall=frozenset({"greeting"}))
    hosts = ("127.0.0.1", "127.0.1.3")
    with SinkProcess(hosts=hosts, overrides={"127.0.1.3": silent}) as sink:
        with session_to(sink) as session:  # 127.0.0.1 behaves as the default
            reply = session.send("a@example.org", "b@example.com", MESSAGE)
        with socket.create_connection(("127.0.1.3", sink.port)) as client:
            client.settimeout(0.3)
            with pytest.raises(TimeoutError):
                client.recv(100)  # never greets

    assert reply.ok
