"""Browser journeys of the Settings and Delivery pages: a sender domain, a site's limits."""

import pytest
from playwright.sync_api import expect

from delivery import dkim
from delivery.limits import Rate
from delivery.models import SenderDomain
from delivery.sites import site_config

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_add_a_sender_domain_and_copy_its_dkim_record(logged_in_page):
    page = logged_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_text("No sender domain has a DKIM key yet")).to_be_visible()

    page.get_by_label("Sender domain").fill("localhost")
    page.get_by_role("button", name="Add domain and make a DKIM key").click()
    expect(page.locator(".errorlist")).to_contain_text("is not a domain mail can be sent from")

    page.get_by_label("Sender domain").fill("News.Shop.example")
    page.get_by_role("button", name="Add domain and make a DKIM key").click()

    expect(page.get_by_role("heading", name="news.shop.example")).to_be_visible()
    sender = SenderDomain.objects.get()
    record = dkim.dns_record(sender.private_key_pem, domain=sender.domain, selector=sender.selector)
    expect(page.locator("#dkim-name")).to_have_text(
        f"{sender.selector}._domainkey.news.shop.example"
    )
    expect(page.locator("#dkim-value")).to_have_text(record.value)
    expect(page.locator("#dkim-strings")).to_have_text(record.zone_text)
    page.locator("[data-copy=dkim-value]").click()
    expect(page.locator("[data-copy=dkim-value]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == record.value
    expect(page.get_by_role("button", name="Check DNS")).to_be_visible()

    page.get_by_role("link", name="Settings").first.click()
    row = page.get_by_role("row", name="news.shop.example")
    expect(row).to_contain_text(sender.selector)
    expect(row).to_contain_text("not checked")


def test_edit_a_sites_limits_and_see_them_applied(logged_in_page):
    page = logged_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Delivery").click()
    expect(page.get_by_role("heading", name="Delivery")).to_be_visible()

    page.get_by_role("searchbox", name="Site").fill("QQ.com")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Configure qq.com").click()
    expect(page.get_by_role("link", name="Tencent QQ Mail / Exmail preset")).to_be_visible()
    expect(page.locator("[data-limit=max_connections]")).to_have_text("3")

    page.get_by_label("Maximum connections").fill("2")
    page.get_by_label("Message rate").fill("every minute")
    page.get_by_role("button", name="Save limits").click()
    expect(page.locator(".errorlist")).to_contain_text("is not a rate like")

    page.get_by_label("Message rate").fill("30/min")
    page.get_by_label("TLS policy").select_option("required")
    page.get_by_role("button", name="Save limits").click()

    expect(page.get_by_text("Limits of qq.com saved.")).to_be_visible()
    expect(page.locator("[data-limit=max_connections]")).to_have_text("2")
    expect(page.locator("[data-limit=rate]")).to_have_text("30/min")
    expect(page.locator("[data-limit=tls_policy]")).to_have_text("required")
    config = site_config("qq.com")
    assert (config.limits.max_connections, config.limits.rate) == (2, Rate(30, 60))
    assert config.tls_policy == "required"

    page.get_by_role("link", name="Delivery").first.click()
    row = page.locator("tr[data-site='qq.com']")
    expect(row).to_contain_text("0 / 2")
    expect(row).to_contain_text("30/min")
    expect(row).to_contain_text("+ overrides")
