"""Every error has one shape, the right status, and names the field that was wrong."""

from __future__ import annotations

import json

from django.test import Client

from campaigns.models import ContactList
from tests.api.conftest import assert_error
from tests.factories import make_list


def test_a_missing_body_field_is_422_naming_the_field(api):
    error = assert_error(api.post("/lists", {"description": "no name"}), 422, "invalid", {"name"})
    assert error["fields"]["name"] == ["Field required"]


def test_a_nested_field_is_named_by_its_path(api):
    contact_list = make_list()
    body = {"list": contact_list.pk, "contacts": [{"email": "a@shop.example"}, {"name": "x"}]}
    assert_error(api.post("/contacts/bulk", body), 422, "invalid", {"contacts.1.email"})


def test_a_query_parameter_out_of_range_is_422_naming_it(api):
    assert_error(api.get("/contacts", {"limit": 0}), 422, "invalid", {"limit"})
    assert_error(api.get("/contacts", {"limit": 501}), 422, "invalid", {"limit"})


def test_a_body_that_is_not_json_is_400(api):
    response = api.client.post(
        "/api/lists",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.secret}"},
    )
    assert_error(response, 400, "bad_request")


def test_an_unknown_object_is_404(api):
    assert_error(api.get("/lists/999999"), 404, "not_found")


def test_an_unknown_path_under_api_is_a_json_404_even_for_a_post(api):
    assert_error(api.get("/no/such/thing"), 404, "not_found")
    strict = Client(enforce_csrf_checks=True)  # as a real client: no CSRF page instead
    assert_error(strict.post("/api/lists/x/y"), 404, "not_found")
    assert_error(strict.delete("/api/lists/null"), 404, "not_found")
    assert_error(strict.get("/api/campaigns/%C2%99%40%260%0A/stats"), 404, "not_found")


def test_a_method_the_path_does_not_have_is_a_json_405_with_allow(api):
    error = assert_error(api.delete("/lists"), 405, "method_not_allowed")
    allowed = api.delete("/lists")["Allow"]
    assert {m.strip() for m in allowed.split(",")} == {"GET", "POST"}
    assert "DELETE" in error["message"]


def test_the_api_root_says_where_the_docs_are(client, db):
    assert client.get("/api/").json() == {"docs": "/api/docs", "openapi": "/api/openapi.json"}


def test_a_name_in_use_is_409(api):
    make_list("Customers")
    error = assert_error(api.post("/lists", {"name": "Customers"}), 409, "conflict")
    assert "already exists" in error["message"]


def test_a_body_over_the_size_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"name": "x" * 100, "description": "y" * 2000}
    assert_error(api.post("/lists", body), 413, "too_large")
    assert not ContactList.objects.exists()


def test_an_invalid_email_address_is_422_on_its_field(api):
    make_list()
    error = assert_error(api.post("/contacts", {"email": "not an address"}), 422, "invalid")
    assert set(error["fields"]) == {"email"}


def test_the_openapi_schema_documents_the_error_shape_on_every_operation(client, db):
    schema = json.loads(client.get("/api/openapi.json").content)
    assert "ErrorOut" in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "404", "422", "429"):
                assert status in operation["responses"], (method, path, status)


def test_a_nul_character_is_422_not_a_database_error(api):
    assert_error(api.post("/lists", {"name": "bad\x00name"}), 422, "invalid", {"name"})
    error = assert_error(
        api.post("/contacts", {"email": "a@shop.example", "attributes": {"k": "v\x00"}}),
        422,
        "invalid",
        {"attributes.k"},
    )
    assert "NUL" in error["fields"]["attributes.k"][0]


def test_an_id_beyond_64_bits_is_422_not_an_overflow(api):
    assert_error(api.get(f"/lists/{2**64}"), 422, "invalid", {"list_id"})
    assert_error(
        api.post("/contacts", {"email": "a@shop.example", "lists": [2**64]}), 422, "invalid"
    )
