"""delivery/control.py: the fast signals in Redis, against the suite's real Redis."""

from __future__ import annotations

import time

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
