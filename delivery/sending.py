"""Sending one batch to one site: a connection slot, a connection, the site's pace, outcomes.

`BatchSender.run(messages)` takes a connection slot of the site (or reports that none is
free, so the caller requeues the batch), opens a session to the first host that answers,
sends every message under the site's rate, and returns one `Result` per message. It decides
nothing about the database: the job records the results (delivery/recording.py).

Reply handling follows RFC 5321 and what Postfix does:
- 2xx: sent. `on_accepted` is called at once, before the next message, so a worker killed
  mid-batch does not send that message again (the job keeps the acceptance in Redis).
- a reply that asks us to slow down (421 rate limits, 4.7.x, providers' own texts; see
  slowdown.py) slows the site for every worker and defers the message, even when it comes
  with a 5xx code; a quota signal also suspends the site.
- 421 or a broken connection: the server is gone; the message and the rest of the batch are
  deferred (a broken connection is retried once on a new one).
- other 4xx: that message is deferred. 5xx: that recipient bounced, classified by `classify`.
- no host of the site accepts a connection: everything is deferred and the site suspended
  for a while, instead of every worker hammering a dead destination.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, Protocol

from delivery.limits import SiteLimits
from delivery.mx import Candidate
from delivery.slowdown import SlowDownKind, slow_down_signal
from delivery.smtp import (
    PermanentMessageError,
    Reply,
    Session,
    TemporaryConnectError,
    TemporarySessionError,
)
from delivery.throttle import Lease, TemporaryNoSlot, Throttle

DEAD_SITE_SUSPENSION = 300.0  # seconds; Postfix's minimal backoff time is 300 s as well
STOP_CHECK_EVERY = 10  # messages between checks whether the campaign was paused or cancelled
# The longest a batch sleeps for its site's pace; beyond it the rest of the batch comes back
# later, so a worker never idles on one slow site while others wait.
INLINE_WAIT = 0.25


class Outcome(enum.StrEnum):
    SENT = "sent"
    DEFERRED = "deferred"  # try again later
    BOUNCED = "bounced"  # permanent failure for this recipient
    FAILED = "failed"  # the message could not be built: our problem, not the recipient's
    NOT_ATTEMPTED = "not_attempted"  # no slot, or stopped: untouched, still queued


class AcceptanceNotRecordedError(Exception):
    """`on_accepted` could not keep its record: the batch stops after this message."""


class UnbuildableMessageError(Exception):
    """`Outgoing.build` could not make this message (e.g. the template failed for it)."""


class Classification(NamedTuple):
    reason: str  # Sisimai's taxonomy, e.g. "userunknown"
    hard: bool  # the address is dead


@dataclass(frozen=True)
class Outgoing:
    """One message to send: built only when its turn comes."""

    delivery_id: int
    mail_from: str
    rcpt_to: str  # domain in A-label form
    candidates: tuple[Candidate, ...]  # hosts to try, in order
    build: Callable[[], bytes]  # may raise UnbuildableMessageError


@dataclass(frozen=True)
class Result:
    delivery_id: int
    outcome: Outcome
    at: datetime
    reply: Reply | None = None
    host: str = ""
    address: str = ""
    tls_version: str | None = None
    tls_fallback: bool = False  # STARTTLS failed and the message went in plain text
    detail: str = ""  # our explanation when the server gave no reply
    reason: str = ""  # for bounces and deferrals, in the bounce taxonomy
    hard: bool = False
    retry_after: float | None = None  # for NOT_ATTEMPTED: when a slot may be free


class Connector(Protocol):
    def __call__(self, candidate: Candidate) -> Session:
        """An unopened session to `candidate` (the transport's port, TLS policy, HELO…)."""


class BatchSender:
    """Sends batches to one site; see the module docstring."""

    def __init__(
        self,
        *,
        site: str,
        limits: SiteLimits,
        throttle: Throttle,
        connect: Connector,
        classify: Callable[[Reply], Classification],
        on_accepted: Callable[[int, Reply], None] = lambda delivery_id, reply: None,
        should_stop: Callable[[], bool] = lambda: False,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.site = site
        self.limits = limits
        self.throttle = throttle
        self.connect = connect
        self.classify = classify
        self.on_accepted = on_accepted
        self.should_stop = should_stop
        self.sleep = sleep

    def run(self, messages: Sequence[Outgoing]) -> list[Result]:
        """Send `messages` (all routed to this site); one result per message, in order."""
        try:
            with self.throttle.slot(self.site, self.limits) as lease:
                return _Run(self, lease, messages).results()
        except TemporaryNoSlot as refused:
            now = _now()
            return [
                Result(
                    m.delivery_id,
                    Outcome.NOT_ATTEMPTED,
                    now,
                    retry_after=refused.retry_after,
                    detail=str(refused),
                )
                for m in messages
            ]


class _Run:
    """The state of one batch run: the open session, the rate tokens in hand, the results."""

    def __init__(self, sender: BatchSender, lease: Lease, messages: Sequence[Outgoing]):
        self.sender = sender
        self.lease = lease
        self.pending = list(reversed(messages))  # pop() from the end: the first message first
        self.done: dict[int, Result] = {}
        self.order = [m.delivery_id for m in messages]
        self.session: Session | None = None
        self.sent_on_session = 0
        self.tokens = 0
        self.reconnected_after_break = False
        self.retry_after: float | None = None  # set when the site's pace sends us away
        self.stop_requested = False
        # (message, its bytes or the exception building raised), made by _build_next.
        self.prebuilt: tuple[Outgoing, bytes | Exception] | None = None

    def results(self) -> list[Result]:
        try:
            self._send_all()
        finally:
            if self.session is not None:
                self.session.close()
        now = _now()
        detail = "the site's rate: later" if self.retry_after is not None else "stopped"
        for message in self.pending:
            self.done[message.delivery_id] = Result(
                message.delivery_id,
                Outcome.NOT_ATTEMPTED,
                now,
                detail=detail,
                retry_after=self.retry_after,
            )
        return [self.done[delivery_id] for delivery_id in self.order]

    def _send_all(self) -> None:
        count = 0
        while self.pending:
            if self.lease.lost.is_set():
                return  # our slot expired (Redis trouble): stop rather than exceed the limit
            if self.stop_requested or (count % STOP_CHECK_EVERY == 0 and self.sender.should_stop()):
                return
            count += 1
            if not self._wait_for_rate():
                return
            message = self.pending[-1]
            if not self._ready_for(message):
                return
            self.pending.pop()
            self._send(message)

    def _ready_for(self, message: Outgoing) -> bool:
        """An open, usable session to one of the message's hosts, or everything deferred."""
        session = self.session
        if session is not None and (
            not session.usable
            or self.sent_on_session >= self.lease.limits.messages_per_connection
            or session.host not in {c.host for c in message.candidates}
        ):
            session.close()
            self.session = session = None
        if session is not None:
            return True
        failures = []
        for candidate in message.candidates:
            attempt = self.sender.connect(candidate)
            try:
                attempt.open()
            except TemporaryConnectError as exc:
                failures.append(f"{candidate.host}[{candidate.address}]: {exc}")
                continue
            self.session, self.sent_on_session = attempt, 0
            return True
        detail = "; ".join(failures) or "no host to connect to"
        if failures and len(failures) == len(message.candidates):
            self.sender.throttle.suspend(
                self.sender.site, DEAD_SITE_SUSPENSION, reason=f"no host answered: {detail}"
            )
        self._defer_rest(detail=detail, reason="networkerror")
        return False

    def _wait_for_rate(self) -> bool:
        """Hold a rate token for the next message: waiting a little, or, when the site's pace
        asks for longer than INLINE_WAIT, giving the worker back (False; `retry_after` set):
        another site's batch can use it meanwhile."""
        if self.tokens > 0:
            self.tokens -= 1
            return True
        limits = self.lease.limits
        wanted = min(len(self.pending), limits.burst)
        while True:
            grant = self.sender.throttle.take(
                self.sender.site, limits, wanted, max_wait=INLINE_WAIT
            )
            if grant.granted:
                break
            if grant.wait > INLINE_WAIT:
                self.retry_after = grant.wait
                return False
            self.sender.sleep(grant.wait)
        if grant.wait > 0:
            self.sender.sleep(grant.wait)
        self.tokens = wanted - 1
        return True

    def _send(self, message: Outgoing) -> None:
        session = self.session
        assert session is not None
        try:
            data = self._built(message)
        except UnbuildableMessageError as exc:
            self._record(
                message, Outcome.FAILED, detail=str(exc), reason="contenterror", attempted=False
            )
            return
        try:
            reply = session.send(
                message.mail_from, message.rcpt_to, data, while_waiting=self._build_next
            )
        except PermanentMessageError as exc:
            self._record(
                message,
                Outcome.BOUNCED,
                detail=str(exc),
                reason="syntaxerror",
                hard=False,
                reply=Reply(553, exc.enhanced, str(exc)),
            )
            return
        except TemporarySessionError as exc:
            self._record(message, Outcome.DEFERRED, detail=str(exc), reason="networkerror")
            session.close()
            self.session = None
            if self.reconnected_after_break:
                self._defer_rest(detail=f"connection broke again: {exc}", reason="networkerror")
            self.reconnected_after_break = True
            return
        self.sent_on_session += 1
        self._handle(message, reply)

    def _built(self, message: Outgoing) -> bytes:
        """The message's bytes: built while the previous one was in the server's hands, or now."""
        prebuilt, self.prebuilt = self.prebuilt, None
        if prebuilt is None or prebuilt[0] is not message:
            return message.build()
        if isinstance(prebuilt[1], Exception):
            raise prebuilt[1]
        return prebuilt[1]

    def _build_next(self) -> None:
        """Build the next message while the server reads this one: building is most of a
        worker's CPU, and this way it overlaps the wait for the reply. Only bytes are made
        here; nothing is sent before this message's reply is handled (and its acceptance
        recorded). A failure is kept and raised when the message's turn comes."""
        if not self.pending:
            return
        following = self.pending[-1]
        try:
            self.prebuilt = (following, following.build())
        except Exception as exc:  # any: raised again in _built, where building raises it
            self.prebuilt = (following, exc)

    def _handle(self, message: Outgoing, reply: Reply) -> None:
        sender = self.sender
        if reply.ok:
            self._record(message, Outcome.SENT, reply=reply)
            try:
                sender.on_accepted(message.delivery_id, reply)
            except AcceptanceNotRecordedError:
                # The database still records this one; sending more before that could
                # send them twice after a crash, so the rest waits for the next run.
                self.stop_requested = True
            return
        signal = slow_down_signal(reply.code, reply.enhanced, reply.text)
        if signal is not None:
            sender.throttle.slow_down(sender.site, step=signal.backoff, reason=str(reply))
            if signal.kind is SlowDownKind.QUOTA:
                sender.throttle.suspend(sender.site, signal.backoff, reason=str(reply))
            self._record(message, Outcome.DEFERRED, reply=reply, reason="speeding")
            if reply.closes_session or signal.kind is SlowDownKind.QUOTA:
                self._defer_rest(reply=reply, reason="speeding")
            return
        if reply.closes_session:
            self._record(message, Outcome.DEFERRED, reply=reply, reason="networkerror")
            self._defer_rest(reply=reply, reason="networkerror")
        elif reply.temporary:
            self._record(
                message, Outcome.DEFERRED, reply=reply, reason=sender.classify(reply).reason
            )
        else:
            classification = sender.classify(reply)
            self._record(
                message,
                Outcome.BOUNCED,
                reply=reply,
                reason=classification.reason,
                hard=classification.hard,
            )

    def _defer_rest(self, *, reply: Reply | None = None, detail: str = "", reason: str) -> None:
        while self.pending:
            self._record(
                self.pending.pop(),
                Outcome.DEFERRED,
                reply=reply,
                detail=detail,
                reason=reason,
                attempted=False,
            )

    def _record(
        self,
        message: Outgoing,
        outcome: Outcome,
        *,
        reply: Reply | None = None,
        detail: str = "",
        reason: str = "",
        hard: bool = False,
        attempted: bool = True,
    ) -> None:
        session = self.session if attempted else None
        self.done[message.delivery_id] = Result(
            delivery_id=message.delivery_id,
            outcome=outcome,
            at=_now(),
            reply=reply,
            host=session.host if session else "",
            address=(session.peer_ip or "") if session else "",
            tls_version=session.tls_version if session else None,
            tls_fallback=session.tls_fallback if session else False,
            detail=detail,
            reason=reason,
            hard=hard,
        )


def _now() -> datetime:
    return datetime.now(UTC)
