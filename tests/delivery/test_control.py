"""delivery/control.py: the fast signals in Redis, against the suite's real Redis."""

from __future__ import annotations

import time

import pytest

from delivery import control
from delivery.smtp import Reply


def test_an_acceptance_mark_is_in_redis_before_its_reply_is_read(redis_db):
    log = control.AcceptanceLog("t1").__enter__()
    log.mark(41, Reply(250, "2.0.0", "queued as A1"))
    log.mark(42, Reply(250, None, "ok"))
    # A worker killed here never reads the replies; Redis has executed the writes anyway.
    deadline = time.monotonic() + 2
    while len(control.accepted_read("t1")) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert control.accepted_read("t1") == {
        41: Reply(250, "2.0.0", "queued as A1"),
        42: Reply(250, None, "ok"),
    }
    log.__exit__(None, None, None)
    assert 0 < redis_db.ttl("edm:accepted:t1") <= control.ACCEPTED_TTL


def test_clearing_forgets_the_marks(redis_db):
    with control.AcceptanceLog("t2") as log:
        log.mark(7, Reply(250, None, "ok"))
    control.accepted_clear("t2")
    assert control.accepted_read("t2") == {}


def _marks_until_refused(log, attempts: int = 20) -> int:
    """Mark deliveries until a mark raises; the number of marks that did not."""
    from delivery.sending import AcceptanceNotRecordedError

    for n in range(attempts):
        try:
            log.mark(100 + n, Reply(250, None, "ok"))
        except AcceptanceNotRecordedError:
            return n
        time.sleep(0.02)  # let Redis's reply to the earlier marks arrive
    raise AssertionError(f"{attempts} marks and none was refused")


def test_a_mark_redis_refuses_stops_the_marks_within_a_message_and_closing_does_not_raise(
    redis_db,
):
    from delivery.sending import AcceptanceNotRecordedError

    log = control.AcceptanceLog("t3").__enter__()
    log.mark(1, Reply(250, None, "ok"))
    redis_db.delete("edm:accepted:t3")
    redis_db.set("edm:accepted:t3", "not a hash")  # every HSET now answers WRONGTYPE

    assert _marks_until_refused(log) <= 1
    with pytest.raises(AcceptanceNotRecordedError):
        log.mark(999, Reply(250, None, "ok"))  # once broken, at once
    log.__exit__(None, None, None)


def test_a_dropped_connection_stops_the_marks_and_closing_neither_raises_nor_waits(redis_db):
    log = control.AcceptanceLog("t4").__enter__()
    log.connection.send_command("CLIENT", "ID")
    client_id = log.connection.read_response()
    log.mark(1, Reply(250, None, "ok"))
    redis_db.client_kill_filter(_id=client_id)

    assert _marks_until_refused(log) <= 2
    started = time.monotonic()
    log.__exit__(None, None, None)
    assert time.monotonic() - started < 1
    assert 1 in control.accepted_read("t4")  # what reached Redis before the drop is kept
