"""What other parts of the product call: suppressed or not, bounce, complaint, unsubscribe."""

import pytest

from campaigns.models import Contact, Membership, Suppression
from campaigns.selectors.contacts import list_audience
from campaigns.selectors.suppressions import email_is_suppressed, suppression_find
from campaigns.services import contacts as contact_services
from campaigns.services.suppressions import suppression_add
from tests.factories import make_contact, make_list

pytestmark = pytest.mark.django_db


def test_an_address_is_suppressed_by_itself_or_its_domain():
    suppression_add(value="Ann@Example.com")
    suppression_add(value="@BÜCHER.de")
    assert email_is_suppressed("Ann@EXAMPLE.COM")
    assert not email_is_suppressed("anna@example.com")
    assert suppression_find("anyone@xn--bcher-kva.de").value == "bücher.de"
    assert not email_is_suppressed("not an address")


def test_a_suppressed_address_blocks_every_spelling_of_its_local_part():
    suppression_add(value="User@X.com")
    assert email_is_suppressed("user@x.com")
    assert email_is_suppressed("USER@x.com")
    assert Suppression.objects.get().value == "user@x.com"


def test_suppressed_address_keeps_a_contact_of_another_spelling_out_of_the_audience():
    customers = make_list()
    make_contact("USER7@sina.com", contact_list=customers)
    suppression_add(value="user7@Sina.com")
    assert list(list_audience(customers)) == []


def test_hard_bounce_to_another_spelling_bounces_the_contact():
    make_contact("USER7@sina.com")
    contact_services.contact_mark_bounced(email="user7@sina.com", source="bounce: 5.1.1")
    assert Contact.objects.get().status == "bounced"
    assert Suppression.objects.get().value == "user7@sina.com"


def test_complaint_from_another_spelling_unsubscribes_the_contact_everywhere():
    customers = make_list()
    make_contact("USER7@sina.com", contact_list=customers)
    contact_services.contact_mark_complained(email="user7@sina.com", source="arf")
    assert Contact.objects.get().status == "complained"
    assert Membership.objects.get().status == "unsubscribed"


def test_hard_bounce_suppresses_contact():
    make_contact("gone@example.com")
    contact_services.contact_mark_bounced(email="gone@example.com", source="bounce: 5.1.1")
    assert Contact.objects.get().status == "bounced"
    entry = Suppression.objects.get()
    assert (entry.value, entry.reason, entry.source) == (
        "gone@example.com",
        "bounced",
        "bounce: 5.1.1",
    )


def test_complaint_outranks_bounce_and_blocklist_outranks_both():
    contact = make_contact("x@example.com")
    contact_services.contact_mark_bounced(email="x@example.com", source="dsn")
    contact_services.contact_mark_complained(email="x@example.com", source="arf")
    assert Contact.objects.get().status == "complained"
    contact_services.contact_blocklist(contact=contact)
    contact_services.contact_mark_bounced(email="x@example.com", source="dsn")
    assert Contact.objects.get().status == "blocklisted"
    assert Suppression.objects.get().reason == "bounced"  # the first reason is kept


def test_bounce_for_an_address_without_contact_still_suppresses():
    contact_services.contact_mark_bounced(email="stranger@example.com", source="dsn")
    assert email_is_suppressed("stranger@example.com")


def test_unsubscribe_from_one_list_or_from_everything():
    news, offers = make_list("News"), make_list("Offers")
    contact = make_contact("u@example.com", contact_list=news)
    Membership.objects.create(list=offers, contact=contact)
    contact_services.membership_unsubscribe(contact_list=news, contact=contact)
    assert dict(Membership.objects.values_list("list__name", "status")) == {
        "News": "unsubscribed",
        "Offers": "subscribed",
    }
    contact_services.contact_unsubscribe(contact=contact, source="one-click")
    assert Contact.objects.get().status == "unsubscribed"
    assert Suppression.objects.get().reason == "unsubscribed"


def test_audience_is_subscribed_enabled_and_not_suppressed():
    contact_list = make_list()
    for email in ["ok@example.com", "left@example.com", "bounced@example.com", "x@blocked.example"]:
        make_contact(email, contact_list=contact_list)
    make_contact("other@example.com")  # not on the list
    contact_services.membership_unsubscribe(
        contact_list=contact_list, contact=Contact.objects.get(email="left@example.com")
    )
    contact_services.contact_mark_bounced(email="bounced@example.com", source="dsn")
    suppression_add(value="blocked.example")
    assert [c.email for c in list_audience(contact_list)] == ["ok@example.com"]
