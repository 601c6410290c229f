"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

A failing test leaves a full-page screenshot in test-artifacts/<test name>.png (the report
hook that tells a failure is in tests/conftest.py). Tests that take the screenshots of
docs/screenshots/ save them with the `screenshot` fixture: to $EDM_SCREENSHOTS_DIR when set,
to the test's temporary directory otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the live server's ORM calls from
# test code are still synchronous, so Django's async-safety guard must stand aside here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]


def chromium_path() -> str:
    found = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        pytest.fail("Browser tests need Debian's chromium: apt-get install chromium", False)
    return found


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("marketer", password="correct horse battery")


@pytest.fixture
def logged_in_page(page, user):
    page.goto("/login/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    return page


@pytest.fixture
def screenshot(tmp_path):
    """Call it to save a full-page screenshot: `screenshot(page, "overview")`."""
    folder = Path(os.environ.get("EDM_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = folder / f"{name}.png"
        # "disabled" finishes CSS transitions (progress bars) instead of catching them midway.
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    return save
