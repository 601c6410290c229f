"""Segments over the API: CRUD, counts of a saved or posted definition, and campaigns using one."""

from __future__ import annotations

from campaigns.models import Segment
from tests.api.conftest import assert_error
from tests.factories import make_campaign, make_contact, make_list

CITY = {"field": "attribute", "key": "city", "op": "equals", "value": "Berlin"}


def definition(*conditions, match="all") -> dict:
    return {"match": match, "conditions": list(conditions)}


def test_a_segment_is_created_read_changed_listed_and_deleted(api):
    created = api.post("/segments", {"name": "Berliners", "definition": definition(CITY)})
    assert created.status_code == 201, created.content
    segment = created.json()
    assert segment["definition"] == definition(CITY)
    assert api.get(f"/segments/{segment['id']}").json() == segment
    changed = api.patch(f"/segments/{segment['id']}", {"name": "Berlin"}).json()
    assert (changed["name"], changed["definition"]) == ("Berlin", definition(CITY))
    assert [item["id"] for item in api.get("/segments").json()["items"]] == [segment["id"]]
    assert api.delete(f"/segments/{segment['id']}").status_code == 204
    assert not Segment.objects.exists()


def test_a_bad_condition_is_422_naming_its_path(api):
    bad = definition(CITY, {"field": "created", "op": "within_days", "value": "a week"})
    error = assert_error(
        api.post("/segments", {"name": "X", "definition": bad}),
        422,
        "invalid",
        {"definition.conditions[1].value"},
    )
    assert error["fields"]["definition.conditions[1].value"] == [
        "must be a number of days from 1 to 36500"
    ]
    assert not Segment.objects.exists()


def test_a_condition_on_a_list_or_campaign_that_does_not_exist_is_422(api):
    bad = definition(
        {"field": "list", "op": "member_of", "value": 999},
        {"match": "any", "conditions": [{"field": "received", "op": "not_opened", "value": 998}]},
    )
    error = assert_error(
        api.post("/segments", {"name": "X", "definition": bad}),
        422,
        "invalid",
        {"definition.conditions[0].value", "definition.conditions[1].conditions[0].value"},
    )
    assert error["fields"]["definition.conditions[0].value"] == ["no list with id 999"]


def test_a_posted_definition_and_a_saved_segment_are_counted(api):
    make_contact("ann@example.com", attributes={"city": "Berlin"})
    make_contact("bob@example.com", attributes={"city": "Berlin"}, status="bounced")
    make_contact("cy@example.com", attributes={"city": "Rome"})
    counted = api.post("/segments/count", {"definition": definition(CITY)})
    assert counted.json() == {"count": 2}  # every contact that matches, whatever its status
    segment = api.post("/segments", {"name": "B", "definition": definition(CITY)}).json()
    assert api.get(f"/segments/{segment['id']}/count").json() == {"count": 2}
    assert_error(
        api.post("/segments/count", {"definition": {"match": "most"}}),
        422,
        "invalid",
        {"definition.match"},
    )


def test_a_campaign_takes_a_segment_and_its_audience_is_narrowed_by_it(api):
    customers = make_list()
    make_contact("ann@example.com", contact_list=customers, attributes={"city": "Berlin"})
    make_contact("cy@example.com", contact_list=customers, attributes={"city": "Rome"})
    segment = api.post("/segments", {"name": "B", "definition": definition(CITY)}).json()
    body = {
        "name": "Berlin sale",
        "from_email": "news@shop.example",
        "lists": [customers.pk],
        "segment": segment["id"],
        "subject": "Hi",
        "html": "<p>Hi</p>",
    }
    campaign = api.post("/campaigns", body).json()
    assert campaign["segment"] == segment["id"]
    assert api.get(f"/campaigns/{campaign['id']}/audience").json() == {"size": 1}
    assert_error(api.delete(f"/segments/{segment['id']}"), 409, "conflict")
    cleared = api.patch(f"/campaigns/{campaign['id']}", {"segment": None}).json()
    assert cleared["segment"] is None
    assert api.get(f"/campaigns/{campaign['id']}/audience").json() == {"size": 2}
    assert_error(
        api.patch(f"/campaigns/{campaign['id']}", {"segment": 12345}), 422, "invalid", {"segment"}
    )


def test_a_campaign_keeps_its_segment_when_a_change_leaves_it_out(api):
    segment = Segment.objects.create(name="Everyone")
    campaign = make_campaign(lists=[make_list()], segment=segment)
    changed = api.patch(f"/campaigns/{campaign.pk}", {"name": "Renamed"}).json()
    assert changed["segment"] == segment.pk


def test_a_finished_campaign_is_resent_as_a_draft_with_a_segment(api):
    campaign = make_campaign(lists=[make_list()], status="finished")
    response = api.post(f"/campaigns/{campaign.pk}/resend", {"kind": "not_clicked"})
    assert response.status_code == 201, response.content
    draft = response.json()
    assert (draft["status"], draft["name"]) == ("draft", "Spring sale (resend: did not click)")
    segment = api.get(f"/segments/{draft['segment']}").json()
    assert segment["definition"]["conditions"] == [
        {"field": "received", "op": "not_clicked", "value": campaign.pk}
    ]
    assert_error(
        api.post(f"/campaigns/{draft['id']}/resend", {"kind": "not_clicked"}), 409, "conflict"
    )
