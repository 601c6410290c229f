"""The segment pages and the audience builder's server side: save, count live, delete, and
a campaign editor whose conditions become the campaign's segment."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Segment
from campaigns.services.segments import segment_create
from tests.factories import make_campaign, make_contact, make_list

pytestmark = pytest.mark.django_db

BERLIN = {
    "match": "all",
    "conditions": [{"field": "attribute", "key": "city", "op": "equals", "value": "Berlin"}],
}
ROME = {
    "match": "all",
    "conditions": [{"field": "attribute", "key": "city", "op": "equals", "value": "Rome"}],
}


def post_json(client, url: str, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_segment_is_built_saved_and_shown_with_the_builders_data(admin_client):
    customers = make_list("Customers")
    response = admin_client.post(
        reverse("campaigns:segment_create"),
        {"name": "Berliners", "definition": json.dumps(BERLIN)},
        follow=True,
    )
    segment = Segment.objects.get()
    assert segment.definition == BERLIN
    assert "Segment “Berliners” saved." in messages_of(response)
    html = response.content.decode()
    assert 'data-segment-builder data-catalog="segment-catalog"' in html
    catalog = response.context["catalog"]
    assert catalog["choices"]["list"] == [(customers.pk, "Customers")]
    assert {f["value"] for f in catalog["fields"]} >= {"attribute", "opened", "received"}
    # No inline script (the coming CSP refuses them): code is loaded, data is JSON.
    for tag in re.findall(r"<script[^>]*>", html):
        assert " src=" in tag or 'type="application/json"' in tag, tag


def test_a_definition_with_a_bad_condition_is_not_saved_and_says_where(admin_client):
    bad = {"match": "all", "conditions": [{"field": "created", "op": "within_days", "value": 0}]}
    response = admin_client.post(
        reverse("campaigns:segment_create"), {"name": "X", "definition": json.dumps(bad)}
    )
    assert response.status_code == 200
    assert not Segment.objects.exists()
    assert (
        "definition.conditions[0].value: must be a number of days from 1 to 36500"
        in response.content.decode()
    )


def test_the_builder_counts_the_posted_definition_as_it_changes(admin_client):
    make_contact("ann@example.com", attributes={"city": "Berlin"})
    make_contact("cy@example.com", attributes={"city": "Rome"})
    url = reverse("campaigns:segment_count")
    assert post_json(admin_client, url, {"definition": BERLIN}).json() == {"size": 1}
    half_typed = {"match": "all", "conditions": [{"field": "attribute", "key": "", "op": "is_set"}]}
    answer = post_json(admin_client, url, {"definition": half_typed})
    assert answer.status_code == 422
    assert set(answer.json()["problems"]) == {"conditions[0].key"}
    assert post_json(admin_client, url, ["not", "an", "object"]).status_code == 400


def test_a_segment_in_use_is_not_deleted_and_an_unused_one_is(admin_client):
    used = segment_create(name="Used", definition=BERLIN)
    make_campaign(lists=[make_list()], segment=used, name="Berlin sale")
    refused = admin_client.post(reverse("campaigns:segment_delete", args=[used.pk]), follow=True)
    assert "Not deleted: “Used” is the audience of “Berlin sale”." in messages_of(refused)
    unused = segment_create(name="Unused", definition=ROME)
    index = admin_client.get(reverse("campaigns:segment_index")).content.decode()
    assert f'<a href="/segments/{unused.pk}/">Unused</a>' in index
    admin_client.post(reverse("campaigns:segment_delete", args=[unused.pk]))
    assert list(Segment.objects.all()) == [used]
    index = admin_client.get(reverse("campaigns:segment_index")).content.decode()
    assert f'/segments/{unused.pk}/"' not in index
    assert 'class="active" aria-current="page">Segments<' in index


def campaign_body(customers, **fields) -> dict:
    return {
        "name": "Spring sale",
        "from_email": "news@shop.example",
        "lists": [customers.pk],
        "subject": "Hi",
        "html": "<p>Hi</p>",
    } | fields


def test_the_editors_conditions_become_the_campaigns_own_segment_and_keep_a_shared_one(
    admin_client,
):
    customers = make_list()
    make_contact("ann@example.com", contact_list=customers, attributes={"city": "Berlin"})
    make_contact("cy@example.com", contact_list=customers, attributes={"city": "Rome"})
    shared = segment_create(name="Berliners", definition=BERLIN)

    # Started from the shared segment, conditions untouched: the campaign uses it.
    body = campaign_body(customers, segment=shared.pk, definition=json.dumps(BERLIN))
    admin_client.post(reverse("campaigns:campaign_create"), body)
    campaign = Campaign.objects.get()
    assert campaign.segment == shared

    # Changed in the editor: saved as the campaign's own segment, the shared one unchanged.
    edit = reverse("campaigns:campaign_edit", args=[campaign.pk])
    admin_client.post(edit, body | {"definition": json.dumps(ROME)})
    campaign.refresh_from_db()
    own = campaign.segment
    assert (own.name, own.definition) == ("Spring sale: audience", ROME)
    shared.refresh_from_db()
    assert shared.definition == BERLIN

    # Changed again: its own segment (used by it alone) is updated, not copied.
    either = {"match": "any", "conditions": BERLIN["conditions"] + ROME["conditions"]}
    admin_client.post(edit, body | {"segment": own.pk, "definition": json.dumps(either)})
    campaign.refresh_from_db()
    assert campaign.segment == own
    own.refresh_from_db()
    assert own.definition == either
    assert Segment.objects.count() == 2

    # No conditions: everyone on the lists.
    admin_client.post(
        edit, body | {"segment": own.pk, "definition": json.dumps(ROME | {"conditions": []})}
    )
    campaign.refresh_from_db()
    assert campaign.segment is None


def test_the_editor_counts_the_lists_narrowed_by_the_conditions_being_built(admin_client):
    customers = make_list()
    make_contact("ann@example.com", contact_list=customers, attributes={"city": "Berlin"})
    make_contact("cy@example.com", contact_list=customers, attributes={"city": "Rome"})
    make_contact("bo@example.com", attributes={"city": "Berlin"})  # on no list
    url = reverse("campaigns:campaign_audience")
    answer = post_json(admin_client, url, {"lists": [customers.pk], "definition": BERLIN})
    assert answer.json() == {"size": 1}
    bad = {"match": "all", "conditions": [{"field": "list", "op": "member_of", "value": "x"}]}
    answer = post_json(admin_client, url, {"lists": [customers.pk], "definition": bad})
    assert answer.status_code == 422
    assert set(answer.json()["problems"]) == {"definition.conditions[0].value"}


def test_a_campaign_with_bad_conditions_is_not_saved_and_says_where(admin_client):
    customers = make_list()
    bad = {"match": "all", "conditions": [{"field": "list", "op": "member_of", "value": 999}]}
    body = campaign_body(customers, definition=json.dumps(bad))
    response = admin_client.post(reverse("campaigns:campaign_create"), body)
    assert not Campaign.objects.exists()
    assert (
        "Audience definition.conditions[0].value: no list with id 999" in response.content.decode()
    )
