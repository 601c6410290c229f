"""Django settings. Every value from the environment comes through `edm.config`."""

from __future__ import annotations

from datetime import timedelta

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from edm import config, queues

BASE_DIR = config.BASE_DIR
VAR_DIR = config.var_dir()

try:
    DEBUG = config.debug()
    SECRET_KEY = config.secret_key()
    ALLOWED_HOSTS = config.allowed_hosts()
    EDM_PUBLIC_URL = config.public_url()
    EDM_DELIVERY_MODE = config.delivery_mode()
    EDM_RELAY_URL = config.relay_url()
    EDM_SMTP_PORT = config.smtp_port()
    EDM_CAPTURE_PORT = config.capture_port()
    EDM_BOUNCE_LISTEN = config.bounce_listen()
    EDM_BOUNCE_MAILBOX_URL = config.bounce_mailbox_url()
    EDM_INBOUND_MAX_BYTES = config.inbound_max_bytes()
    EDM_INBOUND_KEEP_DAYS = config.inbound_keep_days()
    EDM_BOUNCE_ROLE_ADDRESSES = config.bounce_role_addresses()
    EDM_BOUNCE_MAX_CONNECTIONS = config.bounce_max_connections()
    EDM_BOUNCE_MESSAGES_PER_MINUTE = config.bounce_messages_per_minute()
    EDM_SES_TOPIC_ARN = config.ses_topic_arn()
    EDM_SES_CERT_PATH = config.ses_cert_path()
    EDM_SENDGRID_WEBHOOK_KEY = config.sendgrid_webhook_key()
    EDM_RETRY_FIRST_MINUTES = config.retry_first_minutes()
    EDM_RETRY_MAX_MINUTES = config.retry_max_minutes()
    EDM_SOFT_BOUNCE_LIMIT = config.soft_bounce_limit()
    EDM_SOFT_BOUNCE_DAYS = config.soft_bounce_days()
    EDM_BATCH_STALE_SECONDS = config.batch_stale_seconds()
    EDM_DELIVERY_ENGINE = config.delivery_engine()
    EDM_WORKER_CONNECTIONS = config.worker_connections()
    EDM_DNS_NAMESERVERS = config.dns_nameservers()
    EDM_HELO_NAME = config.helo_name()
    EDM_BOUNCE_DOMAIN = config.bounce_domain()
    EDM_SOURCE_ADDRESS = config.source_address()
    EDM_IMPORT_MAX_BYTES = config.import_max_bytes()
    EDM_UNSUBSCRIBE_SCOPE = config.unsubscribe_scope()
    EDM_TRACKING = config.tracking()
    EDM_API_REQUESTS_PER_MINUTE = config.api_requests_per_minute()
    EDM_FORM_SUBMISSIONS_PER_HOUR = config.form_submissions_per_hour()
    EDM_FORM_MIN_SECONDS = config.form_min_seconds()
    EDM_FORM_MAX_AGE_HOURS = config.form_max_age_hours()
    EDM_SIGNUP_CONFIRM_DAYS = config.signup_confirm_days()
    EDM_SIGNUP_MAILS_PER_ADDRESS_PER_DAY = config.signup_mails_per_address_per_day()
    EDM_RENDER_MAX_STEPS = config.render_max_steps()
    EDM_RENDER_TIME_LIMIT = config.render_time_limit()
    EDM_RENDER_MAX_OUTPUT = config.render_max_output()
    EDM_CLIENT_IP_HEADER = config.client_ip_header()
    EDM_HTTPS = config.https()
    EDM_PROXY_SSL_HEADER = config.proxy_ssl_header()
    EDM_HSTS_INCLUDE_SUBDOMAINS = config.hsts_include_subdomains()
    AXES_FAILURE_LIMIT = config.login_failure_limit()
    AXES_COOLOFF_TIME = timedelta(minutes=config.login_lockout_minutes())
    REDIS_URL = config.redis_url()
    EDM_EMBEDDED_REDIS = config.uses_embedded_redis()
    DATABASE_URL = config.database_url()
except config.ConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_rq",
    "axes",
    "ninja",  # its templates and static files: the API docs page works offline
    "edm",
    "campaigns",
    "delivery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "edm.csp.ContentSecurityPolicyMiddleware",
    # Last, as axes asks: it turns a login refused for a lockout into edm.login_throttle's page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "edm.urls"
WSGI_APPLICATION = "edm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "edm.context_processors.product",
            ],
        },
    },
]


def _database(url: str) -> dict:
    database = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # Web and workers write at once under `make run`: WAL lets readers run beside the
        # writer, IMMEDIATE takes the write lock at BEGIN so two writers queue on the busy
        # timeout instead of failing with "database is locked" on lock upgrade.
        database["CONN_MAX_AGE"] = 0
        database["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        # A file, not :memory:, so worker processes and the live server share the test data.
        database["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    return database


DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: during a lockout it refuses the login before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (edm/login_throttle.py). Either count locks out: one address spraying many
# usernames, and one username guessed from many addresses. A success does not reset the
# counts (AXES_RESET_ON_SUCCESS stays off): an attacker with one account of their own could
# otherwise log into it between guesses to clear their address's failures.
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_CLIENT_IP_CALLABLE = "edm.login_throttle.client_address"
AXES_LOCKOUT_CALLABLE = "edm.login_throttle.lockout_response"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Development serves straight from static/; production runs collectstatic into STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

# API bodies carry up to 10,000 contacts or 10 MB of transactional attachments (base64).
DATA_UPLOAD_MAX_MEMORY_SIZE = 24 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SECURE = EDM_HTTPS or not DEBUG
CSRF_COOKIE_SECURE = EDM_HTTPS or not DEBUG
# Not DENY: the template and campaign editors show their previews in iframes of our own
# pages (and frame-ancestors 'self' in edm/csp.py says the same to newer browsers).
X_FRAME_OPTIONS = "SAMEORIGIN"
# Links from reports to other sites must not hand them the dashboard's URLs.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

# HTTPS (EDM_HTTPS; deploy/README.md has the proxy's side).
SECURE_SSL_REDIRECT = EDM_HTTPS
# The launcher and monitoring probe the web process on loopback, where there is no TLS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if EDM_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = EDM_HSTS_INCLUDE_SUBDOMAINS
SECURE_PROXY_SSL_HEADER = (EDM_PROXY_SSL_HEADER, "https") if EDM_PROXY_SSL_HEADER else None

RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600} for name in queues.ALL}
# A job is enqueued only when the transaction that created its rows commits; workers run
# jobs in their own process (edm/worker.py says why).
RQ = {"COMMIT_MODE": "on_db_commit", "WORKER_CLASS": "edm.worker.Worker"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Axes logs every failed login at INFO, and a banner at every start; its WARNINGs
        # (repeated failures, lockouts) are the ones an operator wants.
        "axes": {"level": "WARNING"},
    },
}
