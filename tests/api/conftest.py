"""Fixtures of the API tests: a user with a token, and a client that sends it."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from edm.tokens import api_token_create


class ApiClient:
    """Django's test client speaking JSON to /api/ with a bearer token."""

    def __init__(self, client, secret: str | None):
        self.client = client
        self.secret = secret

    def _headers(self, headers: dict | None) -> dict:
        found = dict(headers or {})
        if self.secret is not None:
            found.setdefault("Authorization", f"Bearer {self.secret}")
        return found

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.client.get(f"/api{path}", params or {}, headers=self._headers(headers))

    def post(self, path: str, body=None, headers: dict | None = None):
        return self._send("post", path, body, headers)

    def patch(self, path: str, body=None, headers: dict | None = None):
        return self._send("patch", path, body, headers)

    def delete(self, path: str, headers: dict | None = None):
        return self.client.delete(f"/api{path}", headers=self._headers(headers))

    def upload(self, path: str, fields: dict, headers: dict | None = None):
        return self.client.post(f"/api{path}", fields, headers=self._headers(headers))

    def _send(self, method: str, path: str, body, headers: dict | None):
        data = "" if body is None else json.dumps(body)
        send = getattr(self.client, method)
        return send(
            f"/api{path}", data, content_type="application/json", headers=self._headers(headers)
        )


def make_user(username: str = "ada", **fields):
    return get_user_model().objects.create_user(username, **fields)  # no password: hashing is slow


@pytest.fixture
def user(db):
    return make_user()


@pytest.fixture
def api(client, user, redis_db):
    """A client with a read-and-write token of `user`."""
    return ApiClient(client, api_token_create(user=user, name="tests").secret)


def assert_error(response, status: int, code: str, fields: set[str] | None = None) -> dict:
    """The response is the API's error shape with this status and code (and these fields)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert error["message"]
    if fields is not None:
        assert set(error["fields"]) == fields, error
    return error


ZONE = """
    shop.example.            300 MX 10 mx.shop.example.
    mx.shop.example.         300 A  127.0.0.1
    a.example.               300 MX 10 mx1.mail.example.
    b.example.               300 MX 10 mx1.mail.example.
    mx1.mail.example.        300 A  127.0.0.1
    other.example.           300 MX 10 mx.other.example.
    mx.other.example.        300 A  127.0.0.1
"""


@pytest.fixture
def mx_mode(smtp_server, settings, monkeypatch):
    """mx delivery mode to the test SMTP server through a nameserver on loopback, for this
    process (settings) and the worker processes it starts (environment)."""
    from tests.dnsserver import DnsServer

    with DnsServer() as dns:
        dns.load(ZONE)
        values = {
            "EDM_DELIVERY_MODE": "mx",
            "EDM_SMTP_PORT": str(smtp_server.port),
            "EDM_DNS_NAMESERVERS": f"{dns.address[0]}:{dns.address[1]}",
            "EDM_BOUNCE_DOMAIN": "bounces.edm.example",
            "EDM_HELO_NAME": "mta.edm.example",
            "EDM_PUBLIC_URL": "https://edm.example.com",
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        settings.EDM_DELIVERY_MODE = "mx"
        settings.EDM_SMTP_PORT = smtp_server.port
        settings.EDM_DNS_NAMESERVERS = [dns.address]
        settings.EDM_BOUNCE_DOMAIN = "bounces.edm.example"
        settings.EDM_PUBLIC_URL = "https://edm.example.com"
        yield smtp_server


def wait_until(predicate, *, timeout: float, every: float = 0.3) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds passed; its last answer."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()
