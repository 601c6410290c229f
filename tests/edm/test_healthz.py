import pytest
from django.contrib.auth import get_user_model


@pytest.mark.django_db
def test_healthz_is_ok_when_database_and_redis_answer(client, redis_db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": {"ok": True}, "redis": {"ok": True}}


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is False


@pytest.mark.django_db
def test_healthz_tells_anonymous_callers_nothing_but_ok_or_failing(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "failing",
        "database": {"ok": True},
        "redis": {"ok": False},
    }
    assert b"127.0.0.1" not in response.content


@pytest.mark.django_db
def test_healthz_tells_staff_which_backend_failed_and_why(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    client.force_login(get_user_model().objects.create_user("ops", is_staff=True))
    body = client.get("/healthz").json()
    assert body["database"]["ok"] is True and body["database"]["error"] is None
    assert body["database"]["backend"] in {"sqlite", "postgresql"}
    assert (body["redis"]["ok"], body["redis"]["backend"]) == (False, "redis")
    assert "127.0.0.1:1" in body["redis"]["error"]


@pytest.mark.django_db
def test_healthz_tells_a_logged_in_user_who_is_not_staff_nothing_more(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    client.force_login(get_user_model().objects.create_user("marketer"))
    assert client.get("/healthz").json()["redis"] == {"ok": False}
