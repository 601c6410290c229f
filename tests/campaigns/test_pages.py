"""The list, contact and suppression pages: counts, keyset pages, search, hand edits, export."""

import csv
import io

import pytest
from django.urls import reverse

from campaigns.models import Contact, Membership, Suppression
from campaigns.services import contacts as contact_services
from tests.factories import make_contact, make_list

pytestmark = pytest.mark.django_db


def test_lists_page_counts_contacts_by_status(admin_client):
    contact_list = make_list("Customers")
    for i in range(4):
        make_contact(f"c{i}@example.com", contact_list=contact_list)
    contact_services.membership_unsubscribe(
        contact_list=contact_list, contact=Contact.objects.get(email="c0@example.com")
    )
    contact_services.contact_mark_bounced(email="c1@example.com", source="test")
    html = admin_client.get(reverse("campaigns:list_index")).content.decode()
    row = html[html.index("Customers") :].split("</tr>")[0]
    cells = [c.split("</td>")[0].strip() for c in row.split('<td class="num">')[1:]]
    assert cells == ["4", "3", "1", "1", "0", "0"]  # total, subscribed, unsubscribed, bounced…


def test_creating_a_list_and_refusing_a_taken_name(admin_client):
    response = admin_client.post(
        reverse("campaigns:list_index"), {"name": "VIP", "description": ""}
    )
    assert response.status_code == 302
    again = admin_client.post(reverse("campaigns:list_index"), {"name": "VIP", "description": ""})
    assert "already exists" in again.content.decode()


def test_contacts_are_paged_by_email_without_offset(admin_client, django_assert_max_num_queries):
    contact_list = make_list()
    for i in range(120):
        make_contact(f"p{i:03d}@example.com", contact_list=contact_list)
    url = reverse("campaigns:list_contacts", args=[contact_list.pk])
    seen, params = [], {}
    while True:
        with django_assert_max_num_queries(8):
            response = admin_client.get(url, params)
        page = response.context["page"]
        seen += [m.contact.email for m in page.memberships]
        if page.next_after is None:
            break
        assert 'rel="next"' in response.content.decode()
        params = {"after": page.next_after}
    assert seen == sorted(f"p{i:03d}@example.com" for i in range(120))


def test_search_matches_email_and_name_prefixes_and_status(admin_client):
    contact_list = make_list()
    make_contact("zhang.wei@example.com", contact_list=contact_list, name="张伟")
    make_contact("Anna@example.com", contact_list=contact_list, name="Anna Berg")
    make_contact("bob@example.com", contact_list=contact_list, name="anna maria")
    make_contact("blocked@example.com", contact_list=contact_list, status="blocklisted")
    url = reverse("campaigns:list_contacts", args=[contact_list.pk])

    def emails(**params):
        return [m.contact.email for m in admin_client.get(url, params).context["page"].memberships]

    assert emails(q="anna") == ["Anna@example.com", "bob@example.com"]
    assert emails(q="张") == ["zhang.wei@example.com"]
    assert emails(q="zhang.") == ["zhang.wei@example.com"]
    assert emails(status="contact-blocklisted") == ["blocked@example.com"]
    assert emails(q="nobody") == []


def test_names_and_attributes_from_files_are_shown_escaped(admin_client):
    contact_list = make_list()
    make_contact(
        "x@example.com",
        contact_list=contact_list,
        name="<script>alert(1)</script>",
        attributes={"<b>key</b>": "<img src=x onerror=alert(2)>"},
    )
    html = admin_client.get(
        reverse("campaigns:list_contacts", args=[contact_list.pk])
    ).content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_add_edit_unsubscribe_blocklist_and_remove_by_hand(admin_client):
    contact_list = make_list()
    add_url = reverse("campaigns:list_contact_add", args=[contact_list.pk])
    response = admin_client.post(
        add_url, {"email": "New@Example.COM", "name": "Nu", "attributes": "city: Oslo"}
    )
    assert response.status_code == 302
    contact = Contact.objects.get(email="New@example.com")
    assert contact.attributes == {"city": "Oslo"}
    bad = admin_client.post(add_url, {"email": "nope", "name": "", "attributes": ""})
    assert "must have an @-sign" in bad.content.decode()

    edit = reverse("campaigns:contact_edit", args=[contact.pk])
    admin_client.post(
        edit, {"email": "new@example.com", "name": "New", "attributes": "city: Rome\nplan: pro"}
    )
    contact.refresh_from_db()
    assert (contact.email, contact.name, contact.attributes) == (
        "new@example.com",
        "New",
        {"city": "Rome", "plan": "pro"},
    )

    admin_client.post(
        reverse("campaigns:list_contact_unsubscribe", args=[contact_list.pk, contact.pk])
    )
    assert Membership.objects.get(contact=contact).status == "unsubscribed"
    admin_client.post(reverse("campaigns:contact_blocklist", args=[contact.pk]))
    contact.refresh_from_db()
    assert contact.status == "blocklisted"
    assert Suppression.objects.get(value="new@example.com").reason == "blocklisted"
    admin_client.post(reverse("campaigns:list_contact_remove", args=[contact_list.pk, contact.pk]))
    assert not Membership.objects.exists()
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_export_is_excel_friendly_and_disarms_formulas(admin_client):
    contact_list = make_list()
    make_contact(
        "a@example.com",
        contact_list=contact_list,
        name='=HYPERLINK("x")',
        attributes={"note": "+1", "城市": "上海"},
    )
    make_contact("b@example.com", contact_list=contact_list, name="-2", attributes={"note": "@x"})
    make_contact("skip@example.com", contact_list=contact_list, name="Skip")
    response = admin_client.get(
        reverse("campaigns:list_export", args=[contact_list.pk]), {"q": "a"}
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["email", "name", "contact status", "list status", "added", "note", "城市"]
    assert [r[:2] + r[5:] for r in rows[1:]] == [
        ["a@example.com", '\'=HYPERLINK("x")', "'+1", "上海"]
    ]
    everything = admin_client.get(reverse("campaigns:list_export", args=[contact_list.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ['\'=HYPERLINK("x")', "'-2", "Skip"]
    assert rows[2][5] == "'@x"


def test_suppression_list_adds_pasted_entries_searches_and_removes(admin_client):
    url = reverse("campaigns:suppression_index")
    pasted = "one@example.com\nTWO@Example.com, spam.example\n\nnot an address@\none@example.com"
    response = admin_client.post(url, {"entries": pasted}, follow=True)
    html = response.content.decode()
    assert "3 added, 0 were already suppressed." in html
    assert "Not added: address@" in html and "Not added: not" in html
    assert set(Suppression.objects.values_list("value", "scope")) == {
        ("one@example.com", "email"),
        ("two@example.com", "email"),  # stored by key: it blocks every spelling
        ("spam.example", "domain"),
    }
    found = admin_client.get(url, {"q": "spam"}).context["page"].suppressions
    assert [s.value for s in found] == ["spam.example"]
    admin_client.post(reverse("campaigns:suppression_remove", args=[found[0].pk]))
    assert not Suppression.objects.filter(value="spam.example").exists()


def test_lists_section_is_active_on_its_pages(admin_client):
    contact_list = make_list()
    for name, args in [
        ("campaigns:list_index", []),
        ("campaigns:suppression_index", []),
        ("campaigns:list_contacts", [contact_list.pk]),
        ("campaigns:list_import", [contact_list.pk]),
    ]:
        html = admin_client.get(reverse(name, args=args)).content.decode()
        assert 'href="/lists/" class="active" aria-current="page">Lists</a>' in html


@pytest.mark.django_db
def test_unsubscribed_from_this_list_and_unsubscribed_contacts_are_two_filters(admin_client):
    from campaigns.models import Contact, Membership
    from tests.factories import make_contact, make_list

    customers = make_list()
    left_list = make_contact("left@shop.example", contact_list=customers)
    Membership.objects.filter(contact=left_list).update(status="unsubscribed")
    make_contact("gone@shop.example", contact_list=customers, status=Contact.Status.UNSUBSCRIBED)

    def shown(status):
        url = f"/lists/{customers.pk}/contacts/?status={status}"
        html = admin_client.get(url).content.decode()
        return {e for e in ("left@shop.example", "gone@shop.example") if e in html}

    assert shown("unsubscribed") == {"left@shop.example"}
    assert shown("contact-unsubscribed") == {"gone@shop.example"}
