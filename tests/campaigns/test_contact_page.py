"""The contact page: status per list with dates, bounces and complaints, and the Data box
whose export and erase are recorded with the user who pressed them."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from campaigns.models import Consent, Contact, DataRightsAction, Suppression
from campaigns.selectors.data_rights import contact_data_export
from campaigns.services import contacts as contact_services
from campaigns.services.data_rights import contact_erase
from delivery.bounce_effects import Bounce, bounce_record
from tests.delivery import returns
from tests.factories import make_campaign, make_list

pytestmark = pytest.mark.django_db

JANE = "jane@example.com"


def bounced(contact: Contact, campaigns: int, *, complaint: bool = False) -> None:
    """`campaigns` sent campaigns, each bounced soft for the contact (the last one complained
    about instead, if `complaint`), recorded by the engine's bounce_record."""
    for index in range(campaigns):
        campaign = make_campaign(lists=[], name=f"Campaign {index}", status="sending")
        delivery = returns.sent_delivery(campaign, contact)
        if complaint and index == campaigns - 1:
            bounce = Bounce(
                delivery.pk, "complaint", "mail", "arf:1", "feedback", feedback_type="fraud"
            )
        else:
            bounce = Bounce(
                delivery.pk,
                "bounce",
                "mail",
                f"mail:{index}",
                "mailboxfull",
                code=552,
                status="5.2.2",
                diagnostic="552 5.2.2 Mailbox full",
            )
        bounce_record([bounce])


def page(client, contact: Contact) -> str:
    response = client.get(reverse("campaigns:contact_edit", args=[contact.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_each_lists_status_with_its_dates(admin_client):
    news, offers = make_list("News"), make_list("Offers")
    jane = contact_services.contact_create(email=JANE, lists=[news, offers])
    contact_services.membership_unsubscribe(contact_list=offers, contact=jane)
    membership = offers.memberships.get(contact=jane)

    html = page(admin_client, jane)

    rows = {
        name: html[html.index(f'data-list="{item.pk}"') :].split("</tr>")[0]
        for name, item in (("News", news), ("Offers", offers))
    }
    assert "subscribed" in rows["News"] and "unsubscribed" not in rows["News"]
    assert "unsubscribed" in rows["Offers"]
    assert membership.updated_at.strftime("%Y-%m-%d %H:%M") in rows["Offers"]
    assert membership.created_at.strftime("%Y-%m-%d %H:%M") in rows["Offers"]
    assert "No consent recorded" in html  # added by hand: nothing to show


def test_the_page_lists_bounces_and_complaints_with_their_reasons_and_the_suppression(
    admin_client,
):
    jane = contact_services.contact_create(email=JANE)
    bounced(jane, 3, complaint=True)
    contact_services.contact_mark_complained(email=JANE, source="test")

    html = page(admin_client, jane)

    section = html[html.index('data-section="bounces"') :].split("</section>")[0]
    assert section.count("data-event=") == 3
    assert section.count("soft bounce") == 2 and "552 5.2.2 Mailbox full" in section
    assert "complaint" in section and "fraud" in section
    assert "Campaign 2" in section
    assert "Suppressed: complaint since" in html


def test_the_page_reads_a_bounded_number_of_queries_whatever_the_history(
    admin_client, django_assert_max_num_queries
):
    counts = []
    for index, size in enumerate((2, 30)):
        contact = contact_services.contact_create(
            email=f"c{index}@example.com",
            lists=[make_list(f"List {index}.{n}") for n in range(size)],
        )
        bounced(contact, size)
        with django_assert_max_num_queries(12) as queries:
            page(admin_client, contact)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_exporting_from_the_page_downloads_the_json_and_records_the_user(admin_client, admin_user):
    jane = contact_services.contact_create(email=JANE, name="Jane")

    response = admin_client.post(reverse("campaigns:contact_export", args=[jane.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"contact-{jane.pk}.json\"; filename*=UTF-8''contact-{jane.pk}.json"
    )
    document = json.loads(b"".join(response.streaming_content))
    assert (document["format"], document["contact"]["email"]) == ("edm.contact/1", JANE)
    action = DataRightsAction.objects.get()
    assert (action.kind, action.contact_id, action.by) == ("export", jane.pk, admin_user)
    assert "Data exported by admin" in page(admin_client, jane)


def test_erasing_from_the_page_asks_first_then_erases_and_records_the_user(
    admin_client, admin_user
):
    jane = contact_services.contact_create(email=JANE, lists=[make_list()])
    erase = reverse("campaigns:contact_erase", args=[jane.pk])
    html = page(admin_client, jane)
    form = html[html.index(f'action="{erase}"') :].split(">")[0]
    assert "data-confirm=" in form

    response = admin_client.post(erase)

    assert response.status_code == 302
    assert not Contact.objects.filter(pk=jane.pk).exists()
    assert Suppression.objects.get().scope == "hash"
    action = DataRightsAction.objects.get()
    assert (action.kind, action.contact_id, action.by) == ("erase", jane.pk, admin_user)
    followed = admin_client.get(response["Location"]).content.decode()
    assert f"Contact #{jane.pk} erased" in followed and JANE not in followed


def test_export_and_erase_refuse_a_get_and_change_nothing(admin_client):
    jane = contact_services.contact_create(email=JANE)
    for name in ("campaigns:contact_export", "campaigns:contact_erase"):
        assert admin_client.get(reverse(name, args=[jane.pk])).status_code == 405
    assert Contact.objects.filter(pk=jane.pk).exists()
    assert not DataRightsAction.objects.exists()


def test_adding_an_erased_address_by_hand_is_refused_on_the_form(admin_client, admin_user):
    news = make_list()
    admin_client.post(
        reverse("campaigns:contact_erase", args=[contact_services.contact_create(email=JANE).pk])
    )

    response = admin_client.post(
        reverse("campaigns:list_contact_add", args=[news.pk]),
        {"email": JANE.upper(), "name": "", "attributes": ""},
    )

    assert response.status_code == 200
    assert "erased at the person" in response.content.decode()
    assert not Contact.objects.exists()


def consent_to(contact: Contact, contact_list, **fields) -> Consent:
    return Consent.objects.create(
        contact=contact,
        list=contact_list,
        method=Consent.Method.FORM,
        text="Yes, send me the newsletter.",
        client_address="192.0.2.7",
        user_agent="Mozilla/5.0 (iPhone)",
        **fields,
    )


def test_the_page_and_the_export_show_what_the_contact_consented_to(admin_client):
    news = make_list("News")
    jane = contact_services.contact_create(email=JANE, lists=[news])
    consent = consent_to(jane, news)

    html = page(admin_client, jane)
    document = contact_data_export(jane)

    row = html[html.index(f'data-consent="{consent.pk}"') :].split("</tr>")[0]
    assert "Yes, send me the newsletter." in row and "192.0.2.7" in row
    assert "not confirmed" in row
    assert [(c["list"]["name"], c["text"], c["client_address"]) for c in document["consents"]] == [
        ("News", "Yes, send me the newsletter.", "192.0.2.7")
    ]


def test_erasing_a_contact_removes_their_consent_records():
    news = make_list("News")
    jane = contact_services.contact_create(email=JANE, lists=[news])
    consent_to(jane, news)

    contact_erase(jane)

    assert not Consent.objects.exists()
