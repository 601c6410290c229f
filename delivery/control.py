"""Fast signals between the services and running batches, kept in Redis.

The database stays the truth; these keys only make things quick, and every reader falls
back to the database when a key is missing (Redis restarted or flushed):

    edm:campaign:<id>:state   string, the campaign's status, so a running batch notices a pause
                              or cancel within a few messages without querying the database
    edm:accepted:<batch id>   hash delivery id -> "code|enhanced|text": messages a server
                              accepted (250) during the batch's current run, written before the
                              next message goes out, so a rerun after a crash never sends them
                              again (transactional requests use "tx-<request id>" as batch id)
"""

from __future__ import annotations

import logging

import redis
from django.db import transaction

from delivery.sending import AcceptanceNotRecordedError
from delivery.smtp import Reply
from edm import redis as edm_redis

STATE_TTL = 30 * 86400
ACCEPTED_TTL = 7 * 86400

logger = logging.getLogger(__name__)


def _state_key(campaign_id: int) -> str:
    return f"edm:campaign:{campaign_id}:state"


def _accepted_key(batch_id: int | str) -> str:
    return f"edm:accepted:{batch_id}"


def campaign_state_publish(campaign_id: int, status: str) -> None:
    """Tell running batches the campaign's new status once the transaction commits."""
    transaction.on_commit(
        lambda: edm_redis.connection().set(_state_key(campaign_id), status, ex=STATE_TTL)
    )


def campaign_state(campaign_id: int) -> str | None:
    """The last published status, or None when Redis has forgotten it."""
    value = edm_redis.connection().get(_state_key(campaign_id))
    return value.decode() if value is not None else None


def accepted_start_key(key: str) -> None:
    """Open an acceptance record for a run: it expires if nobody ever clears it."""
    # HSET on a missing key would create it without a TTL, so create it with one first.
    with edm_redis.connection().pipeline(transaction=False) as pipe:
        pipe.hsetnx(key, "-", "")
        pipe.expire(key, ACCEPTED_TTL)
        pipe.execute()


class AcceptanceLog:
    """The acceptance marks of one batch run, written to Redis as each 250 arrives.

    Each mark is written to Redis's socket before the next message goes out; its reply is read
    later (those already arrived before each new mark, the rest when the log closes), so the
    run does not wait a round trip per message: redis-py's per-command machinery cost more
    than the DKIM hash. Redis executes commands in the order they arrive, so a mark that
    reached Redis is recorded even if the worker is killed right after.

    The window this leaves: a mark still in this host's socket buffer when the worker dies
    (microseconds on loopback), or one written into a connection Redis has just dropped, or
    refused by Redis (out of memory, read-only replica). The last two are noticed at the next
    mark, which then raises AcceptanceNotRecordedError and the batch stops after the message
    in hand; every later mark fails at once. Closing the log never raises: the database
    record that follows it is the durable one.
    """

    CLOSE_WAIT = 5.0  # seconds to wait for each outstanding reply when the log closes

    def __init__(self, batch_id: int | str):
        self.key = _accepted_key(batch_id)
        self.pool = edm_redis.connection().connection_pool
        self.connection = None
        self.unread = 0
        self.broken = False

    def __enter__(self) -> AcceptanceLog:
        accepted_start_key(self.key)
        self.connection = self.pool.get_connection()
        return self

    def mark(self, delivery_id: int, reply: Reply) -> None:
        """Remember that the server accepted this delivery's message (right after the 250)."""
        if self.broken:
            raise AcceptanceNotRecordedError("an earlier acceptance mark was not recorded")
        value = f"{reply.code}|{reply.enhanced or ''}|{reply.text[:900]}"
        try:
            self._read_arrived()
            self.connection.send_command("HSET", self.key, str(delivery_id), value)
        except Exception as exc:  # any: on a dead socket redis-py raises more than RedisError
            self._break()
            raise AcceptanceNotRecordedError(str(exc)) from exc
        self.unread += 1

    def _read_arrived(self) -> None:
        """Read the replies that are already here; an error reply raises (ResponseError).

        Asked even when no reply is owed: a connection Redis has closed shows up here
        (redis-py raises), while a write into it could still seem to succeed over TCP.
        """
        while self.connection.can_read(timeout=0):
            if not self.unread:
                raise redis.ConnectionError("Redis sent something no mark asked for")
            self.connection.read_response()
            self.unread -= 1

    def _break(self) -> None:
        self.broken = True
        self.connection.disconnect()  # replies owed on it are lost with it: never read them

    def __exit__(self, *exc_info) -> None:
        try:
            while not self.broken and self.unread:
                if not self.connection.can_read(timeout=self.CLOSE_WAIT):
                    raise TimeoutError(f"no reply from Redis in {self.CLOSE_WAIT} s")
                self.connection.read_response()
                self.unread -= 1
        except Exception as exc:  # any: see mark()
            self._break()
            logger.warning("Acceptance marks of %s may be incomplete: %s", self.key, exc)
        finally:
            self.pool.release(self.connection)


def accepted_read(batch_id: int | str) -> dict[int, Reply]:
    """Deliveries of the batch accepted during a run that did not get to record them."""
    found = edm_redis.connection().hgetall(_accepted_key(batch_id))
    accepted = {}
    for delivery_id, value in found.items():
        if delivery_id == b"-":
            continue  # accepted_start_key's placeholder
        code, enhanced, text = value.decode("utf-8", "replace").split("|", 2)
        accepted[int(delivery_id)] = Reply(int(code), enhanced or None, text)
    return accepted


def accepted_clear(batch_id: int | str) -> None:
    """Forget the marks once the database has recorded them (called after the commit)."""
    edm_redis.connection().delete(_accepted_key(batch_id))
