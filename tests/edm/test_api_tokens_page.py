"""Settings → API tokens: a new token's secret is shown once; tokens are revoked there."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from edm.models import ApiToken
from edm.tokens import api_token_create, api_token_find

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(client):
    user = get_user_model().objects.create_user("ada")
    client.force_login(user)
    return user


def test_a_new_tokens_secret_is_shown_once_and_works(client, ada):
    page = client.post(reverse("settings_api_tokens"), {"name": "CRM sync"})
    assert page.status_code == 200
    secret = re.search(r'value="(edm_[^"]+)"', page.content.decode()).group(1)
    assert api_token_find(secret).user == ada
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]

    later = client.get(reverse("settings_api_tokens")).content.decode()
    assert secret not in later
    assert "CRM sync" in later and secret[:12] in later


def test_a_read_only_token_is_made_when_asked(client, ada):
    client.post(reverse("settings_api_tokens"), {"name": "warehouse", "read_only": "on"})
    assert ApiToken.objects.get().can_write is False


def test_revoking_a_token_stops_it_working(client, ada):
    issued = api_token_create(user=ada, name="old")
    response = client.post(reverse("settings_api_token_revoke", args=[issued.token.pk]))
    assert response.status_code == 302
    assert api_token_find(issued.secret) is None
    assert "revoked" in client.get(reverse("settings_api_tokens")).content.decode()


def test_nobody_sees_or_revokes_another_users_tokens(client, ada):
    grace = get_user_model().objects.create_user("grace")
    theirs = api_token_create(user=grace, name="grace's token")
    assert "grace&#x27;s token" not in client.get(reverse("settings_api_tokens")).content.decode()
    response = client.post(reverse("settings_api_token_revoke", args=[theirs.token.pk]))
    assert response.status_code == 404
    assert api_token_find(theirs.secret) is not None


def test_the_page_needs_a_login(client):
    response = client.get(reverse("settings_api_tokens"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
