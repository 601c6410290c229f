import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks.security import base as security_checks

from edm import config

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for variable in config.VARIABLES:
        monkeypatch.delenv(variable.name, raising=False)
    monkeypatch.setenv("EDM_VAR_DIR", str(tmp_path / "var"))
    return monkeypatch


def test_defaults_are_the_embedded_ones(clean_env, tmp_path):
    assert config.debug() is True
    assert config.database_url() == f"sqlite:///{tmp_path / 'var' / 'edm.sqlite3'}"
    assert config.redis_url() == f"unix://{tmp_path / 'var' / 'redis.sock'}?db=0"
    assert config.uses_embedded_redis()
    assert config.delivery_mode() == "capture"
    assert config.smtp_port() == 25
    assert config.dns_nameservers() == []
    assert config.public_url() == "http://127.0.0.1:8000"
    assert config.import_max_bytes() == 200 * 1024 * 1024
    assert config.unsubscribe_scope() == "list"
    assert config.login_failure_limit() == 5
    assert config.login_lockout_minutes() == 15


def test_secret_key_is_generated_once_and_kept_in_var(clean_env, tmp_path):
    first = config.secret_key()
    assert len(first) >= 50
    assert config.secret_key() == first
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.read_text().strip() == first
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_missing_secret_key_without_debug_is_a_clear_error(clean_env):
    clean_env.setenv("DEBUG", "false")
    with pytest.raises(config.ConfigError, match="SECRET_KEY is not set and DEBUG is off"):
        config.secret_key()


@pytest.mark.parametrize(
    "weak",
    ["short", "a" * 60, "abcd" * 20, "django-insecure-" + "q7Lp2Vx9Kd4Rz8Wm3Nb6Tf1Hj5Gs0Ya" * 2],
)
def test_a_weak_secret_key_without_debug_is_refused_with_how_to_make_one(clean_env, weak):
    clean_env.setenv("DEBUG", "false")
    clean_env.setenv("SECRET_KEY", weak)
    with pytest.raises(config.ConfigError, match="SECRET_KEY is too weak") as refused:
        config.secret_key()
    assert "secrets.token_urlsafe(50)" in str(refused.value)
    assert weak not in str(refused.value)  # an error message must not leak the key


def test_a_strong_secret_key_without_debug_is_accepted(clean_env):
    key = secrets.token_urlsafe(50)
    clean_env.setenv("DEBUG", "false")
    clean_env.setenv("SECRET_KEY", key)
    assert config.secret_key() == key


def test_the_weak_key_rules_are_djangos_w009_rules():
    assert config.KEY_MIN_LENGTH == security_checks.SECRET_KEY_MIN_LENGTH
    assert config.KEY_MIN_UNIQUE == security_checks.SECRET_KEY_MIN_UNIQUE_CHARACTERS
    assert config.INSECURE_KEY_PREFIX == security_checks.SECRET_KEY_INSECURE_PREFIX


def test_the_generated_development_key_passes_the_production_rules(clean_env):
    key = config.secret_key()
    assert config.secret_key_weakness(key) is None


def test_django_refuses_to_start_with_a_weak_secret_key_in_production(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "0", "EDM_VAR_DIR": str(tmp_path)}
    env["SECRET_KEY"] = "short"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=README.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_django_refuses_to_start_without_secret_key_in_production(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "0", "EDM_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=README.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set and DEBUG is off" in result.stderr
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "value", "read", "message"),
    [
        ("EDM_DELIVERY_MODE", "carrier-pigeon", config.delivery_mode, "is not one of capture"),
        ("EDM_SMTP_PORT", "smtp", config.smtp_port, "EDM_SMTP_PORT: 'smtp' is not a port"),
        ("DEBUG", "maybe", config.debug, "DEBUG='maybe' is not a boolean"),
        ("EDM_RELAY_URL", "http://relay.example", config.relay_url, "must start with smtp://"),
        ("EDM_IMPORT_MAX_BYTES", "200MB", config.import_max_bytes, "not a positive number"),
        ("EDM_UNSUBSCRIBE_SCOPE", "campaign", config.unsubscribe_scope, "is not one of list, all"),
        ("EDM_RENDER_TIME_LIMIT", "1s", config.render_time_limit, "not a positive number of sec"),
        ("EDM_RENDER_TIME_LIMIT", "nan", config.render_time_limit, "not a positive number of sec"),
        ("EDM_RENDER_MAX_STEPS", "-5", config.render_max_steps, "not a positive whole number"),
        ("EDM_LOGIN_FAILURE_LIMIT", "0", config.login_failure_limit, "not a positive whole"),
        ("EDM_CLIENT_IP_HEADER", "X-Real-IP: 1", config.client_ip_header, "not an HTTP header"),
    ],
)
def test_bad_values_name_the_variable(clean_env, name, value, read, message):
    clean_env.setenv(name, value)
    with pytest.raises(config.ConfigError, match=message):
        read()


def test_the_client_ip_header_is_named_as_http_and_read_as_django_meta(clean_env):
    assert config.client_ip_header() is None
    clean_env.setenv("EDM_CLIENT_IP_HEADER", "X-Real-IP")
    assert config.client_ip_header() == "HTTP_X_REAL_IP"


def test_relay_mode_needs_a_relay_url(clean_env):
    clean_env.setenv("EDM_DELIVERY_MODE", "relay")
    with pytest.raises(config.ConfigError, match="needs EDM_RELAY_URL"):
        config.delivery_mode()
    clean_env.setenv("EDM_RELAY_URL", "smtp://user:pass@127.0.0.1:587")
    assert config.delivery_mode() == "relay"


def test_nameservers_take_ports_and_ipv6(clean_env):
    clean_env.setenv("EDM_DNS_NAMESERVERS", "127.0.0.1:5353, ::1, [::1]:5300,10.0.0.2")
    assert config.dns_nameservers() == [
        ("127.0.0.1", 5353),
        ("::1", 53),
        ("::1", 5300),
        ("10.0.0.2", 53),
    ]


def test_readme_documents_every_variable():
    table = README.read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", table, flags=re.MULTILINE))
    assert documented == {variable.name for variable in config.VARIABLES}
