"""The dashboard's sign-up form pages, and the snippet they hand out working from elsewhere."""

from __future__ import annotations

import re
import time

import django_rq
import pytest

from campaigns.models import SignupForm
from campaigns.signup_tokens import form_stamp
from tests.factories import make_list

pytestmark = pytest.mark.django_db


def test_a_marketer_creates_a_form_and_gets_its_hosted_url_and_snippet(admin_client, settings):
    newsletter, offers = make_list("Newsletter"), make_list("Offers")
    created = admin_client.post(
        "/forms/new/",
        {
            "name": "Footer sign-up",
            "lists": [newsletter.pk, offers.pk],
            "visitor_chooses_lists": "on",
            "asks_name": "on",
            "attribute_lines": "city: Your city",
            "opt_in": "double",
            "consent_text": "Send me news.",
            "from_name": "Shop",
            "from_email": "news@shop.example",
            "active": "on",
        },
    )
    form = SignupForm.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/forms/{form.pk}/"
    assert form.attribute_fields == [{"key": "city", "label": "Your city"}]
    assert set(form.lists.all()) == {newsletter, offers}
    html = admin_client.get(f"/forms/{form.pk}/").content.decode()
    hosted = f"{settings.EDM_PUBLIC_URL}/f/{form.public_id}/"
    assert hosted in html
    snippet = re.search(r'<pre class="mono" id="embed-snippet">(.*?)</pre>', html, re.S).group(1)
    assert f"&lt;form method=&quot;post&quot; action=&quot;{hosted}&quot;" in snippet
    assert "&lt;script" not in snippet and "style=" not in snippet
    assert "name=&quot;website&quot;" in snippet and "name=&quot;stamp&quot;" in snippet
    assert "Footer sign-up" in admin_client.get("/forms/").content.decode()


def test_an_attribute_key_that_is_no_field_name_is_refused(admin_client):
    newsletter = make_list("Newsletter")
    page = admin_client.post(
        "/forms/new/",
        {
            "name": "Bad",
            "lists": [newsletter.pk],
            "attribute_lines": 'x" onfocus="alert(1): Label',
            "opt_in": "double",
            "consent_text": "Yes",
            "from_email": "news@shop.example",
        },
    )
    assert page.status_code == 200 and not SignupForm.objects.exists()
    assert "a key is 1 to 64 letters" in page.content.decode()


def test_the_snippet_posted_from_another_site_without_cookies_is_accepted(
    admin_client, client, redis_db, django_capture_on_commit_callbacks
):
    newsletter = make_list("Newsletter")
    form = SignupForm.objects.create(name="Footer", from_email="news@shop.example")
    form.lists.set([newsletter])
    # What the pasted snippet sends: its fields, with the stamp it was copied with.
    data = {"email": "ann@example.com", "name": "", "website": ""}
    data["stamp"] = form_stamp(form.public_id, time.time() - 60)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/f/{form.public_id}/", data, HTTP_ORIGIN="https://blog.example", REMOTE_ADDR="1.2.3.4"
        )
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    queue = django_rq.get_queue("transactional")
    assert [job.args[0]["email"] for job in queue.jobs] == ["ann@example.com"]
    queue.empty()
