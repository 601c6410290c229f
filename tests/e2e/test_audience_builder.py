"""Browser journey of the audience builder: conditions built in the campaign editor narrow the
ticked lists with a live count, are saved as the campaign's segment, and a saved segment
chosen in another campaign loads its conditions."""

import re

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign
from tests.factories import make_contact, make_list

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_conditions_narrow_the_lists_with_a_live_count_and_become_the_segment(logged_in_page):
    page = logged_in_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    customers = make_list("Customers")
    make_contact(
        "ann@example.com", contact_list=customers, attributes={"city": "Berlin", "age": "34"}
    )
    make_contact(
        "bob@example.com", contact_list=customers, attributes={"city": "Berlin", "age": "17"}
    )
    make_contact("cy@example.com", contact_list=customers, attributes={"city": "Rome", "age": "40"})
    make_contact("dora@example.com", attributes={"city": "Berlin"})  # on no list

    page.goto("/campaigns/new/")
    page.get_by_label("Name", exact=True).fill("Berlin adults")
    page.get_by_label("From address").fill("news@shop.example")
    page.get_by_label("Subject", exact=True).fill("Hi")
    page.get_by_role("group", name="Send to").get_by_label("Customers").check()
    size = page.locator("[data-audience-size]")
    expect(size).to_have_text("3")

    builder = page.locator("[data-segment-builder]")
    builder.get_by_role("button", name="Add condition").click()
    first = builder.locator(".segment-condition").nth(0)
    first.get_by_label("attribute name").fill("city")
    first.get_by_label("value").fill("Berlin")
    expect(size).to_have_text("2")

    builder.get_by_role("button", name="Add condition").click()
    second = builder.locator(".segment-condition").nth(1)
    second.get_by_label("attribute name").fill("age")
    second.get_by_label("operator").select_option("between")
    second.get_by_label("min").fill("18")
    expect(size).to_have_text("1")

    builder.locator(".segment-head").first.get_by_label("match").select_option("any")
    expect(size).to_have_text("3")
    builder.locator(".segment-head").first.get_by_label("match").select_option("all")
    expect(size).to_have_text("1")

    page.get_by_role("button", name="Create draft").click()
    campaign = Campaign.objects.get()
    expect(page).to_have_url(re.compile(rf"/campaigns/{campaign.pk}/$"))
    expect(page.locator(".campaign-facts [data-audience-size]")).to_have_text("1")
    segment = campaign.segment
    assert segment.name == "Berlin adults: audience"
    assert segment.definition["conditions"][1] == {
        "field": "attribute",
        "key": "age",
        "op": "between",
        "value": {"min": 18.0},
    }

    page.goto("/campaigns/new/")
    page.get_by_role("group", name="Send to").get_by_label("Customers").check()
    expect(size).to_have_text("3")
    page.get_by_label("Only those in the segment").select_option(str(segment.pk))
    expect(builder.locator(".segment-condition")).to_have_count(2)
    expect(size).to_have_text("1")
    assert errors == []
