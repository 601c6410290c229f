import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_log_in_see_dashboard_log_out_and_get_sent_back_to_login(page, user):
    page.goto("/campaigns/")
    assert "/login/?next=/campaigns/" in page.url

    page.fill("#id_username", "marketer")
    page.fill("#id_password", "wrong password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("didn't match")

    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/campaigns/")
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Overview", "Lists", "Campaigns", "Templates", "Delivery", "Bounces", "Settings"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()

    nav.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")
    page.goto("/lists/")
    assert "/login/?next=/lists/" in page.url
    expect(page.get_by_role("button", name="Log in")).to_be_visible()


def test_five_wrong_passwords_lock_the_login_and_the_page_says_for_how_long(page, user):
    page.goto("/login/")
    for _ in range(5):
        page.fill("#id_username", "marketer")
        page.fill("#id_password", "wrong password")
        with page.expect_response("**/login/"):
            page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("Too many failed logins")

    page.fill("#id_password", "correct horse battery")
    with page.expect_response("**/login/") as answer:
        page.click("button[type=submit]")
    assert answer.value.status == 429
    expect(page.get_by_role("alert")).to_contain_text("blocked for 15 minutes")
    page.goto("/campaigns/")
    assert "/login/?next=/campaigns/" in page.url
