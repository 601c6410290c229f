"""Templates and campaigns over the API: validation, previews, drafts and the lifecycle."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from campaigns.models import Campaign, Template
from delivery.models import CampaignStats, Delivery, SiteStats
from tests.api.conftest import assert_error
from tests.factories import make_campaign, make_contact, make_list

HTML = "<p>Hi {{ contact.name }}, your code is {{ contact.attributes.code }}</p>"


def make_template(api, **fields) -> dict:
    body = {"name": "Welcome", "subject": "Welcome {{ contact.name }}", "html": HTML} | fields
    response = api.post("/templates", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_template_is_saved_with_its_warnings_and_changed(api):
    template = make_template(api, html=HTML + "{{ coupon }}")
    assert template["warnings"] == {"html": ["line 1, column 76: unknown variable 'coupon'"]}
    changed = api.patch(f"/templates/{template['id']}", {"subject": "Hello"}).json()
    assert (changed["subject"], changed["html"]) == ("Hello", HTML + "{{ coupon }}")


def test_a_template_with_a_syntax_error_is_422_naming_part_and_line(api):
    error = assert_error(
        api.post("/templates", {"name": "Bad", "subject": "x", "html": "<p>{{ oops </p>"}),
        422,
        "invalid",
        {"html"},
    )
    assert error["fields"]["html"][0].startswith("line 1")
    assert not Template.objects.exists()


def test_a_template_name_in_use_is_409(api):
    make_template(api)
    assert_error(api.post("/templates", {"name": "Welcome", "html": "x"}), 409, "conflict")


def test_a_layout_in_use_cannot_be_deleted(api):
    layout = make_template(api, name="Frame", kind="layout", html="<div>{{ content }}</div>")
    template = make_template(api, layout=layout["id"])
    assert_error(api.delete(f"/templates/{layout['id']}"), 409, "conflict")
    assert api.delete(f"/templates/{template['id']}").status_code == 204
    assert api.delete(f"/templates/{layout['id']}").status_code == 204


def test_a_preview_renders_for_a_contact_with_data_on_top(api):
    contact = make_contact("li@shop.example", name="李雷", attributes={"code": "111"})
    template = make_template(api)
    preview = api.post(
        f"/templates/{template['id']}/preview", {"contact": contact.pk, "data": {"code": "999"}}
    ).json()
    assert preview["subject"] == "Welcome 李雷"
    assert "your code is 999" in preview["html"]
    assert "your code is 999" in preview["text"]


def test_a_preview_for_an_address_that_is_no_contact_uses_the_name_given(api):
    template = make_template(api)
    preview = api.post(
        f"/templates/{template['id']}/preview", {"email": "x@shop.example", "name": "Xu"}
    ).json()
    assert preview["subject"] == "Welcome Xu"


def test_a_campaign_made_from_a_template_copies_its_content(api):
    customers = make_list()
    template = make_template(api)
    response = api.post(
        "/campaigns",
        {
            "name": "Launch",
            "from_email": "news@shop.example",
            "from_name": "Shop",
            "lists": [customers.pk],
            "template": template["id"],
        },
    )
    assert response.status_code == 201, response.content
    campaign = response.json()
    assert (campaign["status"], campaign["subject"], campaign["html"]) == (
        "draft",
        "Welcome {{ contact.name }}",
        HTML,
    )
    assert campaign["lists"] == [customers.pk]
    assert campaign["retry_window_hours"] == 72


def test_a_campaign_with_a_bad_sender_is_422_on_from_email(api):
    response = api.post("/campaigns", {"name": "X", "from_email": "nobody", "html": "x"})
    assert_error(response, 422, "invalid", {"from_email"})


def test_only_drafts_change_or_are_deleted(api):
    customers = make_list()
    make_contact("a@shop.example", contact_list=customers)
    campaign = make_campaign(lists=[customers])
    path = f"/campaigns/{campaign.pk}"
    changed = api.patch(path, {"name": "Renamed", "retry_window_hours": 24}).json()
    assert (changed["name"], changed["retry_window_hours"]) == ("Renamed", 24)
    assert changed["lists"] == [customers.pk]

    assert api.post(f"{path}/start").json()["status"] == "sending"

    assert_error(api.patch(path, {"name": "Again"}), 409, "conflict")
    assert_error(api.delete(path), 409, "conflict")
    copy = api.post(f"{path}/duplicate").json()
    assert (copy["status"], copy["name"]) == ("draft", "Renamed (copy)")
    assert api.delete(f"/campaigns/{copy['id']}").status_code == 204


def test_the_lifecycle_moves_and_refuses_what_does_not_apply(api):
    customers = make_list()
    make_contact("a@shop.example", contact_list=customers)
    campaign = make_campaign(lists=[customers])
    path = f"/campaigns/{campaign.pk}"

    assert_error(api.post(f"{path}/pause"), 409, "conflict")
    later = (timezone.now() + dt.timedelta(days=1)).isoformat()
    assert api.post(f"{path}/schedule", {"scheduled_at": later}).json()["status"] == "scheduled"
    assert api.post(f"{path}/unschedule").json()["status"] == "draft"
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert_error(
        api.post(f"{path}/schedule", {"scheduled_at": past}), 422, "invalid", {"scheduled_at"}
    )
    assert api.post(f"{path}/start").json()["status"] == "sending"
    assert api.post(f"{path}/pause").json()["status"] == "paused"
    assert api.post(f"{path}/resume").json()["status"] == "sending"
    assert api.post(f"{path}/cancel").json()["status"] == "cancelled"
    assert_error(api.post(f"{path}/resume"), 409, "conflict")


def test_a_campaign_without_lists_cannot_start(api):
    campaign = make_campaign(lists=[])
    assert_error(api.post(f"/campaigns/{campaign.pk}/start"), 422, "invalid", {"lists"})
    assert Campaign.objects.get().status == "draft"


def test_the_audience_size_counts_who_would_get_it_now(api):
    customers, vips = make_list(), make_list("VIPs")
    make_contact("a@shop.example", contact_list=customers)
    make_contact("b@shop.example", contact_list=customers, status="bounced")
    excluded = make_contact("c@shop.example", contact_list=customers)
    vips.memberships.create(contact=excluded)
    campaign = make_campaign(lists=[customers], exclusion_lists=[vips])
    assert api.get(f"/campaigns/{campaign.pk}/audience").json() == {"size": 1}


def test_a_test_send_is_queued_and_a_bad_address_is_422(api):
    campaign = make_campaign(lists=[])
    path = f"/campaigns/{campaign.pk}/test"
    accepted = api.post(path, {"addresses": ["Me@Shop.example"]})
    assert (accepted.status_code, accepted.json()) == (202, {"addresses": ["Me@shop.example"]})
    assert_error(api.post(path, {"addresses": ["nope"]}), 422, "invalid", {"addresses"})
    assert api.get(path).json() == []


def test_stats_sites_deliveries_and_bounces_read_the_counters_and_rows(api):
    customers = make_list()
    campaign = make_campaign(lists=[customers])
    assert api.get(f"/campaigns/{campaign.pk}/stats").json()["audience"] == 0
    ana = make_contact("ana@a.example", contact_list=customers)
    ben = make_contact("ben@b.example", contact_list=customers)
    CampaignStats.objects.create(campaign=campaign, audience=2, sent=1, bounced_hard=1)
    SiteStats.objects.create(campaign=campaign, site="mail.example", sent=1, bounced=1)
    Delivery.objects.create(
        campaign=campaign, contact=ana, email=ana.email, domain="a.example", status="sent"
    )
    Delivery.objects.create(
        campaign=campaign,
        contact=ben,
        email=ben.email,
        domain="b.example",
        status="bounced",
        reason="userunknown",
        hard=True,
        last_code=550,
    )

    stats = api.get(f"/campaigns/{campaign.pk}/stats").json()
    assert (stats["audience"], stats["sent"], stats["bounced"], stats["pending"]) == (2, 1, 1, 0)
    sites = api.get(f"/campaigns/{campaign.pk}/sites").json()["items"]
    assert [(s["site"], s["sent"]) for s in sites] == [("mail.example", 1)]
    bounced = api.get(f"/campaigns/{campaign.pk}/deliveries", {"status": "bounced"}).json()
    assert [d["email"] for d in bounced["items"]] == ["ben@b.example"]
    by_email = api.get(f"/campaigns/{campaign.pk}/deliveries", {"email": "ana@a.example"}).json()
    assert [d["status"] for d in by_email["items"]] == ["sent"]
    one = api.get(f"/campaigns/{campaign.pk}/deliveries/{bounced['items'][0]['id']}").json()
    assert (one["reason"], one["hard"], one["attempt_log"]) == ("userunknown", True, [])
    bounces = api.get("/bounces", {"hard": True}).json()["items"]
    assert [(b["email"], b["reason"]) for b in bounces] == [("ben@b.example", "userunknown")]


NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
DEEP = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
NESTED_IFS = "{% if 1 %}" * 3000 + "{% endif %}" * 3000


def test_a_template_nested_5000_deep_is_a_422_in_the_error_shape(api):
    for source in (DEEP, NESTED_IFS):
        body = {"name": "Deep", "subject": "x", "html": source}
        error = assert_error(api.post("/templates", body), 422, "invalid", {"html"})
        assert "nests more than 32 levels" in error["fields"]["html"][0]
    template = make_template(api)
    changed = api.patch(f"/templates/{template['id']}", {"text": NESTED_IFS})
    assert "nests more than 32" in assert_error(changed, 422, "invalid", {"text"})["message"]
    assert not Template.objects.filter(name="Deep").exists()


def test_a_campaign_nested_5000_deep_is_a_422_in_the_error_shape(api):
    body = {"name": "X", "from_email": "news@shop.example", "subject": "x", "html": DEEP}
    error = assert_error(api.post("/campaigns", body), 422, "invalid", {"html"})
    assert "nests more than 32 levels" in error["fields"]["html"][0]


def test_a_preview_of_a_deep_or_looping_saved_template_is_a_422_not_a_500_or_a_hang(api):
    # Saved before templates were checked for either.
    for source, message in ((DEEP, "nests more than 32"), (NESTED_LOOPS, "budget of 100,000")):
        template = Template.objects.create(name=message, subject="s", html=source)
        response = api.post(f"/templates/{template.pk}/preview", {"email": "x@shop.example"})
        assert message in assert_error(response, 422, "invalid", {"template"})["message"]


def test_a_campaign_whose_template_blows_the_budget_for_its_first_contacts_does_not_start(api):
    customers = make_list()
    for number in range(7):
        make_contact(f"c{number}@shop.example", contact_list=customers)
    make_contact("big@shop.example", contact_list=customers, attributes={"loop": True})
    campaign = make_campaign(
        lists=[customers],
        html="<p>Hi</p>{% if contact.attributes.loop %}\n" + NESTED_LOOPS + "{% endif %}",
    )
    # The first contacts render: it starts, and the one it fails for fails alone.
    assert api.post(f"/campaigns/{campaign.pk}/start").json()["status"] == "sending"

    first = make_contact("first@shop.example", attributes={"loop": True})
    second = make_campaign(lists=[make_list("Few")], html=campaign.html)
    second.lists.get().memberships.create(contact=first)
    error = assert_error(api.post(f"/campaigns/{second.pk}/start"), 422, "invalid", {"content"})
    assert error["fields"]["content"] == [
        "the message cannot be rendered for first@shop.example: html: the template ran past "
        "its budget of 100,000 steps (line 2)"
    ]
    second.refresh_from_db()
    assert second.status == "draft"
