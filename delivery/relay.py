"""Relay transport: every message goes through one smarthost named by `EDM_RELAY_URL`.

    smtp://user:pass@smtp.example.com:587    STARTTLS with a verified certificate, then AUTH
    smtps://user:pass@smtp.example.com:465   implicit TLS (RFC 8314), verified, then AUTH

User and password are percent-decoded (write an "@" in a password as %40); without them no
AUTH is sent. Credentials never travel in plain text: a relay that offers no STARTTLS is
refused with `TemporaryTlsError`, refused credentials raise `AuthenticationError`.
"""

from __future__ import annotations

import ssl
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from delivery.smtp import Credentials, Session, TlsPolicy

_DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


class Relay(NamedTuple):
    """Where and how to reach the relay; `Relay.from_url(settings.EDM_RELAY_URL)`."""

    host: str
    port: int
    implicit_tls: bool
    credentials: Credentials | None

    @classmethod
    def from_url(cls, url: str) -> Relay:
        """Parse `smtp://user:pass@host:587` or `smtps://…`; ValueError says what is wrong."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS:
            raise ValueError(f"relay URL must start with smtp:// or smtps://, not {parts.scheme!r}")
        if not parts.hostname:
            raise ValueError("relay URL has no host name")
        try:
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
        except ValueError as exc:  # the port is not a number; don't echo the URL (password)
            raise ValueError(f"relay URL has an invalid port: {exc}") from None
        credentials = None
        if parts.username is not None:
            credentials = Credentials(unquote(parts.username), unquote(parts.password or ""))
        return cls(parts.hostname, port, parts.scheme == "smtps", credentials)

    def session(
        self, *, helo_name: str, ssl_context: ssl.SSLContext | None = None, **options
    ) -> Session:
        """A `Session` to the relay; `options` are Session's (source_address, timeouts)."""
        return Session(
            self.host,
            self.port,
            helo_name=helo_name,
            tls_policy=TlsPolicy.REQUIRED,
            ssl_context=ssl_context,
            implicit_tls=self.implicit_tls,
            credentials=self.credentials,
            **options,
        )

    def __repr__(self) -> str:
        user = f"{self.credentials.username}:***@" if self.credentials else ""
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"Relay({scheme}://{user}{self.host}:{self.port})"
