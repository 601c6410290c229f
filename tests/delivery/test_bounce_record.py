"""bounce_record: the one service every bounce and complaint ends in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import Contact, Membership, Suppression
from delivery.bounce_effects import Bounce, bounce_record
from delivery.models import BounceEvent, CampaignStats, Delivery, SiteStats
from tests.delivery.returns import counters_add_up, sent_delivery
from tests.factories import make_campaign, make_contact, make_list

pytestmark = pytest.mark.django_db

Kind, Source = BounceEvent.Kind, BounceEvent.Source


def bounce(delivery: Delivery, reason: str = "userunknown", hard: bool = True, **fields) -> Bounce:
    values = {"kind": Kind.BOUNCE, "source": Source.MAIL, "report": "mail:<r1@mx>"} | fields
    return Bounce(delivery_id=delivery.pk, reason=reason, hard=hard, **values)


def complaint(delivery: Delivery, **fields) -> Bounce:
    values = {"source": Source.MAIL, "report": "mail:<c1@fbl>"} | fields
    return Bounce(delivery_id=delivery.pk, kind=Kind.COMPLAINT, reason="feedback", **values)


@pytest.fixture
def customers():
    return make_list("Customers")


@pytest.fixture
def campaign(customers):
    return make_campaign(lists=[customers])


def test_a_hard_bounce_of_a_sent_delivery_moves_it_and_its_counters_and_suppresses(
    campaign, customers
):
    gone = make_contact("gone@a.example", contact_list=customers)
    delivery = sent_delivery(campaign, gone)
    sent_delivery(campaign, make_contact("here@a.example", contact_list=customers))

    recorded = bounce_record([bounce(delivery, status="5.1.1", code=550, diagnostic="No such")])

    assert recorded.bounced == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.reason, delivery.hard) == ("bounced", "userunknown", True)
    assert (delivery.last_code, delivery.last_enhanced, delivery.last_reply) == (
        550,
        "5.1.1",
        "No such",
    )
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.sent, stats.bounced_hard, stats.bounced_soft) == (1, 1, 0)
    assert counters_add_up(campaign)
    site = SiteStats.objects.get(campaign=campaign, site="mail.example")
    assert (site.sent, site.bounced) == (1, 1)
    gone.refresh_from_db()
    assert gone.status == Contact.Status.BOUNCED
    assert Suppression.objects.get(value="gone@a.example").reason == "bounced"
    event = BounceEvent.objects.get()
    assert (event.campaign_id, event.contact_id, event.email) == (
        campaign.pk,
        gone.pk,
        "gone@a.example",
    )


def test_the_same_report_recorded_twice_counts_once(campaign, customers):
    delivery = sent_delivery(campaign, make_contact("gone@a.example", contact_list=customers))

    first = bounce_record([bounce(delivery)])
    again = bounce_record([bounce(delivery)])

    assert (first.bounced, again.bounced) == (1, 0)
    assert BounceEvent.objects.count() == 1
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.sent, stats.bounced_hard) == (0, 1)
    assert counters_add_up(campaign)


def test_a_second_report_about_the_same_delivery_is_an_event_but_no_second_count(
    campaign, customers
):
    delivery = sent_delivery(campaign, make_contact("gone@a.example", contact_list=customers))

    bounce_record([bounce(delivery, report="mail:<first@mx>")])
    bounce_record([bounce(delivery, report="ses:feedback-2", source=Source.SES)])

    assert BounceEvent.objects.count() == 2
    assert CampaignStats.objects.get(campaign=campaign).bounced_hard == 1


def test_a_soft_bounce_followed_by_a_hard_one_becomes_hard(campaign, customers):
    contact = make_contact("full@a.example", contact_list=customers)
    delivery = sent_delivery(campaign, contact)

    bounce_record([bounce(delivery, "mailboxfull", hard=False, report="mail:<1@mx>")])
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.bounced_soft, stats.bounced_hard) == (1, 0)
    contact.refresh_from_db()
    assert contact.status == Contact.Status.ENABLED

    bounce_record([bounce(delivery, "userunknown", hard=True, report="mail:<2@mx>")])

    stats.refresh_from_db()
    assert (stats.bounced_soft, stats.bounced_hard) == (0, 1)
    assert counters_add_up(campaign)
    contact.refresh_from_db()
    assert contact.status == Contact.Status.BOUNCED


def test_soft_bounces_on_three_deliveries_within_the_window_suppress(customers, settings):
    settings.EDM_SOFT_BOUNCE_LIMIT, settings.EDM_SOFT_BOUNCE_DAYS = 3, 14
    contact = make_contact("full@a.example", contact_list=customers)
    deliveries = [
        sent_delivery(make_campaign(lists=[customers], name=f"Issue {i}"), contact)
        for i in range(3)
    ]
    old = bounce(
        deliveries[0], "mailboxfull", hard=False, at=timezone.now() - dt.timedelta(days=20)
    )
    bounce_record([old])
    bounce_record([bounce(deliveries[1], "mailboxfull", hard=False)])
    # The same delivery bouncing again is still one delivery.
    bounce_record([bounce(deliveries[1], "mailboxfull", hard=False, report="mail:<again@mx>")])
    contact.refresh_from_db()
    assert contact.status == Contact.Status.ENABLED  # the first is outside the window

    bounce_record([bounce(deliveries[2], "filtered", hard=False)])
    contact.refresh_from_db()
    assert contact.status == Contact.Status.ENABLED  # two deliveries in 14 days

    fourth = sent_delivery(make_campaign(lists=[customers], name="Issue 4"), contact)
    bounce_record([bounce(fourth, "mailboxfull", hard=False)])
    contact.refresh_from_db()
    assert contact.status == Contact.Status.BOUNCED
    assert "3 soft bounces in 14 days" in Suppression.objects.get(value=contact.email).source


def test_a_bounce_about_the_sender_never_suppresses_and_raises_the_alarm(campaign, customers):
    contact = make_contact("fine@a.example", contact_list=customers)
    deliveries = [sent_delivery(campaign, contact)]
    for i in range(3):
        other = make_campaign(lists=[customers], name=f"More {i}")
        deliveries.append(sent_delivery(other, contact))

    bounce_record([bounce(d, "blocked", hard=False) for d in deliveries])

    contact.refresh_from_db()
    assert contact.status == Contact.Status.ENABLED
    assert not Suppression.objects.exists()
    assert CampaignStats.objects.get(campaign=campaign).sender_rejected == 1
    assert Delivery.objects.get(pk=deliveries[0].pk).status == "bounced"


def test_a_complaint_counts_on_top_of_sent_and_unsubscribes_from_every_list(campaign, customers):
    other_list = make_list("Newsletter")
    contact = make_contact("angry@a.example", contact_list=customers)
    Membership.objects.create(list=other_list, contact=contact)
    delivery = sent_delivery(campaign, contact)

    recorded = bounce_record([complaint(delivery, feedback_type="abuse")])
    bounce_record([complaint(delivery, feedback_type="abuse")])

    assert recorded.complained == 1
    delivery.refresh_from_db()
    assert delivery.status == "complained"
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.sent, stats.complained) == (1, 1)
    assert counters_add_up(campaign)
    contact.refresh_from_db()
    assert contact.status == Contact.Status.COMPLAINED
    assert set(contact.memberships.values_list("status", flat=True)) == {"unsubscribed"}
    assert Suppression.objects.get(value=contact.email).reason == "complained"


def test_a_bounce_of_a_deferred_delivery_leaves_deferred_and_clears_its_retry(campaign, customers):
    delivery = sent_delivery(campaign, make_contact("gone@a.example", contact_list=customers))
    Delivery.objects.filter(pk=delivery.pk).update(
        status="deferred", next_attempt_at=timezone.now() + dt.timedelta(minutes=5)
    )
    CampaignStats.objects.filter(campaign=campaign).update(sent=0, deferred=1)
    SiteStats.objects.filter(campaign=campaign).update(sent=0, deferred=1)

    bounce_record([bounce(delivery)])

    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == ("bounced", None)
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.deferred, stats.bounced_hard) == (0, 1)
    site = SiteStats.objects.get(campaign=campaign)
    assert (site.deferred, site.bounced) == (0, 1)


def test_a_bounce_for_a_delivery_that_does_not_exist_records_nothing():
    assert bounce_record(
        [Bounce(12345, Kind.BOUNCE, Source.MAIL, "mail:<x@y>", "userunknown")]
    ) == (
        0,
        0,
        0,
    )
    assert not BounceEvent.objects.exists()
