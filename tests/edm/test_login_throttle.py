"""Login throttling (django-axes, configured in edm/settings.py and edm/login_throttle.py).

The issue's attack: 60 wrong passwords in 24 s on /login/ all answered 200, and the right one
worked at once after. Now a username, or a client address, that fails EDM_LOGIN_FAILURE_LIMIT
times is locked out of both logins for EDM_LOGIN_LOCKOUT_MINUTES, right password included.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from edm.tokens import api_token_create

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
LIMIT = 5


@pytest.fixture
def marketer():
    return get_user_model().objects.create_user("marketer", password=PASSWORD)


@pytest.fixture
def admin():
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


def log_in(client, username, password, *, path="/login/", address="203.0.113.7", **headers):
    return client.post(
        path, {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def fail(client, times, username="marketer", *, path="/login/", address="203.0.113.7"):
    return [log_in(client, username, "guess", path=path, address=address) for _ in range(times)]


def test_sixty_wrong_passwords_lock_the_login_out_and_the_right_one_is_refused_too(
    client, marketer
):
    answers = fail(client, 60)
    assert [a.status_code for a in answers[: LIMIT - 1]] == [200] * (LIMIT - 1)
    assert {a.status_code for a in answers[LIMIT - 1 :]} == {429}

    right = log_in(client, "marketer", PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still sent to the login page


def test_the_lockout_page_says_why_and_for_how_long(client, marketer):
    locked = fail(client, LIMIT)[-1]
    html = locked.content.decode()
    assert locked.status_code == 429
    assert "Too many failed logins" in html
    assert "15 minutes" in html
    assert 'role="alert"' in html
    assert locked["Retry-After"] == str(15 * 60)
    assert 'id="id_username"' in html  # the login page itself, to try again later


def test_twenty_wrong_passwords_lock_the_admin_login_out(client, admin):
    answers = fail(client, 20, "root", path="/admin/login/")
    assert {a.status_code for a in answers[LIMIT - 1 :]} == {429}
    right = log_in(client, "root", PASSWORD, path="/admin/login/")
    assert right.status_code == 429
    assert "Too many failed logins" in right.content.decode()
    assert client.get("/admin/").status_code == 302


def test_failures_on_the_admin_login_count_against_the_dashboard_login(client, marketer):
    fail(client, LIMIT, path="/admin/login/")
    assert log_in(client, "marketer", PASSWORD).status_code == 429


def test_one_username_attacked_from_many_addresses_is_locked_out(client, marketer):
    for n in range(LIMIT):
        fail(client, 1, address=f"198.51.100.{n + 1}")
    assert log_in(client, "marketer", PASSWORD, address="198.51.100.200").status_code == 429


def test_many_usernames_sprayed_from_one_address_lock_that_address_out(client, marketer):
    for n in range(LIMIT):
        fail(client, 1, f"user{n}")
    assert log_in(client, "marketer", PASSWORD).status_code == 429
    # The username itself was never attacked: from another address it logs in.
    assert log_in(client, "marketer", PASSWORD, address="192.0.2.1").status_code == 302


def test_fewer_failures_than_the_limit_do_not_lock_the_right_password_out(client, marketer):
    fail(client, LIMIT - 1)
    answer = log_in(client, "marketer", PASSWORD)
    assert answer.status_code == 302
    assert answer["Location"] == "/"


def test_the_lockout_ends_after_the_window(client, marketer):
    fail(client, LIMIT)
    assert log_in(client, "marketer", PASSWORD).status_code == 429
    # The window is measured from the recorded attempts: age them past it.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert log_in(client, "marketer", PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=2, AXES_COOLOFF_TIME=timedelta(minutes=3))
def test_the_limit_and_the_window_follow_the_settings(client, marketer):
    assert fail(client, 2)[-1].status_code == 429
    assert "3 minutes" in log_in(client, "marketer", PASSWORD).content.decode()
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=4))
    assert log_in(client, "marketer", PASSWORD).status_code == 302


def test_a_forwarded_for_header_is_not_trusted_by_default(client, marketer):
    for n in range(LIMIT):
        log_in(client, f"user{n}", "guess", HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}")
    assert log_in(client, "marketer", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.9").status_code == 429


@override_settings(EDM_CLIENT_IP_HEADER="HTTP_X_REAL_IP")
def test_behind_a_proxy_the_configured_header_names_the_client(client, marketer):
    proxy = "127.0.0.1"
    for n in range(LIMIT):
        log_in(client, f"user{n}", "guess", address=proxy, HTTP_X_REAL_IP="198.51.100.1")
    # Another client behind the same proxy is not locked out with the attacker.
    other = log_in(client, "marketer", PASSWORD, address=proxy, HTTP_X_REAL_IP="198.51.100.2")
    assert other.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.1"}


@override_settings(EDM_CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR")
def test_the_last_forwarded_address_counts_and_a_bad_one_falls_back_to_the_connections(
    client, marketer
):
    log_in(client, "x", "guess", address="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.4")
    log_in(client, "y", "guess", address="127.0.0.1", HTTP_X_FORWARDED_FOR="unknown")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        "198.51.100.4",
        "127.0.0.1",
    }


def test_api_tokens_keep_working_while_their_users_login_is_locked_out(client, marketer, redis_db):
    secret = api_token_create(user=marketer, name="CRM sync").secret
    fail(client, LIMIT)
    answer = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert answer.status_code == 200
    assert answer.json()["username"] == "marketer"
