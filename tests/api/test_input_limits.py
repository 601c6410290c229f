"""Input that is not plain JSON, or nests without end, is a 4xx naming the field, never a 500
or a misleading answer."""

from __future__ import annotations

import base64
import json

import pytest

from campaigns.models import Contact, Template
from delivery.models import TxRequest
from tests.api.conftest import assert_error
from tests.factories import make_list

# JSON's grammar has no NaN or Infinity, but Python's json module reads them, and 1e999 as inf.
NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]


def post_text(api, path: str, body: str, method: str = "post"):
    """A body sent exactly as written (json.dumps could not write these)."""
    send = getattr(api.client, method)
    return send(
        f"/api{path}",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.secret}"},
    )


def nested(levels: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


@pytest.fixture
def template(db):
    return Template.objects.create(name="Receipt", subject="Receipt", html="<p>Thanks</p>")


def tx_body(template: Template, data: str) -> str:
    return (
        f'{{"template": {template.pk}, "from_email": "shop@shop.example", '
        f'"recipients": ["a@shop.example"], "data": {data}}}'
    )


@pytest.mark.parametrize("number", NOT_FINITE)
def test_a_contact_attribute_that_is_not_a_finite_number_is_422_on_its_path(api, number):
    body = f'{{"email": "a@shop.example", "attributes": {{"score": {number}}}}}'
    error = assert_error(post_text(api, "/contacts", body), 422, "invalid", {"attributes.score"})
    assert "finite" in error["fields"]["attributes.score"][0]
    assert not Contact.objects.exists()


@pytest.mark.parametrize("number", NOT_FINITE)
def test_changing_an_attribute_to_a_number_that_is_not_finite_is_422_not_contact_exists(
    api, number
):
    contact = api.post("/contacts", {"email": "a@shop.example"}).json()
    body = f'{{"attributes": {{"score": {number}}}}}'
    response = post_text(api, f"/contacts/{contact['id']}", body, method="patch")
    assert_error(response, 422, "invalid", {"attributes.score"})


@pytest.mark.parametrize("number", NOT_FINITE)
def test_a_bulk_row_attribute_that_is_not_finite_is_422_on_its_row(api, number):
    contact_list = make_list()
    body = (
        f'{{"list": {contact_list.pk}, "contacts": [{{"email": "a@shop.example"}}, '
        f'{{"email": "b@shop.example", "attributes": {{"score": {number}}}}}]}}'
    )
    response = post_text(api, "/contacts/bulk", body)
    assert_error(response, 422, "invalid", {"contacts.1.attributes.score"})
    assert not Contact.objects.exists()


@pytest.mark.parametrize("number", NOT_FINITE)
def test_tx_data_that_is_not_a_finite_number_is_422_on_its_path(api, template, number):
    response = post_text(api, "/tx", tx_body(template, f'{{"order": {{"total": {number}}}}}'))
    assert_error(response, 422, "invalid", {"data.order.total"})
    assert not TxRequest.objects.exists()


def test_tx_data_nested_500_levels_is_422_naming_data_not_a_500(api, template):
    response = post_text(api, "/tx", tx_body(template, json.dumps(nested(500))))
    error = assert_error(response, 422, "invalid", {"data"})
    assert error["fields"]["data"] == ["nested deeper than 32 levels"]
    assert not TxRequest.objects.exists()


def test_tx_data_nested_32_levels_is_taken(api, template):
    response = post_text(api, "/tx", tx_body(template, json.dumps(nested(32))))
    assert response.status_code == 202, response.content


def test_a_body_of_a_hundred_thousand_nested_brackets_is_400_in_the_error_shape(api):
    assert_error(post_text(api, "/tx", "[" * 100_000), 400, "bad_request")
    assert_error(post_text(api, "/contacts", '{"attributes": ' * 100_000), 400, "bad_request")


def test_a_cursor_of_a_hundred_thousand_nested_brackets_is_422_on_after(api):
    cursor = base64.urlsafe_b64encode(b"[" * 100_000).decode()
    assert_error(api.get("/contacts", {"after": cursor}), 422, "invalid", {"after"})
