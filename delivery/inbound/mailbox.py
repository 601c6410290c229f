"""Reading bounces from a mailbox over IMAP or POP3 (for when bounce-in cannot receive mail).

A message is deleted (or moved) on the server only after `store` has returned, that is after
it is recorded in our database: a crash between the two fetches it again next time, and the
duplicate is recognised by its digest downstream, so nothing is ever lost.
"""

from __future__ import annotations

import imaplib
import logging
import poplib
import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"imaps": 993, "imap": 143, "pop3s": 995, "pop3": 110}
TIMEOUT_SECONDS = 60


class MailboxError(Exception):
    """The mailbox could not be read (connection, TLS, login or protocol failure)."""


@dataclass(frozen=True)
class MailboxAddress:
    scheme: str  # imaps / pop3s: implicit TLS; imap / pop3: STARTTLS / STLS, never plain
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    move_to: str | None = None  # IMAP only: move there instead of deleting

    @property
    def protocol(self) -> str:
        return "imap" if self.scheme.startswith("imap") else "pop3"


@dataclass(frozen=True)
class PollResult:
    fetched: int
    stored: int


def mailbox_address(url: str) -> MailboxAddress:
    """Parse `imaps://user:pass@host[:port]/FOLDER?move_to=X` or `pop3s://user:pass@host`."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise MailboxError(f"unsupported mailbox scheme {parts.scheme!r}")
    if not parts.hostname or parts.username is None or parts.password is None:
        raise MailboxError("the mailbox URL needs a user, a password and a host")
    query = parse_qs(parts.query)
    return MailboxAddress(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        user=unquote(parts.username),
        password=unquote(parts.password),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        move_to=query["move_to"][0] if "move_to" in query else None,
    )


def poll(
    address: MailboxAddress,
    store: Callable[[bytes], None],
    *,
    tls: ssl.SSLContext | None = None,
    limit: int = 500,
) -> PollResult:
    """Fetch up to `limit` messages, `store` each, then remove it from the server."""
    tls = tls or ssl.create_default_context()
    reader = _imap_messages if address.protocol == "imap" else _pop3_messages
    fetched = stored = 0
    try:
        for raw, remove in reader(address, tls, limit):
            fetched += 1
            store(raw)
            stored += 1
            remove()
    except (OSError, imaplib.IMAP4.error, poplib.error_proto) as exc:
        raise MailboxError(f"{address.protocol} {address.host}:{address.port}: {exc}") from exc
    return PollResult(fetched=fetched, stored=stored)


Message = tuple[bytes, Callable[[], None]]


def _imap_messages(address: MailboxAddress, tls: ssl.SSLContext, limit: int) -> Iterator[Message]:
    if address.scheme == "imaps":
        client = imaplib.IMAP4_SSL(
            address.host, address.port, ssl_context=tls, timeout=TIMEOUT_SECONDS
        )
    else:
        client = imaplib.IMAP4(address.host, address.port, timeout=TIMEOUT_SECONDS)
        client.starttls(ssl_context=tls)
    try:
        client.login(address.user, address.password)
        _ok(client.select(_quote(address.folder)))
        uids = _ok(client.uid("SEARCH", None, "UNDELETED"))[0].split()[:limit]
        for uid in uids:
            data = _ok(client.uid("FETCH", uid, "(BODY.PEEK[])"))
            raw = next(part[1] for part in data if isinstance(part, tuple))
            yield raw, lambda uid=uid: _imap_remove(client, address, uid)
    finally:
        _imap_close(client)


def _imap_remove(client: imaplib.IMAP4, address: MailboxAddress, uid: bytes) -> None:
    if address.move_to:
        _ok(client.uid("COPY", uid, _quote(address.move_to)))
    _ok(client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"))


def _imap_close(client: imaplib.IMAP4) -> None:
    # CLOSE expunges what we flagged \Deleted (RFC 3501 §6.4.2): the messages already
    # stored are removed even when a later one failed. A connection that is already
    # broken has nothing left to expunge, so its errors are not worth raising over the
    # failure that brought us here.
    try:
        if client.state == "SELECTED":
            client.close()
        client.logout()
    except (OSError, imaplib.IMAP4.error):
        logger.warning("IMAP connection to %s ended uncleanly", client.host)


def _pop3_messages(address: MailboxAddress, tls: ssl.SSLContext, limit: int) -> Iterator[Message]:
    if address.scheme == "pop3s":
        client = poplib.POP3_SSL(address.host, address.port, context=tls, timeout=TIMEOUT_SECONDS)
    else:
        client = poplib.POP3(address.host, address.port, timeout=TIMEOUT_SECONDS)
        client.stls(context=tls)
    try:
        client.user(address.user)
        client.pass_(address.password)
        count = len(client.list()[1])
        for number in range(1, min(count, limit) + 1):
            raw = b"\r\n".join(client.retr(number)[1]) + b"\r\n"
            yield raw, lambda number=number: client.dele(number)
    finally:
        # QUIT commits the DELEs of the messages already stored (RFC 1939 §6).
        try:
            client.quit()
        except (OSError, poplib.error_proto):
            logger.warning("POP3 connection to %s ended uncleanly", address.host)


def _ok(response: tuple) -> list:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"{status} {data!r}")
    return data


def _quote(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9._/-]+", name) else '"' + name.replace('"', r"\"") + '"'
