"""Django settings. Every value from the environment comes through `edm.config`."""

from __future__ import annotations

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
    EDM_SES_TOPIC_ARN = config.ses_topic_arn()
    EDM_SES_CERT_PATH = config.ses_cert_path()
    EDM_SENDGRID_WEBHOOK_KEY = config.sendgrid_webhook_key()
    EDM_RETRY_FIRST_MINUTES = config.retry_first_minutes()
    EDM_RETRY_MAX_MINUTES = config.retry_max_minutes()
    EDM_SOFT_BOUNCE_LIMIT = config.soft_bounce_limit()
    EDM_SOFT_BOUNCE_DAYS = config.soft_bounce_days()
    EDM_BATCH_STALE_SECONDS = config.batch_stale_seconds()
    EDM_DNS_NAMESERVERS = config.dns_nameservers()
    EDM_HELO_NAME = config.helo_name()
    EDM_BOUNCE_DOMAIN = config.bounce_domain()
    EDM_SOURCE_ADDRESS = config.source_address()
    EDM_IMPORT_MAX_BYTES = config.import_max_bytes()
    EDM_UNSUBSCRIBE_SCOPE = config.unsubscribe_scope()
    EDM_TRACKING = config.tracking()
    EDM_API_REQUESTS_PER_MINUTE = config.api_requests_per_minute()
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
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "SAMEORIGIN"

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
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
