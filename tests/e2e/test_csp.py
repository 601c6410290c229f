"""The dashboard works under its Content-Security-Policy (edm/csp.py), and the policy stops
what an injection would add: Chromium reports every refusal on the console."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import ContactList
from tests.factories import make_campaign, make_list
from tests.report_factories import planned_campaign, record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def refusals(page) -> list[str]:
    """Collects Chromium's console reports of what the policy refused, from now on."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def test_an_injected_inline_handler_and_style_do_nothing_on_a_dashboard_page(logged_in_page):
    page = logged_in_page
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(
            """document.querySelector("main").insertAdjacentHTML("beforeend",
                '<img src="/static/favicon.svg" onload="window.injectedRan = true">' +
                '<p id="injected" style="display: none">injected</p>')"""
        )
    assert page.evaluate("window.injectedRan") is None
    expect(page.locator("#injected")).to_be_visible()  # its style attribute was refused


def test_every_dashboard_page_renders_and_runs_its_scripts_without_a_refusal(
    logged_in_page, redis_db
):
    page = logged_in_page
    audience = make_list("Customers")
    draft = make_campaign(lists=[audience], name="Draft")
    sending = planned_campaign(["a@one.example", "b@one.example", "c@two.example"])
    record(sending, {"a@one.example": "sent", "c@two.example": "unknown"})
    seen = refusals(page)

    for path in [
        "/",
        "/lists/",
        reverse("campaigns:list_detail", args=[audience.pk]),
        "/campaigns/",
        reverse("campaigns:campaign_detail", args=[draft.pk]),
        reverse("campaigns:campaign_edit", args=[draft.pk]),
        "/templates/",
        reverse("campaigns:template_create"),
        "/delivery/",
        "/delivery/outbox/",
        "/bounces/",
        "/settings/",
        "/settings/api-tokens/",
        "/admin/login/",
    ]:
        page.goto(path)
        expect(page.locator("body")).to_be_visible()

    # The report's chart (uPlot) is drawn and its bars are filled, by script and SVG.
    page.goto(reverse("campaigns:campaign_report", args=[sending.pk]))
    expect(page.locator(".uplot canvas").first).to_be_visible()
    bar = page.get_by_role("progressbar", name="Campaign progress")
    progress = float(bar.get_attribute("aria-valuenow")) / 100
    done = bar.locator("rect").bounding_box()["width"] / bar.bounding_box()["width"]
    assert progress > 0
    assert done == pytest.approx(progress, abs=0.01)
    assert page.locator("[data-reason] .bar rect").first.bounding_box()["width"] > 0

    # The template editor's live preview fills its sandboxed iframe.
    page.goto(reverse("campaigns:template_create"))
    page.get_by_label("Subject", exact=True).fill("Hello")
    page.get_by_label("HTML", exact=True).fill("<p>Preview me</p>")
    expect(page.frame_locator("iframe[data-preview-html]").locator("p")).to_have_text("Preview me")

    page.goto("/api/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    assert seen == []


def test_deleting_a_list_still_asks_first(logged_in_page):
    page = logged_in_page
    audience = make_list("Keep me")
    asked: list[str] = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    page.goto(reverse("campaigns:list_edit", args=[audience.pk]))
    page.get_by_role("button", name="Delete list").click()
    expect(page.get_by_role("button", name="Delete list")).to_be_visible()
    assert asked == ["Delete this list?"]
    assert ContactList.objects.filter(pk=audience.pk).exists()
