"""SMTP client session on asyncio: one event loop drives hundreds of them at once.

    timeouts = Timeouts(**edm.config.smtp_timeouts())  # EDM_SMTP_TIMEOUT_*
    async with AsyncSession("mx1.example.com", 25, address="192.0.2.10",
                            helo_name="mta.example.org", timeouts=timeouts) as s:
        for delivery in batch:
            reply = await s.send(return_path, delivery.email, message)
            if not s.usable:
                break  # 421: the server closed; defer the rest of the batch

The protocol and its outcomes are `delivery/smtp.py`'s (Reply, TlsPolicy, the errors, the
shared command builders); read its docstring first. What differs:

- Waiting costs nothing: a session waiting for a reply holds no thread, so a slow or silent
  host holds back only its own sessions ("Many sessions per worker" in docs/DELIVERY.md
  says why asyncio rather than threads, with the measurements).
- Every step has its own timeout (`Timeouts`, RFC 5321 §4.5.3.2), and each starts when its
  step starts: the greeting's wait does not include connecting, the final dot's does not
  include writing the message.
- A session lost while waiting for the reply to the final dot raises
  `PossiblyDeliveredError`: the server may have accepted the message (RFC 1047); record the
  attempt so. Any other loss raises `TemporarySessionError`.
- Cancelling the task that drives a session (a pause, a cancel, a shutdown) aborts its
  connection; so does any break, at once, rather than waiting to flush what it still holds.
- STARTTLS discards whatever the server sent before the handshake (RFC 3207 §5), which
  asyncio's own `StreamWriter.start_tls` would keep.
- No AUTH and no implicit TLS yet (relay mode keeps the blocking Session).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import NamedTuple

from delivery.smtp import (
    MAX_LINE,
    PossiblyDeliveredError,
    Reply,
    SessionClosed,
    TemporaryConnectError,
    TemporarySessionError,
    TemporaryTlsError,
    TlsPolicy,
    dot_stuff,
    extensions_of,
    first_refusal,
    mail_command,
    parse_reply,
    rcpt_command,
    system_context,
    unverified_context,
    verb,
)

_CRLF = b"\r\n"
# The message is written in blocks of this size, each given `Timeouts.data_block` to leave:
# RFC 5321's "data block" timeout is per TCP send, so a big message to a slow but working
# server is not cut off, while a server that stopped reading is noticed.
DATA_BLOCK = 64 * 1024


class Timeouts(NamedTuple):
    """Seconds each step may take (RFC 5321 §4.5.3.2; connect: Postfix's 30 s).

    `mail` also bounds EHLO, HELO, STARTTLS (with its handshake), RSET and QUIT, which the
    RFC gives no time of their own; its "5 minutes" is the same as for MAIL.
    """

    connect: float = 30.0
    greeting: float = 300.0
    mail: float = 300.0
    rcpt: float = 300.0
    data: float = 120.0  # the 354 reply to DATA
    data_block: float = 180.0  # each DATA_BLOCK of the message written
    final_dot: float = 600.0  # the reply to the end of the message: the server may scan it


RFC_TIMEOUTS = Timeouts()


class _Broken(Exception):
    """The connection failed under us; turned into the public error of the phase."""

    def __init__(self, message: str, after_dot: bool = False):
        super().__init__(message)
        self.after_dot = after_dot


class _HandshakeFailed(Exception):
    """The TLS handshake did not complete."""


class AsyncSession:
    """One SMTP connection to one host, carrying many messages; see the module docstring.

    The attributes are `delivery.smtp.Session`'s: after `open()` the caller records `host`,
    `peer_ip`, `tls_version` and `tls_fallback` per attempt.
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        helo_name: str,
        address: str | None = None,
        tls_policy: TlsPolicy = TlsPolicy.OPPORTUNISTIC,
        ssl_context: ssl.SSLContext | None = None,
        source_address: str | None = None,
        timeouts: Timeouts = RFC_TIMEOUTS,
    ):
        self.host = host
        self.port = port
        self.helo_name = helo_name
        self.address = address
        self.tls_policy = TlsPolicy(tls_policy)
        self.ssl_context = ssl_context  # verifies the server when TLS is required
        self.source_address = source_address
        self.timeouts = timeouts
        self._waits = {
            "MAIL": timeouts.mail,
            "RCPT": timeouts.rcpt,
            "DATA": timeouts.data,
            "RSET": timeouts.mail,
        }

        self.peer_ip: str | None = None
        self.tls_version: str | None = None
        self.tls_fallback = False
        self.extensions: dict[str, str] = {}
        self.usable = False
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._plain_writer: asyncio.StreamWriter | None = None  # see _handshake
        self._needs_rset = False

    def __repr__(self) -> str:
        return f"<AsyncSession {self._where}>"

    async def __aenter__(self) -> AsyncSession:
        await self.open()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    @property
    def _where(self) -> str:
        return f"{self.host}[{self.peer_ip or self.address or '?'}]:{self.port}"

    # -- opening -------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, greet, STARTTLS per policy; raise TemporaryConnectError."""
        if self._writer is not None:
            raise RuntimeError(f"{self!r} is already open")
        self.peer_ip = self.tls_version = None
        self.tls_fallback = self._needs_rset = False
        try:
            await self._start(use_starttls=self.tls_policy is not TlsPolicy.NONE)
        except _HandshakeFailed as exc:
            self._drop()
            if self.tls_policy is TlsPolicy.REQUIRED:
                raise TemporaryTlsError(f"TLS with {self._where} failed: {exc}") from exc
            # Opportunistic: as Postfix's smtp_tls_security_level=may, the same host again
            # in plain text.
            self.tls_fallback = True
            await self._start(use_starttls=False)
        self.usable = True

    async def _start(self, use_starttls: bool) -> None:
        try:
            await self._connect()
            # Even a 5xx greeting only means "not this host now" (Postfix's
            # smtp_skip_5xx_greeting): try the next MX rather than bounce.
            greeting = await self._read_reply("the greeting", self.timeouts.greeting)
            self._expect(greeting, 220, "greeting")
            await self._ehlo()
            if use_starttls:
                await self._starttls()
        except _Broken as exc:
            self._drop()
            raise TemporaryConnectError(f"{self._where}: {exc}") from exc
        except BaseException:  # a cancelled task too: no connection is left half open
            self._drop()
            raise

    async def _connect(self) -> None:
        local = (self.source_address, 0) if self.source_address else None
        try:
            async with asyncio.timeout(self.timeouts.connect):
                # asyncio turns Nagle off on TCP streams: each command group leaves at once.
                self._reader, self._writer = await asyncio.open_connection(
                    self.address or self.host, self.port, limit=MAX_LINE, local_addr=local
                )
        except TimeoutError as exc:
            raise TemporaryConnectError(
                f"cannot connect to {self._where}: no answer in {self.timeouts.connect:g} s"
            ) from exc
        except OSError as exc:
            raise TemporaryConnectError(f"cannot connect to {self._where}: {exc}") from exc
        self.peer_ip = self._writer.get_extra_info("peername")[0]

    async def _ehlo(self) -> None:
        reply = await self._command(b"EHLO " + self.helo_name.encode(), self.timeouts.mail)
        if reply.permanent:
            # RFC 5321 §4.1.4 / §3.2: an old server without ESMTP; HELO has no extensions.
            reply = await self._command(b"HELO " + self.helo_name.encode(), self.timeouts.mail)
            self._expect(reply, 250, "HELO")
            self.extensions = {}
            return
        self._expect(reply, 250, "EHLO")
        self.extensions = extensions_of(reply)

    async def _starttls(self) -> None:
        required = self.tls_policy is TlsPolicy.REQUIRED
        if "STARTTLS" not in self.extensions:
            if required:
                raise TemporaryTlsError(f"{self._where} does not offer STARTTLS")
            return
        reply = await self._command(b"STARTTLS", self.timeouts.mail)
        if reply.code != 220:
            if required or reply.closes_session:
                raise TemporaryTlsError(f"{self._where} refused STARTTLS: {reply}", reply)
            self.tls_fallback = True
            return
        context = (self.ssl_context or system_context()) if required else unverified_context()
        try:
            async with asyncio.timeout(self.timeouts.mail):
                await self._handshake(context)
        except (OSError, ValueError, TimeoutError) as exc:
            raise _HandshakeFailed(str(exc) or type(exc).__name__) from exc
        self.tls_version = self._writer.get_extra_info("ssl_object").version()
        # RFC 3207 §4.2: forget what was learnt before TLS and ask again.
        await self._ehlo()

    async def _handshake(self, context: ssl.SSLContext) -> None:
        # RFC 3207 §5: whatever the server sent after its 220 and before the handshake is
        # discarded (a man in the middle could have put replies there for us to read as the
        # server's), so the session goes on with a new reader: StreamWriter.start_tls would
        # keep the old one, buffer and all.
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_LINE, loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        transport = await loop.start_tls(
            self._writer.transport, protocol, context, server_hostname=self.host
        )
        protocol.connection_made(transport)
        # Kept until the session closes: a collected StreamWriter closes its transport,
        # which is still the one under TLS.
        self._plain_writer = self._writer
        self._reader = reader
        self._writer = asyncio.StreamWriter(transport, protocol, reader, loop)

    def _expect(self, reply: Reply, code: int, step: str) -> None:
        if reply.code != code:
            raise TemporaryConnectError(f"{self._where} answered {step} with {reply}", reply)

    # -- sending -------------------------------------------------------------------------

    async def send(self, mail_from: str, rcpt_to: str, data: bytes) -> Reply:
        """Send one message to one recipient and return the reply that decides its fate.

        `data` has CRLF line ends; it is dot-stuffed here. The reply is the first refusal
        among MAIL, RCPT and DATA, else the reply to the final dot.
        """
        if not self.usable:
            raise SessionClosed(f"{self!r} is not open")
        commands = [b"RSET"] if self._needs_rset else []
        commands += [
            mail_command(self._where, self.extensions, mail_from, rcpt_to, data),
            rcpt_command(rcpt_to),
            b"DATA",
        ]
        try:
            return await self._transaction(commands, data)
        except _Broken as exc:
            self._drop()
            if exc.after_dot:
                raise PossiblyDeliveredError(f"{self._where}: {exc}") from exc
            raise TemporarySessionError(f"{self._where}: {exc}") from exc
        except BaseException:  # cancelled mid-transaction: where the server stands is unknown
            self._drop()
            raise

    async def _transaction(self, commands: list[bytes], data: bytes) -> Reply:
        rset = commands[0] == b"RSET"
        self._needs_rset = False
        replies = await self._exchange(commands)
        if rset and not replies[0].closes_session:
            reply = replies.pop(0)
            if not reply.ok:
                self._drop()
                raise TemporarySessionError(f"{self._where} refused RSET: {reply}")
        for reply in replies:
            if reply.closes_session:
                self._drop()
                return reply
        refusal = first_refusal(replies)
        if refusal is None:
            return await self._data(data)
        if len(replies) == 3 and replies[2].code == 354:
            # RFC 2920 §3.1: the server took DATA although MAIL or RCPT was refused; an
            # empty message ends it and the server refuses that for want of recipients.
            await self._write(b"." + _CRLF, self.timeouts.data_block, "an empty message")
            end = await self._read_reply("the final dot", self.timeouts.final_dot)
            if end.closes_session:
                self._drop()
                return refusal
        self._needs_rset = True  # RFC 5321 §4.1.1.5: abandon the transaction
        return refusal

    async def _exchange(self, commands: list[bytes]) -> list[Reply]:
        """Send commands, pipelined when the server offers it, and read their replies."""
        replies = []
        if "PIPELINING" in self.extensions:
            # RFC 2920: one write, one round trip for the group.
            await self._write(_CRLF.join(commands) + _CRLF, self.timeouts.mail)
            for command in commands:
                name = verb(command)
                reply = await self._read_reply(name, self._waits[name])
                replies.append(reply)
                if reply.closes_session:
                    break
            return replies
        for command in commands:
            name = verb(command)
            reply = await self._command(command, self._waits[name])
            replies.append(reply)
            if reply.code >= 400:
                break
        return replies

    async def _data(self, data: bytes) -> Reply:
        payload = dot_stuff(data)
        if not payload.endswith(_CRLF):
            payload += _CRLF
        payload += b"." + _CRLF
        view = memoryview(payload)
        for start in range(0, len(payload), DATA_BLOCK):
            block = view[start : start + DATA_BLOCK]
            await self._write(block, self.timeouts.data_block, "a data block of the message")
        reply = await self._read_reply("the final dot", self.timeouts.final_dot, after_dot=True)
        if reply.closes_session:
            self._drop()
        return reply

    # -- closing -------------------------------------------------------------------------

    async def close(self) -> None:
        """Say QUIT if the session is usable, and close the connection."""
        answered = False
        try:
            if self.usable:
                # The server may hang up before answering QUIT; nothing is lost then.
                with contextlib.suppress(_Broken):
                    await self._command(b"QUIT", self.timeouts.mail)
                    answered = True
        finally:
            self._drop(gracefully=answered)

    def _drop(self, gracefully: bool = False) -> None:
        """Close the connection: after an answered QUIT by closing the transport, else by
        aborting it, since closing a broken session would wait to write what it still holds
        (a server that stopped reading never takes it) and keep the socket open meanwhile."""
        self.usable = False
        for writer in (self._writer, self._plain_writer):
            if writer is None:
                continue
            if gracefully:
                # Not awaiting wait_closed(): a TLS peer that never answers close_notify
                # would hold this task; the transport finishes closing on its own.
                writer.close()
            else:
                writer.transport.abort()
        self._writer = self._reader = self._plain_writer = None

    # -- wire ----------------------------------------------------------------------------

    async def _command(self, line: bytes, timeout: float) -> Reply:
        await self._write(line + _CRLF, timeout)
        return await self._read_reply(verb(line), timeout)

    async def _write(
        self, payload: bytes | memoryview, timeout: float, what: str = "a command"
    ) -> None:
        try:
            self._writer.write(payload)
            async with asyncio.timeout(timeout):
                await self._writer.drain()
        except TimeoutError as exc:
            raise _Broken(f"timed out after {timeout:g} s writing {what}") from exc
        except OSError as exc:
            raise _Broken(f"sending failed: {exc}") from exc

    async def _read_reply(self, waiting_for: str, timeout: float, after_dot: bool = False) -> Reply:
        lines = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    line = await self._reader.readline()
                    if not line.endswith(b"\n"):
                        raise _Broken(
                            f"connection closed waiting for the reply to {waiting_for}", after_dot
                        )
                    if not line[:3].isdigit():
                        raise _Broken(f"malformed reply to {waiting_for}: {line[:80]!r}", after_dot)
                    lines.append(line)
                    if line[3:4] != b"-":
                        return parse_reply(lines)
        except TimeoutError as exc:
            raise _Broken(
                f"timed out after {timeout:g} s waiting for the reply to {waiting_for}", after_dot
            ) from exc
        except ValueError as exc:  # a line longer than MAX_LINE
            raise _Broken(f"malformed reply to {waiting_for}: {exc}", after_dot) from exc
        except OSError as exc:
            raise _Broken(
                f"connection lost waiting for the reply to {waiting_for}: {exc}", after_dot
            ) from exc
