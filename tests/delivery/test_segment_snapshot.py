"""A campaign's segment narrows its lists, and the audience it selects is snapshotted at start."""

from __future__ import annotations

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Membership, Suppression
from campaigns.selectors.campaigns import campaign_audience_size
from campaigns.services import segments as segment_services
from campaigns.services.campaigns import campaign_duplicate, campaign_start
from delivery import capture
from delivery.models import CapturedMessage, Delivery
from delivery.planning import deliveries_snapshot
from tests.factories import make_campaign, make_contact, make_list
from tests.smtpd_thread import running_smtpd

pytestmark = pytest.mark.django_db

BERLIN = {
    "match": "all",
    "conditions": [{"field": "attribute", "key": "city", "op": "equals", "value": "Berlin"}],
}


@pytest.fixture
def customers():
    """A list of Berliners and others, one of each kind the audience leaves out."""
    customers = make_list("Customers")
    for name in ["ann", "bob"]:
        make_contact(f"{name}@example.com", contact_list=customers, attributes={"city": "Berlin"})
    make_contact("cy@example.com", contact_list=customers, attributes={"city": "Rome"})
    make_contact("gone@example.com", contact_list=customers, attributes={"city": "Berlin"})
    Membership.objects.filter(contact__email="gone@example.com").update(status="unsubscribed")
    make_contact(
        "bounced@example.com",
        contact_list=customers,
        attributes={"city": "Berlin"},
        status="bounced",
    )
    make_contact("blocked@example.com", contact_list=customers, attributes={"city": "Berlin"})
    Suppression.objects.create(scope="email", value="blocked@example.com")
    # A Berliner on no list of the campaign: a segment narrows the lists, it never adds.
    make_contact("elsewhere@example.com", attributes={"city": "Berlin"})
    return customers


def recipients(campaign: Campaign) -> set[str]:
    return set(Delivery.objects.filter(campaign=campaign).values_list("email", flat=True))


def test_the_snapshot_holds_the_lists_subscribed_members_that_match_the_segment(customers):
    segment = segment_services.segment_create(name="Berliners", definition=BERLIN)
    campaign = make_campaign(lists=[customers], segment=segment, status=Campaign.Status.SENDING)
    assert campaign_audience_size(campaign) == 2
    assert deliveries_snapshot(campaign) == 2
    assert recipients(campaign) == {"ann@example.com", "bob@example.com"}


def test_changing_the_segment_after_the_snapshot_changes_drafts_not_what_was_planned(customers):
    segment = segment_services.segment_create(name="Berliners", definition=BERLIN)
    started = make_campaign(lists=[customers], segment=segment, status=Campaign.Status.SENDING)
    deliveries_snapshot(started)
    draft = campaign_duplicate(started)
    segment_services.segment_update(
        segment,
        name="Romans",
        definition={
            "match": "all",
            "conditions": [{"field": "attribute", "key": "city", "op": "equals", "value": "Rome"}],
        },
    )
    assert deliveries_snapshot(started) == 0  # planned already: run again, it writes nothing
    assert recipients(started) == {"ann@example.com", "bob@example.com"}
    assert draft.segment == segment
    assert campaign_audience_size(draft) == 1


def test_a_segment_campaigns_use_cannot_be_deleted(customers):
    segment = segment_services.segment_create(name="Berliners", definition=BERLIN)
    make_campaign(lists=[customers], segment=segment, name="Berlin sale")
    with pytest.raises(segment_services.SegmentInUseError, match="audience of “Berlin sale”"):
        segment_services.segment_delete(segment)


@pytest.mark.django_db(transaction=True)
def test_a_started_campaign_mails_only_its_segment_from_a_real_worker(
    settings, monkeypatch, rq_burst
):
    customers = make_list("Customers")
    earlier = make_campaign(lists=[customers], name="Earlier", status=Campaign.Status.FINISHED)
    for name, opened in [("ann", True), ("bob", False)]:
        contact = make_contact(f"{name}@example.com", contact_list=customers)
        Delivery.objects.create(
            campaign=earlier,
            contact=contact,
            email=contact.email,
            domain=contact.domain,
            status="sent",
            opened_at=timezone.now() if opened else None,
        )
    make_contact("new@example.com", contact_list=customers)  # never mailed
    openers = segment_services.segment_create(
        name="Openers",
        definition={"match": "all", "conditions": [{"field": "opened", "op": "any"}]},
    )
    with running_smtpd(capture.CaptureHandler(), hostname=capture.HOSTNAME) as port:
        monkeypatch.setenv("EDM_DELIVERY_MODE", "capture")
        monkeypatch.setenv("EDM_CAPTURE_PORT", str(port))
        settings.EDM_DELIVERY_MODE, settings.EDM_CAPTURE_PORT = "capture", port
        campaign = make_campaign(lists=[customers], segment=openers, name="For openers")
        campaign_start(campaign)
        rq_burst()
    assert recipients(campaign) == {"ann@example.com"}
    assert [m.recipients for m in CapturedMessage.objects.all()] == [["ann@example.com"]]
