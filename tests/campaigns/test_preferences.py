"""The preference centre on the unsubscribe page: stay, leave some or all, correct the name."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from campaigns import links
from campaigns.links import LinkTarget
from campaigns.models import Consent, Contact, ContactList, Membership, Suppression, Unsubscribe
from delivery.models import CampaignStats
from tests.factories import make_campaign, make_contact, make_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(settings):
    """A contact on Newsletter and Offers (subscribed) and Events (left), a campaign to
    Newsletter, its unsubscribe link, and a list the contact was never on."""
    newsletter, offers, events = make_list("Newsletter"), make_list("Offers"), make_list("Events")
    make_list("Staff only")
    contact = make_contact("li.na@example.com", contact_list=newsletter, name="Li Na")
    Membership.objects.create(list=offers, contact=contact)
    Membership.objects.create(list=events, contact=contact, status="unsubscribed")
    campaign = make_campaign(lists=[newsletter], status="finished")
    url = links.unsubscribe_url(
        settings.EDM_PUBLIC_URL, LinkTarget(campaign.pk, contact.pk), settings.SECRET_KEY
    )
    return contact, campaign, urlsplit(url).path


def statuses(contact):
    return dict(contact.memberships.values_list("list__name", "status"))


def ids(*names):
    return [
        str(pk) for pk in ContactList.objects.filter(name__in=names).values_list("pk", flat=True)
    ]


def save(path, **data):
    browser = Client(enforce_csrf_checks=True)
    browser.get(path)
    data["csrfmiddlewaretoken"] = browser.cookies["csrftoken"].value
    return browser.post(f"{path}preferences/", data)


def test_the_page_shows_the_contacts_own_lists_only_with_the_subscribed_ones_ticked(client, person):
    contact, _, path = person
    html = client.get(path).content.decode()
    assert "Manage your subscriptions" in html
    for name in ("Newsletter", "Offers", "Events"):
        assert name in html
    assert "Staff only" not in html
    newsletter, offers, events = (ids(name)[0] for name in ("Newsletter", "Offers", "Events"))
    assert f'value="{newsletter}" checked' in html and f'value="{offers}" checked' in html
    assert f'value="{events}">' in html
    assert 'value="Li Na"' in html
    assert statuses(contact) == {
        "Newsletter": "subscribed",
        "Offers": "subscribed",
        "Events": "unsubscribed",
    }


def test_unticking_a_list_leaves_it_through_the_unsubscribe_record_and_keeps_the_others(person):
    contact, campaign, path = person
    done = save(path, lists=ids("Newsletter"), name="Li Na", action="save")
    assert done.status_code == 200 and "You left: Offers" in done.content.decode()
    assert statuses(contact) == {
        "Newsletter": "subscribed",
        "Offers": "unsubscribed",
        "Events": "unsubscribed",
    }
    record = Unsubscribe.objects.get()
    assert (record.campaign, record.method, record.scope) == (campaign, "preferences", "list")
    assert CampaignStats.objects.get(campaign=campaign).unsubscribed == 1


def test_ticking_a_list_left_before_rejoins_it_with_a_consent_record(person):
    contact, _, path = person
    save(path, lists=ids("Newsletter", "Offers", "Events"), name="Li Na", action="save")
    assert set(statuses(contact).values()) == {"subscribed"}
    consent = Consent.objects.get()
    assert (consent.list.name, consent.method) == ("Events", "preferences")
    assert consent.confirmed_at is not None and not Unsubscribe.objects.exists()


def test_a_list_the_contact_was_never_on_cannot_be_joined(person):
    contact, _, path = person
    save(path, lists=ids("Newsletter", "Offers", "Staff only"), name="Li Na", action="save")
    assert "Staff only" not in statuses(contact)


def test_leave_all_unsubscribes_from_everything(person):
    contact, _, path = person
    save(path, lists=ids("Newsletter"), name="Li Na", action="leave-all")
    contact.refresh_from_db()
    assert contact.status == "unsubscribed"
    assert Suppression.objects.get().value == "li.na@example.com"
    assert Unsubscribe.objects.get().scope == "all"


def test_the_name_is_corrected(person):
    contact, _, path = person
    save(path, lists=ids("Newsletter", "Offers"), name="  Li Na (李娜) ", action="save")
    contact.refresh_from_db()
    assert contact.name == "Li Na (李娜)"
    assert statuses(contact)["Offers"] == "subscribed"


def test_the_preferences_form_is_csrf_protected_and_a_forged_token_is_not_found(person):
    _, _, path = person
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(f"{path}preferences/", {"action": "leave-all"}).status_code == 403
    forged = path.replace(path.strip("/").split("-")[-1], "A" * 16)
    assert Client().post(f"{forged}preferences/", {"action": "leave-all"}).status_code == 404
    assert Contact.objects.get().status == "enabled"


def test_one_click_keeps_unsubscribing_from_the_campaigns_lists_only(person):
    contact, _, path = person
    response = Client().post(path, "List-Unsubscribe=One-Click", content_type="text/plain")
    assert response.status_code == 200
    assert statuses(contact)["Newsletter"] == "unsubscribed"
    assert statuses(contact)["Offers"] == "subscribed"
