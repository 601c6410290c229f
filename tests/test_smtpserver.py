"""The loopback SMTP servers of tests/smtpserver.py count and record what later tests rely on."""

from __future__ import annotations

import smtplib

from tests.smtpserver import Script


def test_server_counts_connections_and_the_most_open_at_once(smtp_server):
    first = smtplib.SMTP(smtp_server.host, smtp_server.port)
    second = smtplib.SMTP(smtp_server.host, smtp_server.port)
    first.quit()
    second.quit()
    third = smtplib.SMTP(smtp_server.host, smtp_server.port)
    third.quit()

    smtp_server.wait_until_idle()
    assert smtp_server.connections == 3
    assert smtp_server.max_simultaneous == 2


def test_server_records_envelope_data_and_connection(smtp_server):
    with smtplib.SMTP(smtp_server.host, smtp_server.port) as client:
        client.ehlo("client.example.org")
        client.sendmail("from@example.org", ["to@example.com"], b"Subject: x\r\n\r\nbody\r\n")

    (received,) = smtp_server.wait_for_messages(1)
    assert (received.mail_from, received.rcpt_tos) == ("from@example.org", ["to@example.com"])
    assert received.data == b"Subject: x\r\n\r\nbody\r\n"
    assert (received.helo, received.peer, received.connection) == (
        "client.example.org",
        "127.0.0.1",
        1,
    )


def test_scripted_421_closes_the_connection(start_smtp_server):
    server = start_smtp_server(script=Script(mail={"x@example.org": "421 4.3.2 Shutting down"}))
    client = smtplib.SMTP(server.host, server.port)
    client.ehlo("client.example.org")

    assert client.mail("x@example.org")[0] == 421
    server.wait_until_idle()
    assert server.connections == 1 and server.recorder.open_connections == 0


def test_auth_server_refuses_mail_before_authentication(start_smtp_server, tls_certificates):
    server = start_smtp_server(tls="implicit", users={"alice": "pw"})
    with smtplib.SMTP_SSL(
        server.host, server.port, context=tls_certificates.client_context()
    ) as client:
        client.ehlo("client.example.org")
        assert client.mail("from@example.org")[0] == 530
        client.login("alice", "pw")
        client.rset()
        assert client.mail("from@example.org")[0] == 250
