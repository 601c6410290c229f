"""GET /api/contacts/{id}/export and POST /api/contacts/{id}/erase, recorded with the token."""

from __future__ import annotations

import json

import pytest

from campaigns.models import Contact, DataRightsAction, Suppression
from campaigns.services import contacts as contact_services
from edm.tokens import api_token_create
from tests.api.conftest import ApiClient, assert_error
from tests.factories import make_list

pytestmark = pytest.mark.django_db

JANE = "Jane@example.com"


def test_export_answers_the_contacts_data_as_a_json_download_recorded_with_the_token(api, user):
    news = make_list("News")
    jane = contact_services.contact_create(email=JANE, name="Jane", lists=[news])
    contact_services.contact_create(email="bob@example.com", lists=[news])

    response = api.get(f"/contacts/{jane.pk}/export")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; ")
    document = json.loads(b"".join(response.streaming_content))
    assert document["contact"]["email"] == JANE
    assert [m["list"]["name"] for m in document["memberships"]] == ["News"]
    assert "bob" not in json.dumps(document)
    action = DataRightsAction.objects.get()
    assert (action.kind, action.contact_id, action.by) == ("export", jane.pk, user)
    assert action.token.name == "tests" and action.actor == "ada (API token “tests”)"


def test_erase_answers_what_it_changed_and_the_address_cannot_come_back(api, user):
    jane = contact_services.contact_create(email=JANE, lists=[make_list()])

    response = api.post(f"/contacts/{jane.pk}/erase")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "contacts": 1,
        "deliveries": 0,
        "cancelled": 0,
        "bounce_events": 0,
        "inbound_messages": 0,
        "tx_messages": 0,
        "captured_messages": 0,
        "import_rejections": 0,
    }
    assert_error(api.get(f"/contacts/{jane.pk}"), 404, "not_found")
    error = assert_error(api.post("/contacts", {"email": "JANE@EXAMPLE.COM"}), 409, "conflict")
    assert "erased" in error["message"]
    assert not Contact.objects.exists()
    assert Suppression.objects.get().scope == "hash"
    action = DataRightsAction.objects.get()
    assert (action.kind, action.contact_id, action.by, action.token.name) == (
        "erase",
        jane.pk,
        user,
        "tests",
    )


def test_export_and_erase_of_another_id_are_json_404s_and_record_nothing(api):
    jane = contact_services.contact_create(email=JANE)

    assert_error(api.get(f"/contacts/{jane.pk + 1}/export"), 404, "not_found")
    assert_error(api.post(f"/contacts/{jane.pk + 1}/erase"), 404, "not_found")

    assert Contact.objects.filter(pk=jane.pk).exists()
    assert not DataRightsAction.objects.exists()


def test_a_read_only_token_may_export_but_not_erase(client, user, redis_db):
    reader = ApiClient(client, api_token_create(user=user, name="audit", can_write=False).secret)
    jane = contact_services.contact_create(email=JANE)

    assert reader.get(f"/contacts/{jane.pk}/export").status_code == 200
    assert_error(reader.post(f"/contacts/{jane.pk}/erase"), 403, "forbidden")

    assert Contact.objects.filter(pk=jane.pk).exists()
    assert list(DataRightsAction.objects.values_list("kind", flat=True)) == ["export"]
