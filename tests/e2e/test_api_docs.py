"""The API's interactive docs work offline: every asset comes from our server, and a token
made on the Settings page authorizes a call from the docs page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_make_a_token_then_call_the_api_from_its_docs_with_nothing_from_elsewhere(
    logged_in_page, live_server, redis_db
):
    page = logged_in_page
    page.goto("/settings/api-tokens/")
    page.get_by_label("Name").fill("docs page")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("New API token").input_value()
    assert secret.startswith("edm_")

    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/api/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() >= 40

    page.locator(".auth-wrapper .authorize").click()
    page.locator(".auth-container input").fill(secret)
    page.locator(".auth-btn-wrapper .authorize").click()
    page.locator(".auth-btn-wrapper .btn-done").click()
    operation = page.locator("#operations-account-edm_rest_account_me")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table .highlight-code")).to_contain_text(
        '"username": "marketer"'
    )

    ours = urlsplit(live_server.url).netloc
    elsewhere = [url for url in requested if urlsplit(url).netloc not in {ours, ""}]
    assert elsewhere == []
    assert any(url.endswith("/static/ninja/swagger-ui-bundle.js") for url in requested)
