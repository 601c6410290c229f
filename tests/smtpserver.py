"""Real SMTP servers on loopback for tests (aiosmtpd, TLS certificates from trustme).

A pytest plugin (registered in tests/conftest.py), so every test can use its fixtures:

    smtp_server            a recording server on 127.0.0.1, plain, offering PIPELINING
    start_smtp_server      factory for any other kind, stopped after the test:
                               start_smtp_server(script=Script(...), tls="starttls",
                                                 users={"alice": "secret"})
    starttls_server        offers STARTTLS with a certificate from `tls_certificates`
    broken_tls_server      offers STARTTLS, but every TLS handshake fails (no certificate)
    implicit_tls_server    TLS from the first byte (port 465 style)
    tls_certificates       trustme CA + server certificate for SERVER_NAME, localhost and
                           127.0.0.1; `.client_context()` trusts it (session-wide)
    unanswered_port        (host, port) where TCP connects hang, for connect timeouts

Every server records what it receives: `server.messages` (`Received`: envelope, data,
EHLO name, peer address, TLS version, AUTH login, connection number), `server.commands`
(connection number, verb) in order, `server.connections` (accepted so far) and
`server.max_simultaneous`. `server.wait_for_messages(n)` waits for mail sent by other
processes. Anything a `Script` does not mention is accepted; replies starting with 421 close
the connection after being sent, as real servers do.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from dataclasses import dataclass, field

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword

SERVER_NAME = "mx.example.test"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # dot-stuffing already undone, as the server stores it
    helo: str | None
    peer: str  # the client's IP address
    tls_version: str | None
    login: str | None  # the AUTH user, when the client authenticated
    mail_options: list[str]
    connection: int  # 1 for the first connection accepted, 2 for the next…


@dataclass
class Script:
    """Replies that differ from "accept everything"; replies are full lines, e.g. "550 5.1.1 No"."""

    rcpt: dict[str, str] = field(default_factory=dict)  # recipient -> reply to RCPT
    mail: dict[str, str] = field(default_factory=dict)  # sender -> reply to MAIL
    data: dict[str, str] = field(default_factory=dict)  # recipient -> reply to the final dot
    ehlo: str | None = None  # reply to EHLO instead of the extensions (HELO still works)
    close_after: int | None = None  # 421 to MAIL once a connection carried this many messages
    stall: frozenset[str] = frozenset()  # never answer these: "EHLO", "MAIL", "RCPT", "DATA" (dot)
    pipelining: bool = True  # offer PIPELINING (aiosmtpd handles pipelined commands either way)


class Recorder:
    """aiosmtpd handler: answers per `Script` and records everything; thread-safe reads.

    (No attribute may start with "auth_": aiosmtpd would offer it as an AUTH mechanism.)
    """

    def __init__(self, script: Script, require_auth: bool = False):
        self.script = script
        self.require_auth = require_auth
        self.messages: list[Received] = []
        self.commands: list[tuple[int, str]] = []
        self.connections = 0
        self.max_simultaneous = 0
        self.open_connections = 0
        self._changed = threading.Condition()

    def reset(self) -> None:
        with self._changed:
            self.messages.clear()
            self.commands.clear()
            self.connections = self.max_simultaneous = 0

    def connection_made(self) -> int:
        with self._changed:
            self.connections += 1
            self.open_connections += 1
            self.max_simultaneous = max(self.max_simultaneous, self.open_connections)
            return self.connections

    def connection_lost(self) -> None:
        with self._changed:
            self.open_connections -= 1
            self._changed.notify_all()

    def wait(self, predicate, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    async def handle_AUTH(self, server, session, envelope, args):
        self._log(server, "AUTH")
        return MISSING  # aiosmtpd's PLAIN and LOGIN go on, checking with the authenticator

    def _log(self, server, verb: str) -> None:
        with self._changed:
            self.commands.append((server.connection_number, verb))

    async def _answer(self, server, verb: str, reply: str | None):
        if verb in self.script.stall:
            await asyncio.sleep(3600)  # cancelled when the client hangs up or the server stops
        if reply is not None and reply.startswith("421"):
            # Runs after the reply is written: the connection closes right behind it.
            server.loop.call_soon(server.transport.close)
        return reply

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self._log(server, "EHLO")
        if self.script.ehlo:
            return [await self._answer(server, "EHLO", self.script.ehlo)]
        session.host_name = hostname
        extra = ["250-ENHANCEDSTATUSCODES"]
        if self.script.pipelining:
            extra.append("250-PIPELINING")
        await self._answer(server, "EHLO", None)
        return responses[:-1] + extra + responses[-1:]

    async def handle_HELO(self, server, session, envelope, hostname):
        self._log(server, "HELO")
        return MISSING

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self._log(server, "MAIL")
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if self.script.close_after is not None and server.accepted >= self.script.close_after:
            return await self._answer(server, "MAIL", "421 4.7.0 Too many messages, closing")
        reply = self.script.mail.get(address)
        if reply is None:
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            reply = "250 2.1.0 OK"
        return await self._answer(server, "MAIL", reply)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self._log(server, "RCPT")
        reply = self.script.rcpt.get(address)
        if reply is None:
            envelope.rcpt_tos.append(address)
            reply = "250 2.1.5 OK"
        return await self._answer(server, "RCPT", reply)

    async def handle_DATA(self, server, session, envelope):
        self._log(server, "DATA")
        reply = next(
            (self.script.data[r] for r in envelope.rcpt_tos if r in self.script.data), None
        )
        if reply is None:
            ssl_object = server.transport.get_extra_info("ssl_object")
            auth = session.auth_data
            received = Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                data=envelope.original_content,
                helo=session.host_name,
                peer=session.peer[0],
                tls_version=ssl_object.version() if ssl_object else None,
                login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
                mail_options=list(envelope.mail_options),
                connection=server.connection_number,
            )
            with self._changed:
                self.messages.append(received)
                self._changed.notify_all()
            server.accepted += 1
            reply = "250 2.0.0 OK queued"
        return await self._answer(server, "DATA", reply)

    async def handle_RSET(self, server, session, envelope):
        self._log(server, "RSET")
        return MISSING

    async def handle_QUIT(self, server, session, envelope):
        self._log(server, "QUIT")
        return MISSING


class _RecordingSMTP(SMTP):
    """aiosmtpd's SMTP protocol that tells the Recorder when connections open and close."""

    connection_number = 0
    accepted = 0  # messages accepted on this connection

    def connection_made(self, transport):
        if not self.connection_number:  # not the second call that STARTTLS makes
            self.connection_number = self.event_handler.connection_made()
        super().connection_made(transport)

    def connection_lost(self, error):
        if self.connection_number > 0:  # aiosmtpd may call this twice after a TLS failure
            self.connection_number = -self.connection_number
            self.event_handler.connection_lost()
        super().connection_lost(error)


class _Controller(Controller):
    """Controller on a socket we bound ourselves, so the port is free without a race."""

    def __init__(self, handler: Recorder, listener: socket.socket, **kwargs):
        super().__init__(handler, hostname=HOST, port=listener.getsockname()[1], **kwargs)
        self._listener = listener

    def factory(self):
        return _RecordingSMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self):
        return self.loop.create_server(
            self._factory_invoker, sock=self._listener, ssl=self.ssl_context
        )


class SmtpServer:
    """A running server: connect to `host`:`port`; read what it recorded."""

    def __init__(self, recorder: Recorder, controller: _Controller):
        self.recorder = recorder
        self.controller = controller
        self.host = HOST
        self.port = controller.port

    @property
    def messages(self) -> list[Received]:
        return list(self.recorder.messages)

    @property
    def commands(self) -> list[tuple[int, str]]:
        return list(self.recorder.commands)

    @property
    def connections(self) -> int:
        return self.recorder.connections

    @property
    def max_simultaneous(self) -> int:
        return self.recorder.max_simultaneous

    def verbs(self, connection: int = 1) -> list[str]:
        """The commands one connection sent, in order ("DATA" once its message was complete)."""
        return [verb for number, verb in self.commands if number == connection]

    def wait_for_messages(self, count: int, timeout: float = 10) -> list[Received]:
        """Wait until `count` messages arrived; fail the test if they do not."""
        if not self.recorder.wait(lambda: len(self.recorder.messages) >= count, timeout):
            pytest.fail(f"{len(self.recorder.messages)} of {count} messages arrived in {timeout}s")
        return self.messages

    def wait_until_idle(self, timeout: float = 10) -> None:
        """Wait until every connection has closed."""
        if not self.recorder.wait(lambda: self.recorder.open_connections == 0, timeout):
            pytest.fail(f"{self.recorder.open_connections} connections still open")

    def stop(self) -> None:
        self.controller.stop()


class Certificates:
    """A trustme CA and a server certificate for SERVER_NAME, localhost and 127.0.0.1."""

    def __init__(self):
        self.ca = trustme.CA()
        self.server_cert = self.ca.issue_cert(SERVER_NAME, "localhost", HOST)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_cert.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Verifies certificates against this CA only."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ca.configure_trust(context)
        return context


def start(
    *,
    script: Script | None = None,
    tls: str | None = None,
    certificates: Certificates | None = None,
    users: dict[str, str] | None = None,
    **smtp_options,
) -> SmtpServer:
    """Start a server; `tls` is None, "starttls", "implicit" or "broken" (STARTTLS that fails).

    With `users` the server offers AUTH PLAIN and LOGIN (after TLS, or at once with implicit
    TLS), checks the passwords and refuses MAIL before authentication. `smtp_options` go to
    aiosmtpd's SMTP class, e.g. `auth_exclude_mechanism=["PLAIN"]`, `enable_SMTPUTF8=False`.
    """
    recorder = Recorder(script or Script(), require_auth=users is not None)
    kwargs: dict = {"server_hostname": SERVER_NAME, **smtp_options}
    if tls in ("starttls", "implicit"):
        context = certificates.server_context()
        kwargs["tls_context" if tls == "starttls" else "ssl_context"] = context
    elif tls == "broken":
        # A server context without a certificate: STARTTLS is offered, the handshake fails.
        kwargs["tls_context"] = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    elif tls is not None:
        raise ValueError(f"unknown tls mode {tls!r}")
    if users is not None:
        kwargs["authenticator"] = _authenticator(users)
        # aiosmtpd counts only STARTTLS as TLS; with implicit TLS the link is encrypted anyway.
        # (The Recorder, not aiosmtpd, refuses MAIL before AUTH: aiosmtpd warns on that mix.)
        kwargs["auth_require_tls"] = tls != "implicit"
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(512)  # room for hundreds of sessions connecting at once
    controller = _Controller(recorder, listener, **kwargs)
    controller.start()
    server = SmtpServer(recorder, controller)
    # Controller.start() opened one connection of its own to check the server; forget it.
    server.wait_until_idle()
    recorder.reset()
    return server


def _authenticator(users: dict[str, str]):
    def authenticate(server, session, envelope, mechanism, auth_data):
        valid = isinstance(auth_data, LoginPassword) and (
            users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        return AuthResult(success=valid, handled=False, auth_data=auth_data)

    return authenticate


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_certificates() -> Certificates:
    """A trustme CA and server certificate, shared by the whole run."""
    return Certificates()


@pytest.fixture
def start_smtp_server(tls_certificates):
    """Factory: start_smtp_server(script=…, tls=…, users=…) -> SmtpServer; all stopped after."""
    servers: list[SmtpServer] = []

    def factory(**kwargs) -> SmtpServer:
        server = start(certificates=tls_certificates, **kwargs)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(start_smtp_server) -> SmtpServer:
    """A recording server: plain, PIPELINING, accepts everything."""
    return start_smtp_server()


@pytest.fixture
def starttls_server(start_smtp_server) -> SmtpServer:
    """Offers STARTTLS with a certificate that `tls_certificates.client_context()` trusts."""
    return start_smtp_server(tls="starttls")


@pytest.fixture
def broken_tls_server(start_smtp_server) -> SmtpServer:
    """Offers STARTTLS but fails every handshake; plain text works."""
    return start_smtp_server(tls="broken")


@pytest.fixture
def implicit_tls_server(start_smtp_server) -> SmtpServer:
    """Speaks TLS from the first byte, like a submission server on port 465."""
    return start_smtp_server(tls="implicit")


@pytest.fixture
def unanswered_port():
    """(host, port) whose TCP handshake never completes: its listen queue is full."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(0)
    # One connection fills a backlog of 0; Linux then drops further SYNs, so connects hang.
    filler = socket.create_connection(listener.getsockname(), timeout=5)
    yield listener.getsockname()
    filler.close()
    listener.close()
