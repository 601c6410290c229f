"""Who may call the API: bearer tokens only, never a session; read-only tokens; the rate limit."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from campaigns.models import ContactList
from edm.models import ApiToken
from edm.tokens import api_token_create, api_token_revoke
from tests.api.conftest import ApiClient, assert_error, make_user


def test_a_request_without_a_token_is_refused_with_401_and_the_error_shape(client, db):
    response = ApiClient(client, None).get("/lists")
    assert_error(response, 401, "unauthorized", set())
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_made_up_token_is_refused(client, db):
    response = ApiClient(client, "edm_not-a-real-token").get("/lists")
    assert_error(response, 401, "unauthorized")


def test_a_token_works_until_it_is_revoked(client, user, redis_db):
    issued = api_token_create(user=user, name="crm")
    api = ApiClient(client, issued.secret)
    assert api.get("/me").json()["username"] == "ada"

    api_token_revoke(issued.token)

    assert_error(api.get("/me"), 401, "unauthorized")


def test_a_deactivated_users_token_is_refused(client, user, redis_db):
    api = ApiClient(client, api_token_create(user=user, name="crm").secret)
    user.is_active = False
    user.save()
    assert_error(api.get("/me"), 401, "unauthorized")


def test_a_logged_in_session_without_a_token_can_neither_write_nor_read(client, user, redis_db):
    client.force_login(user)
    session_only = ApiClient(client, None)

    assert_error(session_only.post("/lists", {"name": "Sneaky"}), 401, "unauthorized")
    assert_error(session_only.get("/lists"), 401, "unauthorized")
    assert not ContactList.objects.exists()


def test_a_read_only_token_reads_but_cannot_write(client, user, redis_db):
    api = ApiClient(client, api_token_create(user=user, name="warehouse", can_write=False).secret)
    assert api.get("/lists").status_code == 200
    assert_error(api.post("/lists", {"name": "New"}), 403, "forbidden")
    assert not ContactList.objects.exists()


def test_only_a_hash_of_the_secret_is_stored(user):
    issued = api_token_create(user=user, name="crm")
    row = ApiToken.objects.get()
    assert issued.secret.startswith("edm_")
    assert issued.secret not in {row.secret_hash, row.prefix, row.name}
    assert issued.secret.startswith(row.prefix)


def test_using_a_token_records_when_it_was_last_used(api, user):
    assert ApiToken.objects.get().last_used_at is None
    api.get("/me")
    assert ApiToken.objects.get().last_used_at is not None


def test_requests_over_the_per_minute_limit_get_429_with_retry_after(api, settings):
    settings.EDM_API_REQUESTS_PER_MINUTE = 3
    answers = [api.get("/me") for _ in range(7)]
    statuses = [r.status_code for r in answers]
    # The loop may straddle two minutes: at most 3 pass in each, so at least one is refused.
    assert statuses.count(200) <= 6
    assert 429 in statuses
    refused = next(r for r in answers if r.status_code == 429)
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused["Retry-After"]) <= 60


def test_the_rate_limit_counts_each_token_apart(client, user, redis_db, settings):
    settings.EDM_API_REQUESTS_PER_MINUTE = 1
    first = ApiClient(client, api_token_create(user=user, name="one").secret)
    second = ApiClient(client, api_token_create(user=user, name="two").secret)
    first.get("/me")
    assert second.get("/me").status_code == 200


def test_create_api_token_prints_a_working_token(client, user, redis_db):
    out = io.StringIO()
    call_command("create_api_token", "ada", "--name", "deploy script", stdout=out)
    secret = out.getvalue().strip()
    me = ApiClient(client, secret).get("/me").json()
    assert me["token"]["name"] == "deploy script"
    assert me["token"]["can_write"] is True


def test_create_api_token_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No active user called 'nobody'"):
        call_command("create_api_token", "nobody", stdout=io.StringIO())


def test_tokens_of_two_users_act_as_their_own_user(client, redis_db, db):
    grace = make_user("grace")
    api = ApiClient(client, api_token_create(user=grace, name="g").secret)
    assert api.get("/me").json()["username"] == "grace"
