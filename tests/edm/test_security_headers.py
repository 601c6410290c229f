"""Headers every page is sent with: the Content-Security-Policy (edm/csp.py) and Django's
SecurityMiddleware ones. tests/e2e/test_csp.py checks in Chromium that the pages work under it;
the Outbox's and previews' own stricter policies are held by their tests
(e.g. test_the_preview_html_is_served_sandboxed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edm.csp import POLICY

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PAGES = ["/", "/lists/", "/campaigns/", "/templates/", "/delivery/", "/bounces/", "/settings/"]

# What a Content-Security-Policy without 'unsafe-inline' refuses to run or apply.
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>"),
    "event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "<style> element": re.compile(r"<style\b", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


@pytest.mark.parametrize("path", PAGES)
def test_dashboard_pages_refuse_inline_scripts_and_styles(admin_client, path):
    policy = admin_client.get(path)["Content-Security-Policy"]
    assert policy == POLICY
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe" not in policy


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_the_login_pages_have_the_policy_too(client, path):
    assert client.get(path)["Content-Security-Policy"] == POLICY


def test_no_template_has_inline_script_or_style_the_policy_would_block():
    found = [
        f"{template.relative_to(TEMPLATES)}: {what}"
        for template in sorted(TEMPLATES.rglob("*.html"))
        for what, pattern in INLINE.items()
        if pattern.search(template.read_text())
    ]
    assert found == []


def test_pages_say_nosniff_same_origin_referrer_and_sameorigin_frames(admin_client):
    response = admin_client.get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    # SAMEORIGIN, not DENY: the editors' previews are our own pages in iframes.
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
