"""delivery/asmtp.py against real SMTP servers on loopback: aiosmtpd and tests/smtpsink.py."""

from __future__ import annotations

import asyncio
import re
import socket

import pytest

from delivery.asmtp import AsyncSession, Timeouts
from delivery.smtp import (
    PermanentMessageError,
    PossiblyDeliveredError,
    Reply,
    SessionClosed,
    TemporaryConnectError,
    TemporarySessionError,
    TemporaryTlsError,
    TlsPolicy,
)
from edm import config
from tests.aio import run
from tests.smtpserver import SERVER_NAME, Certificates, Script
from tests.smtpsink import Behaviour, running_sink

SENDER = "bounces+1@edm.example.org"
HELO = "mta.edm.example.org"
# Long enough never to fire in these tests: a test that expects one timeout makes only that
# one short, so a wait under any other timeout would show as a failure, not pass by chance.
PATIENT = Timeouts(*[60.0] * len(Timeouts._fields))


def message(body: str = "Hi there.\r\n") -> bytes:
    return (
        "From: news@edm.example.org\r\nTo: someone@example.com\r\nSubject: Hello\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body}"
    ).encode()


def session_to(server, **options) -> AsyncSession:
    options.setdefault("helo_name", HELO)
    options.setdefault("timeouts", PATIENT)
    options.setdefault("tls_policy", TlsPolicy.NONE)
    return AsyncSession(SERVER_NAME, server.port, address=server.host, **options)


# -- many sessions, and no session waiting on another ------------------------------------


def test_two_hundred_sessions_are_open_at_once_in_one_event_loop(smtp_server):
    sessions = 200
    all_open = asyncio.Barrier(sessions)

    async def one(n: int):
        async with session_to(smtp_server) as session:
            await all_open.wait()  # every session is connected and greeted before any sends
            return await session.send(SENDER, f"user{n}@example.com", message())

    async def main():
        return await asyncio.gather(*(one(n) for n in range(sessions)))

    replies = run(main())

    assert all(reply.ok for reply in replies)
    assert len(smtp_server.wait_for_messages(sessions)) == sessions
    assert smtp_server.max_simultaneous == sessions


def test_a_silent_greeting_does_not_delay_a_session_to_another_server(smtp_server):
    async def main(silent):
        waiting = asyncio.create_task(session_to(silent).open())
        async with session_to(smtp_server) as session:
            reply = await session.send(SENDER, "x@example.com", message())
        still_waiting = not waiting.done()
        waiting.cancel()
        return reply, still_waiting

    with running_sink(Behaviour(stall=frozenset({"greeting"}))) as silent:
        reply, still_waiting = run(main(silent))

    assert reply.ok
    assert still_waiting  # the other host's greeting had not come, and nobody waited for it
    assert smtp_server.messages[0].rcpt_tos == ["x@example.com"]


# -- the protocol ---------------------------------------------------------------------


def test_a_message_is_pipelined_dot_stuffed_and_received_intact(smtp_server):
    data = message(".starts with a dot\r\n..two dots\r\nend\r\n")

    async def main():
        async with session_to(smtp_server) as session:
            return session.extensions, await session.send(SENDER, "x@example.com", data)

    extensions, reply = run(main())

    assert "PIPELINING" in extensions
    assert reply.ok and reply.enhanced == "2.0.0"
    (received,) = smtp_server.messages
    assert received.data == data
    assert (received.mail_from, received.rcpt_tos, received.helo) == (
        SENDER,
        ["x@example.com"],
        HELO,
    )


def test_a_refused_recipient_is_reset_before_the_next_message(start_smtp_server):
    server = start_smtp_server(script=Script(rcpt={"gone@example.com": "550 5.1.1 No such user"}))

    async def main():
        async with session_to(server) as session:
            refused = await session.send(SENDER, "gone@example.com", message())
            accepted = await session.send(SENDER, "here@example.com", message())
            return refused, accepted

    refused, accepted = run(main())

    assert (refused.code, refused.enhanced, refused.text) == (550, "5.1.1", "No such user")
    assert accepted.ok
    assert server.verbs() == ["EHLO", "MAIL", "RCPT", "RSET", "MAIL", "RCPT", "DATA", "QUIT"]
    assert [m.rcpt_tos for m in server.messages] == [["here@example.com"]]


def test_commands_go_one_by_one_without_pipelining(start_smtp_server):
    server = start_smtp_server(script=Script(pipelining=False))

    async def main():
        async with session_to(server) as session:
            return "PIPELINING" in session.extensions, await session.send(
                SENDER, "x@example.com", message()
            )

    offered, reply = run(main())

    assert not offered
    assert reply.ok
    assert server.verbs() == ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]


def test_a_421_closes_the_session_and_later_sends_are_refused(start_smtp_server):
    server = start_smtp_server(script=Script(close_after=1))

    async def main():
        session = session_to(server)
        await session.open()
        first = await session.send(SENDER, "a@example.com", message())
        second = await session.send(SENDER, "b@example.com", message())
        usable = session.usable
        with pytest.raises(SessionClosed):
            await session.send(SENDER, "c@example.com", message())
        return first, second, usable

    first, second, usable = run(main())

    assert first.ok
    assert second.code == 421 and second.closes_session
    assert usable is False


def test_a_refused_message_content_fails_that_message_only(start_smtp_server):
    server = start_smtp_server(
        script=Script(data={"spam@example.com": "554 5.7.1 Looks like spam"})
    )

    async def main():
        async with session_to(server) as session:
            refused = await session.send(SENDER, "spam@example.com", message())
            accepted = await session.send(SENDER, "d@example.com", message())
            return refused, accepted

    refused, accepted = run(main())

    assert refused == Reply(554, "5.7.1", "Looks like spam")
    assert accepted.ok
    assert [m.rcpt_tos for m in server.messages] == [["d@example.com"]]


def test_without_pipelining_a_refused_sender_stops_the_transaction(start_smtp_server):
    script = Script(pipelining=False, mail={"blocked@edm.example.org": "553 5.7.1 Sender refused"})
    server = start_smtp_server(script=script)

    async def main():
        async with session_to(server) as session:
            refused = await session.send("blocked@edm.example.org", "e@example.com", message())
            accepted = await session.send(SENDER, "f@example.com", message())
            return refused, accepted

    refused, accepted = run(main())

    assert refused.code == 553 and accepted.ok
    assert server.verbs()[1:5] == ["MAIL", "RSET", "MAIL", "RCPT"]  # no RCPT after the refusal


def test_a_server_without_esmtp_gets_helo(start_smtp_server):
    server = start_smtp_server(script=Script(ehlo="502 5.5.2 Command not recognized"))

    async def main():
        async with session_to(server) as session:
            return session.extensions, await session.send(SENDER, "g@example.com", message())

    extensions, reply = run(main())

    assert extensions == {}
    assert reply.ok
    assert server.verbs()[:2] == ["EHLO", "HELO"]


def test_size_and_smtputf8_are_declared_when_offered(smtp_server):
    data = message()

    async def main():
        async with session_to(smtp_server) as session:
            return await session.send(SENDER, "用户@example.com", data)

    assert run(main()).ok
    (received,) = smtp_server.messages
    assert received.rcpt_tos == ["用户@example.com"]
    assert received.mail_options == ["SMTPUTF8", f"SIZE={len(data)}"]


def test_a_non_ascii_address_without_smtputf8_fails_that_message_only(start_smtp_server):
    server = start_smtp_server(enable_SMTPUTF8=False)

    async def main():
        async with session_to(server) as session:
            with pytest.raises(PermanentMessageError) as refused:
                await session.send(SENDER, "用户@example.com", message())
            return refused.value, await session.send(SENDER, "j@example.com", message())

    refused, accepted = run(main())

    assert refused.enhanced == "5.6.7"
    assert accepted.ok


def test_helo_name_and_source_address_are_honoured(smtp_server):
    session = session_to(smtp_server, helo_name="mta7.edm.example.org", source_address="127.0.0.2")

    async def main():
        async with session:
            return await session.send(SENDER, "r@example.com", message())

    assert run(main()).ok
    (received,) = smtp_server.messages
    assert (received.helo, received.peer) == ("mta7.edm.example.org", "127.0.0.2")
    assert session.peer_ip == "127.0.0.1" and session.host == SERVER_NAME


def test_a_refused_connection_is_a_temporary_connect_error():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound but not listening: connections are refused
        session = AsyncSession(
            SERVER_NAME, closed.getsockname()[1], address="127.0.0.1", helo_name=HELO
        )

        with pytest.raises(TemporaryConnectError, match="cannot connect"):
            run(session.open())


# -- TLS ------------------------------------------------------------------------------


def test_required_starttls_verifies_the_certificate_and_encrypts(starttls_server, tls_certificates):
    async def main():
        session = session_to(
            starttls_server,
            tls_policy=TlsPolicy.REQUIRED,
            ssl_context=tls_certificates.client_context(),
        )
        async with session:
            reply = await session.send(SENDER, "x@example.com", message())
        return session.tls_version, reply

    version, reply = run(main())

    assert reply.ok
    assert version == "TLSv1.3"
    assert starttls_server.messages[0].tls_version == "TLSv1.3"


def test_required_starttls_refuses_a_certificate_from_an_unknown_ca(starttls_server):
    session = session_to(
        starttls_server,
        tls_policy=TlsPolicy.REQUIRED,
        ssl_context=Certificates().client_context(),
    )

    with pytest.raises(TemporaryTlsError):
        run(session.open())


def test_opportunistic_tls_falls_back_to_plain_text_when_the_handshake_fails(
    broken_tls_server,
):
    async def main():
        session = session_to(broken_tls_server, tls_policy=TlsPolicy.OPPORTUNISTIC)
        async with session:
            reply = await session.send(SENDER, "x@example.com", message())
        return session, reply

    session, reply = run(main())

    assert reply.ok
    assert (session.tls_version, session.tls_fallback) == (None, True)
    assert broken_tls_server.messages[0].tls_version is None


def test_replies_sent_before_the_tls_handshake_are_discarded(tls_certificates):
    # A man in the middle could append a fake reply to the server's 220 (RFC 3207 §5); read
    # after the handshake, it would pass for the server's answer to the second EHLO.
    async def serve(reader, writer):
        writer.write(b"220 injector.test ESMTP\r\n")
        await reader.readline()  # EHLO
        writer.write(b"250-injector.test\r\n250 STARTTLS\r\n")
        await reader.readline()  # STARTTLS
        writer.write(b"220 Go ahead\r\n250 injected\r\n")  # one write: one segment
        await writer.start_tls(tls_certificates.server_context())
        await reader.readline()  # EHLO again, under TLS
        writer.write(b"250-injector.test\r\n250 XREAL\r\n")
        await reader.readline()  # QUIT
        writer.write(b"221 Bye\r\n")
        writer.close()

    async def main():
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        async with server:
            host, port = server.sockets[0].getsockname()
            session = AsyncSession(
                SERVER_NAME, port, address=host, helo_name=HELO, timeouts=PATIENT
            )
            async with session:
                return session.tls_version, session.extensions

    version, extensions = run(main())

    assert version is not None
    assert extensions == {"XREAL": ""}


def test_required_tls_without_starttls_offered_is_a_temporary_tls_error(smtp_server):
    with pytest.raises(TemporaryTlsError, match="does not offer STARTTLS"):
        run(session_to(smtp_server, tls_policy=TlsPolicy.REQUIRED).open())


# -- lost sessions and timeouts -------------------------------------------------------


def test_a_session_dropped_after_the_final_dot_may_have_delivered_the_message():
    async def main(sink):
        session = session_to(sink)
        await session.open()
        await session.send(SENDER, "x@example.com", message())

    with running_sink(Behaviour(drop_after_data=1.0)) as sink:
        with pytest.raises(PossiblyDeliveredError, match="the final dot") as lost:
            run(main(sink))
        assert sink.counters.dropped == 1

    assert lost.value.possibly_delivered is True


def test_a_cancelled_session_closes_its_connection():
    async def main(sink):
        opening = asyncio.create_task(session_to(sink).open())
        while not sink.counters.open:  # connected, waiting for the greeting that never comes
            await asyncio.sleep(0.01)
        opening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await opening
        while sink.counters.open:
            await asyncio.sleep(0.01)

    with running_sink(Behaviour(stall=frozenset({"greeting"}))) as sink:
        run(asyncio.wait_for(main(sink), 30))

        assert (sink.counters.connections, sink.counters.open) == (1, 0)


def test_a_connect_timeout_fires_when_the_tcp_handshake_never_completes(unanswered_port):
    host, port = unanswered_port
    session = AsyncSession(
        SERVER_NAME, port, address=host, helo_name=HELO, timeouts=PATIENT._replace(connect=0.2)
    )

    with pytest.raises(TemporaryConnectError, match=re.escape("no answer in 0.2 s")):
        run(session.open())


@pytest.mark.parametrize(
    ("step", "timeout", "waiting_for"),
    [
        ("greeting", "greeting", "the greeting"),
        ("EHLO", "mail", "EHLO"),
    ],
)
def test_a_timeout_while_opening_fires_at_its_step(step, timeout, waiting_for):
    timeouts = PATIENT._replace(**{timeout: 0.2})

    expected = re.escape(f"timed out after 0.2 s waiting for the reply to {waiting_for}") + "$"

    with (
        running_sink(Behaviour(stall=frozenset({step}))) as sink,
        pytest.raises(TemporaryConnectError, match=expected),
    ):
        run(session_to(sink, timeouts=timeouts).open())


@pytest.mark.parametrize(
    ("step", "timeout", "waiting_for"),
    [("MAIL", "mail", "MAIL"), ("RCPT", "rcpt", "RCPT"), ("DATA", "data", "DATA")],
)
def test_a_timeout_of_a_pipelined_command_fires_at_its_reply(step, timeout, waiting_for):
    timeouts = PATIENT._replace(**{timeout: 0.2})

    async def main(sink):
        session = session_to(sink, timeouts=timeouts)
        await session.open()
        await session.send(SENDER, "x@example.com", message())

    with (
        running_sink(Behaviour(stall=frozenset({step}))) as sink,
        pytest.raises(TemporarySessionError) as failed,
    ):
        run(main(sink))

    assert str(failed.value).endswith(
        f"timed out after 0.2 s waiting for the reply to {waiting_for}"
    )
    assert not isinstance(failed.value, PossiblyDeliveredError)


def test_the_final_dot_timeout_says_the_message_may_have_been_delivered():
    async def main(sink):
        session = session_to(sink, timeouts=PATIENT._replace(final_dot=0.2))
        await session.open()
        await session.send(SENDER, "x@example.com", message())

    with running_sink(Behaviour(stall=frozenset({"."}))) as sink:
        with pytest.raises(
            PossiblyDeliveredError, match=re.escape("0.2 s waiting for the reply to the final")
        ):
            run(main(sink))
        assert sink.counters.messages == 1


def test_the_data_block_timeout_fires_when_the_server_stops_reading_the_message():
    # The sink answers 354 and reads no more, through a 4 KB receive buffer: far less than
    # the 16 MB message, which therefore cannot leave however fast the machine is.
    big = message("x" * 998 + "\r\n") * 16_000
    behaviour = Behaviour(unread_data=True, receive_buffer=4096)

    async def main(sink):
        session = session_to(sink, timeouts=PATIENT._replace(data_block=0.2))
        await session.open()
        await session.send(SENDER, "x@example.com", big)

    with running_sink(behaviour) as sink, pytest.raises(TemporarySessionError) as failed:
        run(main(sink))

    assert str(failed.value).endswith("timed out after 0.2 s writing a data block of the message")
    assert not isinstance(failed.value, PossiblyDeliveredError)


# -- configuration --------------------------------------------------------------------


def test_configured_timeouts_default_to_rfc_5321_and_can_be_changed(monkeypatch):
    for step in Timeouts._fields:
        monkeypatch.delenv(f"EDM_SMTP_TIMEOUT_{step.upper()}", raising=False)
    assert Timeouts(**config.smtp_timeouts()) == Timeouts(
        connect=30, greeting=300, mail=300, rcpt=300, data=120, data_block=180, final_dot=600
    )

    monkeypatch.setenv("EDM_SMTP_TIMEOUT_FINAL_DOT", "900")
    monkeypatch.setenv("EDM_SMTP_TIMEOUT_CONNECT", "2.5")
    configured = Timeouts(**config.smtp_timeouts())

    assert (configured.final_dot, configured.connect, configured.mail) == (900, 2.5, 300)


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_a_timeout_that_is_not_a_positive_number_is_refused(monkeypatch, value):
    monkeypatch.setenv("EDM_SMTP_TIMEOUT_RCPT", value)

    with pytest.raises(config.ConfigError, match="EDM_SMTP_TIMEOUT_RCPT"):
        config.smtp_timeouts()
