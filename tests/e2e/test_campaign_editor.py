"""Browser journey of issue 4: a template with a Chinese subject and an attribute, a syntax
error shown with its line, fixed, previewed for a chosen contact, then a campaign to two lists
minus an exclusion list with the right audience size."""

import re

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign, Membership, Template
from tests.factories import make_contact, make_list

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BROKEN = """<style>p { color: #c0392b; }</style>
<p>{{ contact.name }}，您好！</p>
<p>城市：{{ contact.attributes.city }</p>
"""
FIXED = BROKEN.replace("city }", "city }}")


def audience_lists():
    customers, newsletter, blocked = (
        make_list("Customers"),
        make_list("Newsletter"),
        make_list("Blocked"),
    )
    li_na = make_contact(
        "li.na@example.com", contact_list=customers, name="李娜", attributes={"city": "上海"}
    )
    Membership.objects.create(list=newsletter, contact=li_na)
    make_contact("wang.wei@example.com", contact_list=newsletter, name="王伟")
    make_contact("zhao@example.com", contact_list=customers, name="赵")
    excluded = make_contact("blocked@example.com", contact_list=customers)
    Membership.objects.create(list=blocked, contact=excluded)
    return li_na


def test_template_error_fix_preview_and_campaign_audience(logged_in_page):
    page = logged_in_page
    li_na = audience_lists()

    page.goto("/templates/")
    page.get_by_role("link", name="New template").first.click()
    page.get_by_label("Name", exact=True).fill("春季促销")
    page.get_by_label("Subject", exact=True).fill("{{ contact.name }}，春季特卖开始了")
    page.get_by_label("HTML", exact=True).fill(BROKEN)
    page.get_by_role("button", name="Create template").click()

    expect(page.get_by_text("Not saved: fix the errors shown next to the fields.")).to_be_visible()
    html_problems = page.locator("[data-problems-for=html] li.error")
    expect(html_problems.first).to_contain_text("line 3")
    expect(page.locator("[data-code-editor] .gutter .bad").first).to_have_text("3")
    assert not Template.objects.exists()

    page.get_by_label("HTML", exact=True).fill(FIXED)
    expect(html_problems).to_have_count(0)  # the live check agrees the source is fixed now
    page.get_by_role("button", name="Create template").click()
    expect(page.get_by_text("“春季促销” saved.")).to_be_visible()
    template = Template.objects.get(name="春季促销")

    page.get_by_label("Find a contact by email").fill("li")
    expect(page.get_by_label("Preview for")).to_have_value(str(li_na.pk))
    expect(page.locator("[data-preview-subject]")).to_have_text("李娜，春季特卖开始了")
    body = page.frame_locator("iframe[data-preview-html]")
    expect(body.get_by_text("城市：上海")).to_be_visible()
    expect(body.get_by_text("李娜，您好！")).to_have_attribute("style", re.compile("color"))
    page.get_by_role("button", name="Mobile").click()
    expect(page.locator("iframe[data-preview-html]")).to_have_css("width", "375px")

    page.get_by_role("link", name="New campaign from it").click()
    page.get_by_label("From address").fill("news@shop.example")
    page.get_by_role("group", name="Send to").get_by_label("Customers").check()
    page.get_by_role("group", name="Send to").get_by_label("Newsletter").check()
    page.get_by_role("group", name="Except").get_by_label("Blocked").check()
    expect(page.locator("[data-audience-size]")).to_have_text("3")
    page.get_by_role("button", name="Create draft").click()

    campaign = Campaign.objects.get()
    expect(page).to_have_url(re.compile(rf"/campaigns/{campaign.pk}/$"))
    expect(page.locator(".campaign-facts [data-audience-size]")).to_have_text("3")
    expect(page.locator("[data-rendered-subject]")).to_have_text(re.compile("春季特卖开始了$"))
    assert (campaign.template, campaign.subject) == (template, template.subject)
