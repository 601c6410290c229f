"""The templates section: index, editor, errors and warnings, delete, duplicate, live preview."""

import re

import pytest
from django.urls import reverse

from campaigns.models import Template
from campaigns.templating import Content
from delivery.message import (
    CampaignMessage,
    Recipient,
    Sender,
    compile_message,
    render_recipient,
)
from delivery.views.outbox import UNTRUSTED_HTML_POLICY
from tests.factories import make_campaign, make_contact, make_list

pytestmark = pytest.mark.django_db

SLOT = "0123456789abcdef0123456789abcdef"


def template_data(**fields):
    data = {"name": "Welcome", "layout": "", "subject": "Hi", "html": "<p>Hi</p>", "text": ""}
    return data | fields


def preview(client, **fields):
    data = {"slot": SLOT, "kind": "message", "subject": "", "html": "", "text": ""} | fields
    return client.post(reverse("campaigns:template_preview"), data).json()


def test_a_template_is_created_listed_and_opened(admin_client):
    response = admin_client.post(
        reverse("campaigns:template_create"),
        template_data(
            subject="你好 {{ contact.name }}", html="<p>{{ contact.attributes.city }}</p>"
        ),
    )
    template = Template.objects.get(name="Welcome")
    assert response.status_code == 302 and response["Location"] == template.get_absolute_url()
    assert (template.kind, template.subject) == ("message", "你好 {{ contact.name }}")
    index = admin_client.get(reverse("campaigns:template_index")).content.decode()
    assert f'href="{template.get_absolute_url()}">Welcome</a>' in index
    page = admin_client.get(template.get_absolute_url()).content.decode()
    assert "你好 {{ contact.name }}" in page


def test_a_syntax_error_is_shown_with_line_and_column_and_nothing_is_saved(admin_client):
    html = "<p>Hello</p>\n<p>{{ contact.name </p>\n"
    response = admin_client.post(reverse("campaigns:template_create"), template_data(html=html))
    assert response.status_code == 200
    assert not Template.objects.exists()
    assert response.context["problems"]["html"][0].line == 2
    page = response.content.decode()
    assert re.search(
        r'data-problems-for="html"[^>]*>\s*<li class="problem error" data-line="2">'
        r"line 2, column \d+: ",
        page,
    )
    assert "Not saved: fix the errors shown next to the fields." in page
    assert "{{ contact.name &lt;/p&gt;" in page  # the source is kept as typed, escaped


def test_an_edit_with_an_error_leaves_the_saved_template_unchanged(admin_client):
    template = Template.objects.create(name="T", subject="Fine", html="<p>ok</p>")
    admin_client.post(template.get_absolute_url(), template_data(name="T", subject="{% if %}"))
    template.refresh_from_db()
    assert template.subject == "Fine"


def test_unknown_variables_are_warned_about_after_saving(admin_client):
    response = admin_client.post(
        reverse("campaigns:template_create"),
        template_data(html="<p>{{ contact.nmae }} {{ coupon }}</p>"),
        follow=True,
    )
    page = response.content.decode()
    assert Template.objects.filter(name="Welcome").exists()
    assert "Saved, with warnings shown next to the fields." in page
    assert "line 1, column 15: contact has no field &#x27;nmae&#x27;" in page
    assert "unknown variable &#x27;coupon&#x27;" in page
    assert 'class="problem warning" data-line="1"' in page


def test_a_taken_name_is_refused(admin_client):
    Template.objects.create(name="Welcome", html="x")
    response = admin_client.post(reverse("campaigns:template_create"), template_data())
    assert "A template named “Welcome” already exists." in response.content.decode()
    assert Template.objects.count() == 1


def test_a_layout_needs_exactly_one_content_and_is_created_as_a_layout(admin_client):
    url = reverse("campaigns:template_create") + "?kind=layout"
    bad = admin_client.post(url, template_data(name="Frame", html="<div>no slot</div>"))
    assert "a layout must print {{ content }} exactly once" in bad.content.decode()
    admin_client.post(url, template_data(name="Frame", html="<div>{{ content }}</div>"))
    assert Template.objects.get(name="Frame").kind == "layout"


def test_a_layout_in_use_cannot_be_deleted_and_the_page_says_why(admin_client):
    layout = Template.objects.create(name="Frame", kind="layout", html="<b>{{ content }}</b>")
    Template.objects.create(name="Newsletter", html="<p>x</p>", layout=layout)
    make_campaign(lists=[make_list()], name="Spring", layout=layout)
    response = admin_client.post(
        reverse("campaigns:template_delete", args=[layout.pk]), follow=True
    )
    assert Template.objects.filter(pk=layout.pk).exists()
    assert (
        "“Frame” is the layout of “Newsletter”, “Spring” and cannot be deleted while they use it."
        in response.content.decode()
    )


def test_an_unused_template_is_deleted_and_campaigns_keep_their_copy(admin_client):
    template = Template.objects.create(name="Old", html="<p>old</p>")
    campaign = make_campaign(lists=[make_list()], template=template, html="<p>old</p>")
    response = admin_client.post(reverse("campaigns:template_delete", args=[template.pk]))
    assert response["Location"] == reverse("campaigns:template_index")
    assert not Template.objects.filter(pk=template.pk).exists()
    campaign.refresh_from_db()
    assert (campaign.template, campaign.html) == (None, "<p>old</p>")


def test_duplicating_twice_gives_free_names_and_the_same_content(admin_client):
    template = Template.objects.create(name="Promo", subject="S", html="<p>h</p>", text="t")
    url = reverse("campaigns:template_duplicate", args=[template.pk])
    admin_client.post(url)
    response = admin_client.post(url)
    names = sorted(Template.objects.values_list("name", flat=True))
    assert names == ["Promo", "Promo (copy 2)", "Promo (copy)"]
    copy = Template.objects.get(name="Promo (copy 2)")
    assert response["Location"] == copy.get_absolute_url()
    assert (copy.subject, copy.html, copy.text) == ("S", "<p>h</p>", "t")


def test_the_preview_is_what_delivery_renders_for_the_chosen_contact(admin_client, settings):
    contact = make_contact(
        "li.na@example.com", name="李娜", attributes={"city": "上海"}, contact_list=make_list()
    )
    html = (
        "<style>p { color: red; }</style><p>{{ contact.name }}, {{ contact.attributes.city }}</p>"
    )
    layout = Template.objects.create(
        name="Frame",
        kind="layout",
        html="<style>div { margin: 0; }</style><div>{{ content }}</div>",
    )
    data = preview(
        admin_client,
        subject="你好 {{ contact.name }}",
        html=html,
        layout=layout.pk,
        contact=contact.pk,
    )
    assert data["ok"] and data["subject"] == "你好 李娜"
    expected = render_recipient(
        compile_message(
            CampaignMessage(
                campaign_id=0,
                campaign_name="",
                content=Content("你好 {{ contact.name }}", html, "", layout.html),
                sender=Sender("", "preview@example.com"),
                public_url=settings.EDM_PUBLIC_URL,
                bounce_domain=settings.EDM_BOUNCE_DOMAIN,
                secret=settings.SECRET_KEY,
            )
        ),
        Recipient(0, contact.pk, contact.email, contact.name, contact.attributes),
    )
    assert data["text"] == expected.text
    served = admin_client.get(data["html_url"])
    assert served.content.decode() == expected.html
    assert 'style="color: red;"' in expected.html  # the CSS was inlined, as in sent mail
    assert "李娜, 上海" in expected.html


def test_the_preview_html_is_served_sandboxed(admin_client):
    data = preview(admin_client, html="<p>x</p><script>alert(1)</script>")
    served = admin_client.get(data["html_url"])
    assert served["Content-Security-Policy"] == UNTRUSTED_HTML_POLICY
    assert served["X-Frame-Options"] == "SAMEORIGIN"
    assert served["Content-Type"] == "text/html; charset=utf-8"
    page = admin_client.get(reverse("campaigns:template_create")).content.decode()
    assert '<iframe sandbox="" src="about:blank"' in page


def test_the_preview_reports_syntax_errors_by_field_and_renders_nothing(admin_client):
    data = preview(admin_client, subject="{{ contact.name", html="<p>\n{% for %}</p>")
    assert data["ok"] is False and "html_url" not in data
    assert data["problems"]["subject"][0]["line"] == 1
    assert data["problems"]["html"][0]["line"] == 2


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ contact['__class__'] }}",
        "{{ 9 ** 99999 }}",
    ],
)
def test_sandbox_escapes_in_the_preview_are_errors_never_results(admin_client, escape):
    data = preview(admin_client, html=f"<p>{escape}</p>")
    assert data["ok"] is False
    assert "html_url" not in data and "subject" not in data
    assert data.get("problems") or "SecurityError" in data["render_error"]


def test_a_layout_is_previewed_around_a_sample_body(admin_client):
    data = preview(admin_client, kind="layout", html="<main>{{ content }}</main>")
    html = admin_client.get(data["html_url"]).content.decode()
    assert html.startswith("<main><h1>The message goes here</h1>")
    broken = preview(admin_client, kind="layout", html="<main>{{ content }</main>")
    assert broken["problems"]["html"][0]["line"] == 1


def test_the_sample_contact_is_used_when_none_is_chosen(admin_client):
    data = preview(admin_client, subject="Hi {{ contact.name }} <{{ contact.email }}>")
    assert data["subject"] == "Hi Alex <alex@example.com>"


def test_an_expired_or_malformed_preview_slot_is_not_found(admin_client):
    missing = reverse("campaigns:template_preview_html", args=["f" * 32])
    assert admin_client.get(missing).status_code == 404
    bad = admin_client.post(reverse("campaigns:template_preview"), {"slot": "../x"})
    assert bad.status_code == 400


def test_contacts_to_preview_for_are_found_by_email_prefix_on_a_list(admin_client):
    customers, others = make_list("Customers"), make_list("Others")
    make_contact("Anna@example.com", contact_list=customers, name="Anna")
    make_contact("anton@example.com", contact_list=customers)
    make_contact("andy@example.com", contact_list=others)
    make_contact("bob@example.com", contact_list=customers)
    url = reverse("campaigns:template_preview_contacts")

    def emails(**params):
        return [c["email"] for c in admin_client.get(url, params).json()["contacts"]]

    # Every spelling: "an" finds Anna@ too (addresses compare without case).
    assert emails(q="an") == ["andy@example.com", "Anna@example.com", "anton@example.com"]
    assert emails(q="An", list=customers.pk) == ["Anna@example.com", "anton@example.com"]
    assert emails(list=others.pk) == ["andy@example.com"]
    assert emails(q="zz") == []


def test_template_pages_need_a_login_and_mark_the_templates_section(client, admin_client):
    template = Template.objects.create(name="T", html="x")
    for url in [
        reverse("campaigns:template_index"),
        reverse("campaigns:template_create"),
        template.get_absolute_url(),
    ]:
        assert client.get(url)["Location"].startswith("/login/")
        html = admin_client.get(url).content.decode()
        assert 'href="/templates/" class="active" aria-current="page">Templates</a>' in html
    assert client.post(reverse("campaigns:template_preview"), {}).status_code == 302
    assert client.post(reverse("campaigns:template_delete", args=[template.pk])).status_code == 302
    assert Template.objects.filter(pk=template.pk).exists()


def test_the_preview_returns_what_saving_would_warn_about(admin_client):
    data = preview(admin_client, html="<p>{{ coupon }}</p>", subject="{{ contact.nmae }}")
    assert data["ok"]
    assert data["warnings"] == {
        "subject": [{"line": 1, "column": 12, "message": "contact has no field 'nmae'"}],
        "html": [{"line": 1, "column": 7, "message": "unknown variable 'coupon'"}],
    }


NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
DEEP = {
    "5000 parentheses": "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
    "3000 nested ifs": "{% if 1 %}" * 3000 + "{% endif %}" * 3000,
}


def test_a_preview_of_two_nested_range_loops_answers_with_the_budget_error(admin_client):
    data = preview(admin_client, subject="Hi", html="<p>Hi</p>\n" + NESTED_LOOPS)
    assert data == {
        "ok": False,
        "render_error": "html: the template ran past its budget of 100,000 steps (line 2)",
    }


def test_a_preview_of_the_join_memory_bomb_answers_with_the_size_error(admin_client):
    data = preview(admin_client, subject="Hi", html="{{ (['x' * 100000] * 3000)|join }}")
    assert data["ok"] is False
    assert "longer than the limit of 2,097,152" in data["render_error"]


@pytest.mark.parametrize("source", DEEP.values(), ids=DEEP.keys())
def test_a_deeply_nested_template_is_a_form_error_not_a_500(admin_client, source):
    response = admin_client.post(reverse("campaigns:template_create"), template_data(html=source))
    assert response.status_code == 200
    assert "nests more than 32 levels" in response.context["problems"]["html"][0].message
    assert not Template.objects.exists()
    data = preview(admin_client, subject="Hi", html=source)
    assert data["ok"] is False
    assert "nests more than 32 levels" in data["problems"]["html"][0]["message"]
