"""Sending one batch to one site on the event loop: `sending.BatchSender` on AsyncSession.

`AsyncBatchSender.run(messages)` answers what `BatchSender.run` answers, one `Result` per
message, with the same reply rules (sending.py's docstring: 2xx sent and `on_accepted` at
once, slow-down replies slow the site, 421 defers the rest, other 4xx defer the message,
5xx bounce it, a dead site is suspended), the same rate handling (`INLINE_WAIT`) and the
same stop checks. What differs:

- A lost session (dropped or timed out, in particular after the final dot:
  `PossiblyDeliveredError`, the server may have accepted the message, RFC 1047) defers
  that one message, "may have been delivered" in its detail, and the batch goes on over a
  new connection after `LOST_SESSION_PAUSE`. `MAX_LOST_SESSIONS` losses in one run slow
  the site for every worker (fewer connections, a slower rate) and hand the rest of the
  batch back untouched, to be requeued after a pause: Postfix's concurrency feedback
  rather than a whole batch sent into the retry backoff.
- Waiting costs nothing: a silent or slow host holds only this batch's task.
- Not yet: building the next message while the server reads this one (the blocking
  client's `while_waiting`); with many sessions per process the other sessions' building
  fills that wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from delivery.asmtp import AsyncSession
from delivery.engine.throttle import AsyncThrottle
from delivery.limits import SiteLimits
from delivery.mx import Candidate
from delivery.sending import (
    DEAD_SITE_SUSPENSION,
    INLINE_WAIT,
    STOP_CHECK_EVERY,
    AcceptanceNotRecordedError,
    Classification,
    Outcome,
    Outgoing,
    Result,
    UnbuildableMessageError,
    _now,
)
from delivery.slowdown import SlowDownKind, slow_down_signal
from delivery.smtp import (
    PermanentMessageError,
    PossiblyDeliveredError,
    Reply,
    TemporaryConnectError,
    TemporarySessionError,
)
from delivery.throttle import Lease, TemporaryNoSlot

LOST_SESSION_PAUSE = 1.0  # seconds before a new connection replaces a lost one
MAX_LOST_SESSIONS = 3  # losses in one run that slow the site and hand the batch back
LOST_SESSION_STEP = 60.0  # seconds per halving undone after losses (a slow-down's `step`)
POSSIBLY_DELIVERED = "may have been delivered"


class AsyncConnector(Protocol):
    def __call__(self, candidate: Candidate) -> AsyncSession:
        """An unopened session to `candidate` (the transport's port, TLS policy, HELO…)."""


async def _never_stop() -> bool:
    return False


class AsyncBatchSender:
    """Sends batches to one site from the event loop; see the module docstring."""

    def __init__(
        self,
        *,
        site: str,
        limits: SiteLimits,
        throttle: AsyncThrottle,
        connect: AsyncConnector,
        classify: Callable[[Reply], Classification],
        on_accepted: Callable[[int, Reply], None] = lambda delivery_id, reply: None,
        should_stop: Callable[[], Awaitable[bool]] = _never_stop,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        lost_session_pause: float = LOST_SESSION_PAUSE,
    ):
        self.site = site
        self.limits = limits
        self.throttle = throttle
        self.connect = connect
        self.classify = classify
        self.on_accepted = on_accepted  # must not block: AcceptanceLog.mark writes a socket
        self.should_stop = should_stop
        self.sleep = sleep
        self.lost_session_pause = lost_session_pause

    async def run(self, messages: Sequence[Outgoing]) -> list[Result]:
        """Send `messages` (all routed to this site); one result per message, in order."""
        try:
            async with self.throttle.slot(self.site, self.limits) as lease:
                return await _Run(self, lease, messages).results()
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

    def __init__(self, sender: AsyncBatchSender, lease: Lease, messages: Sequence[Outgoing]):
        self.sender = sender
        self.lease = lease
        self.pending = list(reversed(messages))  # pop() from the end: the first message first
        self.done: dict[int, Result] = {}
        self.order = [m.delivery_id for m in messages]
        self.session: AsyncSession | None = None
        self.sent_on_session = 0
        self.tokens = 0
        self.lost_sessions = 0
        self.retry_after: float | None = None  # set when the site's pace sends us away
        self.why_later = "the site's rate: later"
        self.stop_requested = False

    async def results(self) -> list[Result]:
        try:
            await self._send_all()
        finally:
            if self.session is not None:
                await self._close()
        now = _now()
        detail = self.why_later if self.retry_after is not None else "stopped"
        for message in self.pending:
            self.done[message.delivery_id] = Result(
                message.delivery_id,
                Outcome.NOT_ATTEMPTED,
                now,
                detail=detail,
                retry_after=self.retry_after,
            )
        return [self.done[delivery_id] for delivery_id in self.order]

    async def _send_all(self) -> None:
        count = 0
        while self.pending:
            if self.lease.lost.is_set():
                return  # our slot expired (Redis trouble): stop rather than exceed the limit
            if self.stop_requested or (
                count % STOP_CHECK_EVERY == 0 and await self.sender.should_stop()
            ):
                return
            count += 1
            if not await self._wait_for_rate():
                return
            message = self.pending[-1]
            if not await self._ready_for(message):
                return
            self.pending.pop()
            await self._send(message)

    async def _close(self) -> None:
        session, self.session = self.session, None
        await session.close()  # QUIT when usable; never raises for a broken session

    async def _ready_for(self, message: Outgoing) -> bool:
        """An open, usable session to one of the message's hosts, or everything deferred."""
        session = self.session
        if session is not None and (
            not session.usable
            or self.sent_on_session >= self.lease.limits.messages_per_connection
            or session.host not in {c.host for c in message.candidates}
        ):
            await self._close()
            session = None
        if session is not None:
            return True
        failures = []
        for candidate in message.candidates:
            attempt = self.sender.connect(candidate)
            try:
                await attempt.open()
            except TemporaryConnectError as exc:
                failures.append(f"{candidate.host}[{candidate.address}]: {exc}")
                continue
            self.session, self.sent_on_session = attempt, 0
            return True
        detail = "; ".join(failures) or "no host to connect to"
        if failures and len(failures) == len(message.candidates):
            await self.sender.throttle.suspend(
                self.sender.site, DEAD_SITE_SUSPENSION, reason=f"no host answered: {detail}"
            )
        self._defer_rest(detail=detail, reason="networkerror")
        return False

    async def _wait_for_rate(self) -> bool:
        """Hold a rate token for the next message, as `sending._Run._wait_for_rate` does."""
        if self.tokens > 0:
            self.tokens -= 1
            return True
        limits = self.lease.limits
        wanted = min(len(self.pending), limits.burst)
        while True:
            grant = await self.sender.throttle.take(
                self.sender.site, limits, wanted, max_wait=INLINE_WAIT
            )
            if grant.granted:
                break
            if grant.wait > INLINE_WAIT:
                self.retry_after = grant.wait
                return False
            await self.sender.sleep(grant.wait)
        if grant.wait > 0:
            await self.sender.sleep(grant.wait)
        self.tokens = wanted - 1
        return True

    async def _send(self, message: Outgoing) -> None:
        session = self.session
        assert session is not None
        try:
            data = message.build()
        except UnbuildableMessageError as exc:
            self._record(
                message, Outcome.FAILED, detail=str(exc), reason="contenterror", attempted=False
            )
            return
        try:
            reply = await session.send(message.mail_from, message.rcpt_to, data)
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
            await self._lost(message, exc)
            return
        self.sent_on_session += 1
        await self._handle(message, reply)

    async def _lost(self, message: Outgoing, exc: TemporarySessionError) -> None:
        """The session broke under this message: defer it, then a pause and a new session,
        or, after repeated losses, a slower site and the rest of the batch handed back."""
        detail = (
            f"{POSSIBLY_DELIVERED}: {exc}" if isinstance(exc, PossiblyDeliveredError) else str(exc)
        )
        self._record(message, Outcome.DEFERRED, detail=detail, reason="networkerror")
        self.session = None  # AsyncSession aborted the connection already
        self.lost_sessions += 1
        if self.lost_sessions >= MAX_LOST_SESSIONS:
            await self.sender.throttle.slow_down(
                self.sender.site,
                step=LOST_SESSION_STEP,
                reason=f"{self.lost_sessions} sessions lost in one batch: {exc}",
            )
            self.retry_after = self.sender.lost_session_pause
            self.why_later = f"{self.lost_sessions} sessions lost: later, on fewer connections"
            self.stop_requested = True
            return
        if self.pending:
            await self.sender.sleep(self.sender.lost_session_pause)

    async def _handle(self, message: Outgoing, reply: Reply) -> None:
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
            await sender.throttle.slow_down(sender.site, step=signal.backoff, reason=str(reply))
            if signal.kind is SlowDownKind.QUOTA:
                await sender.throttle.suspend(sender.site, signal.backoff, reason=str(reply))
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
