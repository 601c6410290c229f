"""delivery/smtp.py and delivery/relay.py against real SMTP servers on loopback."""

from __future__ import annotations

import socket

import pytest

from delivery.relay import Relay
from delivery.smtp import (
    AuthenticationError,
    PermanentMessageError,
    PossiblyDeliveredError,
    Reply,
    Session,
    SessionClosed,
    TemporaryConnectError,
    TemporarySessionError,
    TemporaryTlsError,
    TlsPolicy,
    dot_stuff,
)
from tests.smtpserver import SERVER_NAME, Certificates, Script

SENDER = "bounces+1@edm.example.org"
HELO = "mta.edm.example.org"


def message(subject: str = "Hello", body: str = "Hi there.\r\n") -> bytes:
    return (
        f"From: news@edm.example.org\r\nTo: someone@example.com\r\nSubject: {subject}\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{body}"
    ).encode()


def session_to(server, **options) -> Session:
    options.setdefault("helo_name", HELO)
    options.setdefault("command_timeout", 10)
    return Session(SERVER_NAME, server.port, address=server.host, **options)


# -- one connection, many messages, per-reply rules ---------------------------------------


def test_many_messages_share_one_connection(smtp_server):
    with session_to(smtp_server) as session:
        replies = [
            session.send(SENDER, f"user{i}@example.com", message(f"n{i}")) for i in range(20)
        ]

    assert all(reply.ok for reply in replies)
    assert [m.rcpt_tos for m in smtp_server.wait_for_messages(20)] == [
        [f"user{i}@example.com"] for i in range(20)
    ]
    assert smtp_server.connections == 1
    assert {m.connection for m in smtp_server.messages} == {1}
    assert smtp_server.verbs()[-1] == "QUIT"


def test_refused_recipient_fails_only_that_message_and_rset_precedes_the_next(start_smtp_server):
    server = start_smtp_server(script=Script(rcpt={"gone@example.com": "550 5.1.1 No such user"}))

    with session_to(server) as session:
        first = session.send(SENDER, "a@example.com", message())
        refused = session.send(SENDER, "gone@example.com", message())
        after = session.send(SENDER, "b@example.com", message())
        assert session.usable

    assert first.ok and after.ok
    assert refused == Reply(550, "5.1.1", "No such user", command="RCPT")
    assert refused.permanent and not refused.temporary
    assert [m.rcpt_tos for m in server.wait_for_messages(2)] == [
        ["a@example.com"],
        ["b@example.com"],
    ]
    verbs = server.verbs()
    assert verbs[verbs.index("RSET") - 2 : verbs.index("RSET") + 2] == [
        "MAIL",
        "RCPT",
        "RSET",
        "MAIL",
    ]
    assert server.connections == 1


def test_temporary_refusal_defers_only_that_message(start_smtp_server):
    server = start_smtp_server(script=Script(rcpt={"busy@example.com": "452 4.2.2 Mailbox full"}))

    with session_to(server) as session:
        deferred = session.send(SENDER, "busy@example.com", message())
        accepted = session.send(SENDER, "c@example.com", message())

    assert deferred.temporary and deferred.enhanced == "4.2.2"
    assert accepted.ok
    assert [m.rcpt_tos for m in server.wait_for_messages(1)] == [["c@example.com"]]


def test_refused_message_content_fails_that_message_only(start_smtp_server):
    server = start_smtp_server(
        script=Script(data={"spam@example.com": "554 5.7.1 Looks like spam"})
    )

    with session_to(server) as session:
        refused = session.send(SENDER, "spam@example.com", message())
        accepted = session.send(SENDER, "d@example.com", message())

    assert refused == Reply(554, "5.7.1", "Looks like spam")
    assert accepted.ok
    assert len(server.wait_for_messages(1)) == 1


def test_421_mid_batch_makes_the_session_unusable(start_smtp_server):
    server = start_smtp_server(script=Script(close_after=2))
    session = session_to(server)
    session.open()

    replies = [session.send(SENDER, f"u{i}@example.com", message()) for i in range(3)]

    assert [r.code for r in replies] == [250, 250, 421]
    assert replies[2].closes_session and replies[2].temporary
    assert not session.usable
    with pytest.raises(SessionClosed):
        session.send(SENDER, "u3@example.com", message())
    session.close()
    assert len(server.messages) == 2


def test_without_pipelining_commands_go_one_by_one_and_stop_at_a_refusal(start_smtp_server):
    script = Script(pipelining=False, mail={"blocked@edm.example.org": "553 5.7.1 Sender refused"})
    server = start_smtp_server(script=script)

    with session_to(server) as session:
        assert "PIPELINING" not in session.extensions
        refused = session.send("blocked@edm.example.org", "e@example.com", message())
        accepted = session.send(SENDER, "f@example.com", message())

    assert refused.code == 553 and accepted.ok
    assert server.verbs()[1:5] == ["MAIL", "RSET", "MAIL", "RCPT"]  # no RCPT after the refusal


def test_server_without_esmtp_gets_helo(start_smtp_server):
    server = start_smtp_server(script=Script(ehlo="502 5.5.2 Command not recognized"))

    with session_to(server) as session:
        assert session.extensions == {}
        assert session.send(SENDER, "g@example.com", message()).ok

    assert server.verbs()[:2] == ["EHLO", "HELO"]
    assert server.wait_for_messages(1)[0].helo == HELO


# -- message content -------------------------------------------------------------------


def test_dot_stuffing_round_trips(smtp_server):
    body = ".starts with a dot\r\n..two dots\r\n.\r\nmiddle . dot\r\n.\r\n"
    original = message(body=body)

    with session_to(smtp_server) as session:
        assert session.send(SENDER, "h@example.com", original).ok
        assert session.send(SENDER, "h@example.com", b".first line is a dot\r\n\r\nx").ok

    received = smtp_server.wait_for_messages(2)
    assert received[0].data == original
    assert received[1].data == b".first line is a dot\r\n\r\nx\r\n"


def test_dot_stuff_doubles_only_dots_that_begin_lines():
    assert dot_stuff(b".a\r\nb.c\r\n.\r\n") == b"..a\r\nb.c\r\n..\r\n"
    assert dot_stuff(b"plain\r\n") == b"plain\r\n"


def test_size_is_declared_when_the_server_offers_it(smtp_server):
    data = message()
    with session_to(smtp_server) as session:
        assert "SIZE" in session.extensions
        session.send(SENDER, "i@example.com", data)

    assert smtp_server.wait_for_messages(1)[0].mail_options == [f"SIZE={len(data)}"]


def test_non_ascii_address_uses_smtputf8_when_offered(smtp_server):
    with session_to(smtp_server) as session:
        assert session.send(SENDER, "用户@example.com", message()).ok

    received = smtp_server.wait_for_messages(1)[0]
    assert received.rcpt_tos == ["用户@example.com"] and "SMTPUTF8" in received.mail_options


def test_non_ascii_address_without_smtputf8_fails_that_message_only(start_smtp_server):
    server = start_smtp_server(enable_SMTPUTF8=False)

    with session_to(server) as session:
        with pytest.raises(PermanentMessageError) as refused:
            session.send(SENDER, "用户@example.com", message())
        assert session.send(SENDER, "j@example.com", message()).ok

    assert refused.value.enhanced == "5.6.7"


# -- TLS policies ----------------------------------------------------------------------


def test_opportunistic_tls_is_used_when_offered_and_its_version_recorded(starttls_server):
    with session_to(starttls_server) as session:
        assert session.send(SENDER, "k@example.com", message()).ok

    assert session.tls_version in ("TLSv1.2", "TLSv1.3")
    assert session.tls_fallback is False
    assert starttls_server.wait_for_messages(1)[0].tls_version == session.tls_version
    assert starttls_server.verbs()[:2] == ["EHLO", "EHLO"]  # asked again after STARTTLS


def test_broken_handshake_falls_back_to_plain_text_and_is_recorded(broken_tls_server):
    with session_to(broken_tls_server) as session:
        assert session.send(SENDER, "l@example.com", message()).ok

    assert session.tls_fallback is True
    assert session.tls_version is None
    assert broken_tls_server.wait_for_messages(1)[0].tls_version is None
    assert broken_tls_server.connections == 2  # the failed handshake, then plain text


def test_required_tls_with_an_untrusted_certificate_fails_temporarily(starttls_server):
    stranger = Certificates().client_context()  # another CA: the server's cert is unknown to it
    session = session_to(starttls_server, tls_policy=TlsPolicy.REQUIRED, ssl_context=stranger)

    with pytest.raises(TemporaryTlsError) as failed:
        session.open()

    assert isinstance(failed.value, TemporaryConnectError)
    assert "certificate verify failed" in str(failed.value)
    assert starttls_server.messages == []
    assert starttls_server.connections == 1  # no plain-text retry under "required"


def test_required_tls_with_the_trusted_ca_succeeds(starttls_server, tls_certificates):
    trusted = tls_certificates.client_context()
    with session_to(starttls_server, tls_policy="required", ssl_context=trusted) as session:
        assert session.send(SENDER, "m@example.com", message()).ok

    assert session.tls_version is not None
    assert starttls_server.wait_for_messages(1)[0].tls_version == session.tls_version


def test_required_tls_with_a_certificate_for_another_name_fails(starttls_server, tls_certificates):
    trusted = tls_certificates.client_context()
    session = Session(
        "mx.other.test",
        starttls_server.port,
        address=starttls_server.host,
        helo_name=HELO,
        tls_policy=TlsPolicy.REQUIRED,
        ssl_context=trusted,
    )
    with pytest.raises(TemporaryTlsError):
        session.open()


def test_required_tls_when_starttls_is_not_offered_fails_temporarily(smtp_server):
    session = session_to(smtp_server, tls_policy=TlsPolicy.REQUIRED)

    with pytest.raises(TemporaryTlsError, match="does not offer STARTTLS"):
        session.open()


def test_required_tls_with_a_broken_handshake_does_not_fall_back(broken_tls_server):
    session = session_to(broken_tls_server, tls_policy=TlsPolicy.REQUIRED)

    with pytest.raises(TemporaryTlsError):
        session.open()
    assert broken_tls_server.connections == 1


def test_policy_none_never_starts_tls(starttls_server):
    with session_to(starttls_server, tls_policy=TlsPolicy.NONE) as session:
        assert "STARTTLS" in session.extensions
        assert session.send(SENDER, "n@example.com", message()).ok

    assert session.tls_version is None and session.tls_fallback is False
    assert starttls_server.wait_for_messages(1)[0].tls_version is None


# -- timeouts and unreachable hosts ----------------------------------------------------


def test_connect_timeout_is_a_temporary_connect_error(unanswered_port):
    host, port = unanswered_port
    session = Session(host, port, helo_name=HELO, connect_timeout=0.3)

    with pytest.raises(TemporaryConnectError, match="timed out"):
        session.open()
    assert not session.usable


def test_refused_connection_is_a_temporary_connect_error():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound but not listening: connections are refused
        session = Session("127.0.0.1", closed.getsockname()[1], helo_name=HELO)

        with pytest.raises(TemporaryConnectError, match="cannot connect"):
            session.open()


def test_silent_server_during_the_greeting_phase_is_a_temporary_connect_error(start_smtp_server):
    server = start_smtp_server(script=Script(stall=frozenset({"EHLO"})))

    with pytest.raises(TemporaryConnectError, match="timed out waiting for the reply to EHLO"):
        session_to(server, command_timeout=0.3).open()


def test_command_timeout_is_a_temporary_session_error(start_smtp_server):
    server = start_smtp_server(script=Script(stall=frozenset({"RCPT"})))
    session = session_to(server, command_timeout=0.3)
    session.open()

    with pytest.raises(TemporarySessionError, match="timed out") as failed:
        session.send(SENDER, "o@example.com", message())

    assert failed.value.possibly_delivered is False
    assert not session.usable
    with pytest.raises(SessionClosed):
        session.send(SENDER, "p@example.com", message())


def test_timeout_after_the_final_dot_says_the_message_may_be_delivered(start_smtp_server):
    server = start_smtp_server(script=Script(stall=frozenset({"DATA"})))
    session = session_to(server, command_timeout=5, data_timeout=0.3)
    session.open()

    with pytest.raises(PossiblyDeliveredError) as failed:
        session.send(SENDER, "q@example.com", message())

    assert failed.value.possibly_delivered is True


# -- identity --------------------------------------------------------------------------


def test_helo_name_and_source_address_are_honoured(smtp_server):
    session = session_to(smtp_server, helo_name="mta7.edm.example.org", source_address="127.0.0.2")
    with session:
        assert session.send(SENDER, "r@example.com", message()).ok

    received = smtp_server.wait_for_messages(1)[0]
    assert received.helo == "mta7.edm.example.org"
    assert received.peer == "127.0.0.2"
    assert session.peer_ip == "127.0.0.1" and session.host == SERVER_NAME


# -- relay -----------------------------------------------------------------------------

USERS = {"alice": "s3cr@t pass"}


def test_relay_authenticates_over_starttls(start_smtp_server, tls_certificates):
    server = start_smtp_server(tls="starttls", users=USERS)
    relay = Relay.from_url(f"smtp://alice:s3cr%40t%20pass@localhost:{server.port}")

    with relay.session(helo_name=HELO, ssl_context=tls_certificates.client_context()) as session:
        assert session.send(SENDER, "s@example.com", message()).ok

    received = server.wait_for_messages(1)[0]
    assert received.login == "alice" and received.tls_version is not None


def test_relay_authenticates_over_implicit_tls(start_smtp_server, tls_certificates):
    server = start_smtp_server(tls="implicit", users=USERS)
    relay = Relay.from_url(f"smtps://alice:s3cr%40t%20pass@localhost:{server.port}")

    with relay.session(helo_name=HELO, ssl_context=tls_certificates.client_context()) as session:
        assert session.send(SENDER, "t@example.com", message()).ok

    assert session.tls_version is not None
    assert server.wait_for_messages(1)[0].login == "alice"


def test_relay_authenticates_with_login_when_plain_is_not_offered(
    start_smtp_server, tls_certificates
):
    server = start_smtp_server(tls="starttls", users=USERS, auth_exclude_mechanism=["PLAIN"])
    relay = Relay.from_url(f"smtp://alice:s3cr%40t%20pass@localhost:{server.port}")

    with relay.session(helo_name=HELO, ssl_context=tls_certificates.client_context()) as session:
        assert session.extensions["AUTH"] == "LOGIN"
        assert session.send(SENDER, "u@example.com", message()).ok

    assert server.wait_for_messages(1)[0].login == "alice"


def test_relay_with_bad_credentials_raises_the_authentication_error(
    start_smtp_server, tls_certificates
):
    server = start_smtp_server(tls="implicit", users=USERS)
    relay = Relay.from_url(f"smtps://alice:wrong@localhost:{server.port}")
    session = relay.session(helo_name=HELO, ssl_context=tls_certificates.client_context())

    with pytest.raises(AuthenticationError) as refused:
        session.open()

    assert refused.value.reply.code == 535
    assert "alice" in str(refused.value) and "wrong" not in str(refused.value)
    assert not session.usable and server.messages == []


def test_relay_without_starttls_never_sends_credentials(start_smtp_server):
    server = start_smtp_server(users=USERS)  # plain text only
    relay = Relay.from_url(f"smtp://alice:x@localhost:{server.port}")

    with pytest.raises(TemporaryTlsError):
        relay.session(helo_name=HELO).open()
    assert "AUTH" not in server.verbs()


def test_relay_url_gives_default_ports_and_decoded_credentials():
    assert Relay.from_url("smtp://u%40x.org:p%3Aw@relay.example.org") == (
        "relay.example.org",
        587,
        False,
        ("u@x.org", "p:w"),
    )
    smtps = Relay.from_url("smtps://relay.example.org")
    assert (smtps.port, smtps.implicit_tls, smtps.credentials) == (465, True, None)
    assert "p:w" not in repr(Relay.from_url("smtp://u:p%3Aw@relay.example.org"))


@pytest.mark.parametrize("url", ["http://relay.example.org", "smtp://", "smtp://h:port"])
def test_relay_url_that_cannot_work_is_refused(url):
    with pytest.raises(ValueError, match="relay URL"):
        Relay.from_url(url)


def test_credentials_are_refused_without_tls():
    with pytest.raises(ValueError, match="only sent over TLS"):
        Session("h", helo_name=HELO, credentials=("u", "p"))
