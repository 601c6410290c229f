"""SMTP client of the delivery engine: one connection to one host carries many messages.

    with Session("mx1.example.com", 25, address="192.0.2.10", helo_name="mta.example.org") as s:
        for delivery in batch:
            reply = s.send(return_path, delivery.email, message)  # record it, s.peer_ip…
            if not s.usable:
                break  # 421: the server closed; defer the rest of the batch

How each outcome reaches the caller:

- `open()` (or entering the `with`) raises `TemporaryConnectError` when this host cannot be
  used now: unreachable, timed out, refused greeting or EHLO, TLS `required` but not possible
  (`TemporaryTlsError`), relay credentials refused (`AuthenticationError`). Try the next MX
  host, or defer the batch.
- `send()` returns the server's `Reply` for each message: `ok` (accepted), `temporary` (4xx:
  defer this message), `permanent` (5xx: fail this recipient). The session goes on either
  way, except after a 421: the server is closing, `usable` turns False, and the caller must
  defer the rest of its batch (`send()` then raises `SessionClosed`).
- `send()` raises `TemporarySessionError` when the connection breaks or a reply times out:
  defer this message and the rest of the batch; `PossiblyDeliveredError` (a subclass) when
  that happened while waiting for the reply to the final dot.

Why our own client rather than smtplib: it pipelines MAIL, RCPT and DATA (RFC 2920), one
round trip instead of three, and dot-stuffs with `bytes.replace` rather than smtplib's regex
(~0.2 ms per 20 KB message here). bench/bench_smtp.py measures both; docs/BENCHMARKS.md.

Each message has one recipient: every message is personalized and carries its own VERP
return path. Addresses must have A-label (ASCII) domains; a non-ASCII local part needs the
server's SMTPUTF8 (RFC 6531). Our messages are 7-bit (QP/base64), so 8BITMIME is declared
only when a message happens to carry 8-bit bytes.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import functools
import re
import socket
import ssl
from collections.abc import Callable
from typing import NamedTuple

# RFC 5321 §4.5.3.2 suggests 5 minutes per command and 10 for the reply to the final dot
# (the server may be scanning the message; giving up early causes duplicates, RFC 1047).
# Connecting has no RFC value; 30 s is Postfix's smtp_connect_timeout.
CONNECT_TIMEOUT = 30.0
COMMAND_TIMEOUT = 300.0
DATA_TIMEOUT = 600.0

# A reply line is at most 512 octets (RFC 5321 §4.5.3.1.5); accept more from sloppy servers.
MAX_LINE = 8192
_CRLF = b"\r\n"
_ENHANCED = re.compile(r"([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)")


class TlsPolicy(enum.StrEnum):
    """When STARTTLS is used: per site, edited in the dashboard."""

    OPPORTUNISTIC = "opportunistic"  # when offered, unverified; plain text if the handshake fails
    REQUIRED = "required"  # verified certificate, else the host is not used (mail is deferred)
    NONE = "none"  # never


class Reply(NamedTuple):
    """One reply of the server: `Reply(550, "5.1.1", "No such user")`."""

    code: int
    enhanced: str | None  # RFC 3463 enhanced status code, when the server gives one
    text: str  # lines joined with "\n", without code and enhanced code
    # The command a refusal answered ("MAIL", "RCPT", "DATA"); "" for other replies. "User
    # unknown" after RCPT TO is a dead mailbox, after DATA a content filter's words.
    command: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500

    @property
    def permanent(self) -> bool:
        return self.code >= 500

    @property
    def closes_session(self) -> bool:
        """421: the server is shutting this connection down (RFC 5321 §3.8)."""
        return self.code == 421

    def __str__(self) -> str:
        return " ".join(str(part) for part in (self.code, self.enhanced, self.text) if part)


class Credentials(NamedTuple):
    """Username and password for SMTP AUTH (PLAIN or LOGIN, over TLS only)."""

    username: str
    password: str


class SmtpError(Exception):
    """Base of this module's errors; `reply` is the server's reply when there was one."""

    def __init__(self, message: str, reply: Reply | None = None):
        super().__init__(message)
        self.reply = reply


class TemporaryConnectError(SmtpError):
    """This host cannot be used now: try the next MX host, or defer the batch."""


class TemporaryTlsError(TemporaryConnectError):
    """TLS is required but the host does not offer it or its certificate does not verify."""


class AuthenticationError(TemporaryConnectError):
    """The server refused our credentials: mail waits (deferred) until the relay URL is fixed."""


class TemporarySessionError(SmtpError):
    """The connection broke or a reply timed out: defer this message and the rest of the batch.

    `possibly_delivered` is True when it happened while waiting for the reply to the final
    dot: the server may have accepted the message (RFC 1047).
    """

    def __init__(self, message: str, possibly_delivered: bool = False):
        super().__init__(message)
        self.possibly_delivered = possibly_delivered


class PossiblyDeliveredError(TemporarySessionError):
    """The connection was lost waiting for the reply to the final dot: the server may have
    accepted the message (RFC 1047), so a retry may deliver it twice."""

    def __init__(self, message: str):
        super().__init__(message, possibly_delivered=True)


class SessionClosed(TemporarySessionError):
    """`send()` on a session that is not open or that the server closed (after a 421)."""


class PermanentMessageError(SmtpError):
    """This message cannot be sent to this server; nothing was sent and the session goes on.

    Raised for an address with a line break or angle bracket (5.1.3), and for a non-ASCII
    address when the server does not offer SMTPUTF8 (5.6.7, RFC 6531 §3.2, as Postfix does).
    """

    def __init__(self, message: str, enhanced: str):
        super().__init__(message)
        self.enhanced = enhanced


class _Broken(Exception):
    """The connection failed under us; turned into the public error of the phase."""

    def __init__(self, message: str, after_dot: bool = False):
        super().__init__(message)
        self.after_dot = after_dot


class _HandshakeFailed(Exception):
    """The TLS handshake did not complete."""


@functools.cache
def unverified_context() -> ssl.SSLContext:
    # Opportunistic TLS (RFC 7435): encryption without authentication beats plain text, and
    # most MX certificates would not verify against the MX host name anyway.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@functools.cache
def system_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def dot_stuff(data: bytes) -> bytes:
    """Double every "." that begins a line (RFC 5321 §4.5.2)."""
    if data.startswith(b"."):
        data = b"." + data
    return data.replace(b"\n.", b"\n..")


def extensions_of(ehlo_reply: Reply) -> dict[str, str]:
    """The EHLO keywords (upper case) of a 250 reply to EHLO, and their parameters."""
    extensions = {}
    for line in ehlo_reply.text.split("\n")[1:]:
        keyword, _, params = line.strip().partition(" ")
        extensions[keyword.upper()] = params
    return extensions


def mail_command(
    where: str, extensions: dict[str, str], mail_from: str, rcpt_to: str, data: bytes
) -> bytes:
    """MAIL FROM with the parameters `data` needs; raises PermanentMessageError."""
    command = b"MAIL FROM:<" + _address(mail_from) + b">"
    if not (mail_from.isascii() and rcpt_to.isascii()):
        if "SMTPUTF8" not in extensions:
            raise PermanentMessageError(
                f"{where} does not offer SMTPUTF8, needed for {rcpt_to}", "5.6.7"
            )
        command += b" SMTPUTF8"
    if "SIZE" in extensions:
        command += b" SIZE=%d" % len(data)  # RFC 1870: lets the server refuse up front
    if "8BITMIME" in extensions and not data.isascii():
        command += b" BODY=8BITMIME"
    return command


def rcpt_command(rcpt_to: str) -> bytes:
    """RCPT TO for one recipient; raises PermanentMessageError."""
    return b"RCPT TO:<" + _address(rcpt_to) + b">"


def first_refusal(replies: list[Reply]) -> Reply | None:
    """The reply among those to MAIL, RCPT and DATA that ends the transaction, if any."""
    expected = ((2, "MAIL"), (2, "RCPT"), (3, "DATA"))  # MAIL and RCPT 2xx, DATA 354
    return next(
        (
            reply._replace(command=command)
            for reply, (want, command) in zip(replies, expected, strict=False)
            if reply.code // 100 != want
        ),
        None,
    )


def verb(command: bytes) -> str:
    """The command's verb, as errors name it: "MAIL"."""
    return command.split(b" ", 1)[0].decode()


def parse_reply(lines: list[bytes]) -> Reply:
    """Turn the lines of one (possibly multi-line) reply into a `Reply`."""
    code = int(lines[0][:3])
    enhanced = None
    texts = []
    for line in lines:
        text = line[4:].rstrip(b"\r\n").decode("utf-8", "replace")
        match = _ENHANCED.match(text)
        # RFC 3463 §2: the enhanced code's class repeats the reply code's first digit.
        if match and match.group(1)[0] == str(code)[0]:
            enhanced = enhanced or match.group(1)
            text = text[match.end() :]
        texts.append(text)
    return Reply(code, enhanced, "\n".join(texts))


class Session:
    """One SMTP connection to one host, carrying many messages.

    `host` is the server's name (recorded, sent as TLS SNI and checked against its
    certificate when TLS is required); `address` the IP to connect to (the caller resolved
    it), else `host` is resolved by the system. After `open()` the caller records per attempt:
    `host`, `peer_ip`, `tls_version` ("TLSv1.3" or None) and `tls_fallback` (TLS was offered
    but its handshake failed or STARTTLS was refused, so the mail went in plain text).
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
        implicit_tls: bool = False,
        credentials: Credentials | None = None,
        source_address: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        command_timeout: float = COMMAND_TIMEOUT,
        data_timeout: float = DATA_TIMEOUT,
    ):
        if credentials and not (implicit_tls or tls_policy is TlsPolicy.REQUIRED):
            raise ValueError("credentials are only sent over TLS: set tls_policy=REQUIRED")
        self.host = host
        self.port = port
        self.helo_name = helo_name
        self.address = address
        self.tls_policy = TlsPolicy(tls_policy)
        # Verifies the server when TLS is required or implicit; the system CAs by default.
        self.ssl_context = ssl_context
        self.implicit_tls = implicit_tls
        self.credentials = credentials
        self.source_address = source_address
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.data_timeout = data_timeout

        self.peer_ip: str | None = None
        self.tls_version: str | None = None
        self.tls_fallback = False
        self.extensions: dict[str, str] = {}  # EHLO keywords (upper case) and their parameters
        self.usable = False
        self._sock: socket.socket | None = None
        self._file = None
        self._needs_rset = False

    def __repr__(self) -> str:
        return f"<Session {self._where}>"

    def __enter__(self) -> Session:
        self.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def _where(self) -> str:
        return f"{self.host}[{self.peer_ip or self.address or '?'}]:{self.port}"

    # -- opening -------------------------------------------------------------------------

    def open(self) -> None:
        """Connect, greet, STARTTLS per policy, authenticate; raise TemporaryConnectError."""
        if self._sock is not None:
            raise RuntimeError(f"{self!r} is already open")
        self.peer_ip = self.tls_version = None
        self.tls_fallback = self._needs_rset = False
        try:
            self._start(use_starttls=self.tls_policy is not TlsPolicy.NONE)
        except _HandshakeFailed as exc:
            self._drop()
            if self.tls_policy is TlsPolicy.REQUIRED or self.implicit_tls:
                raise TemporaryTlsError(f"TLS with {self._where} failed: {exc}") from exc
            # Opportunistic: the host offered TLS but cannot complete it; real MTAs
            # (Postfix's smtp_tls_security_level=may) retry the same host in plain text.
            self.tls_fallback = True
            self._start(use_starttls=False)
        self.usable = True

    def _start(self, use_starttls: bool) -> None:
        try:
            self._connect()
            # Even a 5xx greeting only means "not this host now": Postfix too tries the next
            # MX (smtp_skip_5xx_greeting) rather than bouncing.
            self._expect(self._read_reply("greeting"), 220, "greeting")
            self._ehlo()
            if use_starttls and not self.implicit_tls:
                self._starttls()
            if self.credentials:
                self._authenticate()
        except _Broken as exc:
            self._drop()
            raise TemporaryConnectError(f"{self._where}: {exc}") from exc
        except TemporaryConnectError:
            self._drop()
            raise

    def _connect(self) -> None:
        source = (self.source_address, 0) if self.source_address else None
        try:
            sock = socket.create_connection(
                (self.address or self.host, self.port), self.connect_timeout, source
            )
        except OSError as exc:
            raise TemporaryConnectError(f"cannot connect to {self._where}: {exc}") from exc
        # Commands are written in whole groups; Nagle would only delay the next group.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.command_timeout)
        self.peer_ip = sock.getpeername()[0]
        self._sock = sock
        if self.implicit_tls:
            self._wrap(self.ssl_context or system_context())
        else:
            self._file = sock.makefile("rb")

    def _ehlo(self) -> None:
        reply = self._command(b"EHLO " + self.helo_name.encode(), "EHLO")
        if reply.permanent:
            # RFC 5321 §4.1.4 / §3.2: an old server without ESMTP; HELO has no extensions.
            reply = self._command(b"HELO " + self.helo_name.encode(), "HELO")
            self._expect(reply, 250, "HELO")
            self.extensions = {}
            return
        self._expect(reply, 250, "EHLO")
        self.extensions = extensions_of(reply)

    def _starttls(self) -> None:
        required = self.tls_policy is TlsPolicy.REQUIRED
        if "STARTTLS" not in self.extensions:
            if required:
                raise TemporaryTlsError(f"{self._where} does not offer STARTTLS")
            return
        reply = self._command(b"STARTTLS", "STARTTLS")
        if reply.code != 220:
            if required or reply.closes_session:
                raise TemporaryTlsError(f"{self._where} refused STARTTLS: {reply}", reply)
            self.tls_fallback = True
            return
        context = (self.ssl_context or system_context()) if required else unverified_context()
        self._wrap(context)
        # RFC 3207 §4.2: forget what was learnt before TLS and ask again.
        self._ehlo()

    def _wrap(self, context: ssl.SSLContext) -> None:
        if self._file is not None:
            # RFC 3207 §5: anything the server sent before the handshake is discarded.
            self._file.close()
            self._file = None
        try:
            self._sock = context.wrap_socket(self._sock, server_hostname=self.host)
        except (OSError, ValueError) as exc:
            raise _HandshakeFailed(str(exc) or type(exc).__name__) from exc
        self.tls_version = self._sock.version()
        self._file = self._sock.makefile("rb")

    def _authenticate(self) -> None:
        if self.tls_version is None:
            raise TemporaryTlsError(f"{self._where}: no TLS, so no credentials sent")
        user = self.credentials.username.encode()
        password = self.credentials.password.encode()
        mechanisms = self.extensions.get("AUTH", "").upper().split()
        if "PLAIN" in mechanisms:
            token = base64.b64encode(b"\0" + user + b"\0" + password)  # RFC 4616
            reply = self._command(b"AUTH PLAIN " + token, "AUTH")
        elif "LOGIN" in mechanisms:
            reply = self._command(b"AUTH LOGIN", "AUTH")
            for secret in (user, password):
                if reply.code == 334:
                    reply = self._command(base64.b64encode(secret), "AUTH")
        else:
            offered = " ".join(mechanisms) or "none"
            raise AuthenticationError(
                f"{self._where} offers no AUTH mechanism we speak (PLAIN, LOGIN): {offered}"
            )
        if reply.code != 235:
            raise AuthenticationError(
                f"{self._where} refused the credentials of {self.credentials.username!r}: {reply}",
                reply,
            )

    def _expect(self, reply: Reply, code: int, step: str) -> None:
        if reply.code != code:
            raise TemporaryConnectError(f"{self._where} answered {step} with {reply}", reply)

    # -- sending -------------------------------------------------------------------------

    def send(
        self,
        mail_from: str,
        rcpt_to: str,
        data: bytes,
        while_waiting: Callable[[], object] | None = None,
    ) -> Reply:
        """Send one message to one recipient and return the reply that decides its fate.

        `data` is the message with CRLF line ends; it is dot-stuffed here. The reply is the
        first refusal among MAIL, RCPT and DATA, else the reply to the final dot.
        `while_waiting` runs once the whole message is written, while the server reads it
        (the caller builds its next message meanwhile instead of idling); it must not raise.
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
            return self._transaction(commands, data, while_waiting)
        except _Broken as exc:
            self._drop()
            if exc.after_dot:
                raise PossiblyDeliveredError(f"{self._where}: {exc}") from exc
            raise TemporarySessionError(f"{self._where}: {exc}") from exc

    def _transaction(
        self, commands: list[bytes], data: bytes, while_waiting: Callable[[], object] | None
    ) -> Reply:
        rset = commands[0] == b"RSET"
        self._needs_rset = False
        replies = self._exchange(commands)
        if rset and not replies[0].closes_session:
            reply = replies.pop(0)
            if not reply.ok:
                self._drop()
                raise TemporarySessionError(f"{self._where} refused RSET: {reply}")
        for reply in replies:
            if reply.closes_session:
                return self._closing(reply)
        refusal = first_refusal(replies)
        if refusal is None:
            return self._data(data, while_waiting)
        if len(replies) == 3 and replies[2].code == 354:
            # RFC 2920 §3.1: the server took DATA although MAIL or RCPT was refused; an
            # empty message ends it and the server refuses that for want of recipients.
            (end,) = self._exchange([b"."])
            if end.closes_session:
                self._drop()
                return refusal
        self._needs_rset = True  # RFC 5321 §4.1.1.5: abandon the transaction
        return refusal

    def _exchange(self, commands: list[bytes]) -> list[Reply]:
        """Send commands, pipelined when the server offers it, and read their replies."""
        replies = []
        if "PIPELINING" in self.extensions:
            self._write(_CRLF.join(commands) + _CRLF)
            for command in commands:
                reply = self._read_reply(verb(command))
                replies.append(reply)
                if reply.closes_session:
                    break
            return replies
        for command in commands:
            self._write(command + _CRLF)
            reply = self._read_reply(verb(command))
            replies.append(reply)
            if reply.code >= 400:
                break
        return replies

    def _data(self, data: bytes, while_waiting: Callable[[], object] | None) -> Reply:
        payload = dot_stuff(data)
        if not payload.endswith(_CRLF):
            payload += _CRLF
        self._write(payload + b"." + _CRLF)
        if while_waiting is not None:
            while_waiting()
        self._sock.settimeout(self.data_timeout)
        try:
            reply = self._read_reply("the final dot", after_dot=True)
        finally:
            self._sock.settimeout(self.command_timeout)
        return self._closing(reply) if reply.closes_session else reply

    def _closing(self, reply: Reply) -> Reply:
        self._drop()
        return reply

    # -- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """Say QUIT if the session is usable, and close the connection."""
        if self.usable:
            # The server may hang up before answering QUIT; nothing is lost then.
            with contextlib.suppress(_Broken):
                self._command(b"QUIT", "QUIT")
        self._drop()

    def _drop(self) -> None:
        self.usable = False
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # -- wire ----------------------------------------------------------------------------

    def _command(self, line: bytes, verb: str) -> Reply:
        self._write(line + _CRLF)
        return self._read_reply(verb)

    def _write(self, payload: bytes) -> None:
        try:
            self._sock.sendall(payload)
        except OSError as exc:
            raise _Broken(f"sending failed: {exc}") from exc

    def _read_reply(self, waiting_for: str, after_dot: bool = False) -> Reply:
        lines = []
        while True:
            try:
                line = self._file.readline(MAX_LINE)
            except TimeoutError as exc:
                raise _Broken(
                    f"timed out waiting for the reply to {waiting_for}", after_dot
                ) from exc
            except OSError as exc:
                raise _Broken(
                    f"connection lost waiting for the reply to {waiting_for}: {exc}", after_dot
                ) from exc
            if not line:
                raise _Broken(
                    f"connection closed waiting for the reply to {waiting_for}", after_dot
                )
            if not line[:3].isdigit():
                raise _Broken(f"malformed reply to {waiting_for}: {line[:80]!r}", after_dot)
            lines.append(line)
            if line[3:4] != b"-":
                return parse_reply(lines)


def _address(address: str) -> bytes:
    if any(char in address for char in "\r\n<>"):
        raise PermanentMessageError(f"not a valid address: {address!r}", "5.1.3")
    return address.encode()
