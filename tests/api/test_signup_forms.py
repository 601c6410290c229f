"""The API of sign-up forms and consents: the dashboard's rules, through JSON."""

from __future__ import annotations

import pytest

from campaigns.models import SignupForm
from campaigns.services.signups import signup_process
from tests.api.conftest import assert_error
from tests.factories import make_list

pytestmark = pytest.mark.django_db


def form_body(*lists, **fields):
    return {
        "name": "Footer",
        "lists": [item.pk for item in lists],
        "consent_text": "Send me news.",
        "from_email": "news@shop.example",
        "attribute_fields": [{"key": "city", "label": "Your city"}],
        **fields,
    }


def test_a_form_created_through_the_api_has_a_hosted_url_and_a_snippet(api, settings):
    newsletter = make_list("Newsletter")
    created = api.post("/forms", form_body(newsletter))
    assert created.status_code == 201, created.content
    body = created.json()
    form = SignupForm.objects.get()
    assert body["hosted_url"] == f"{settings.EDM_PUBLIC_URL}/f/{form.public_id}/"
    assert body["lists"] == [newsletter.pk] and body["opt_in"] == "double"
    assert body["attribute_fields"] == [{"key": "city", "label": "Your city"}]
    assert f'action="{body["hosted_url"]}"' in body["embed_html"]
    assert api.get(f"/forms/{form.pk}").json()["public_id"] == form.public_id
    assert [item["id"] for item in api.get("/forms").json()["items"]] == [form.pk]


def test_the_api_refuses_what_the_dashboard_refuses_naming_the_field(api):
    newsletter = make_list("Newsletter")
    refused = api.post("/forms", form_body(newsletter, from_email="not an address"))
    assert_error(refused, 422, "invalid", {"from_email"})
    unknown = api.post("/forms", form_body(newsletter, lists=[newsletter.pk + 1000]))
    assert_error(unknown, 422, "invalid", {"lists"})
    assert not SignupForm.objects.exists()


def test_a_contacts_consents_are_listed_with_where_they_came_from(api, redis_db):
    newsletter = make_list("Newsletter")
    form_id = api.post("/forms", form_body(newsletter)).json()["id"]
    signup_process(
        {
            "form_id": form_id,
            "email": "ann@example.com",
            "list_ids": [newsletter.pk],
            "consent_text": "Send me news.",
            "client_address": "2001:db8::1",
            "user_agent": "Phone/1.0",
        }
    )
    contact_id = SignupForm.objects.get().consents.get().contact_id
    items = api.get(f"/contacts/{contact_id}/consents").json()["items"]
    assert [(c["list"], c["form"], c["method"], c["text"]) for c in items] == [
        (newsletter.pk, form_id, "form", "Send me news.")
    ]
    assert items[0]["client_address"] == "2001:db8::1" and items[0]["confirmed_at"] is None
