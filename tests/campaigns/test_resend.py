"""Resending a finished campaign to those who did not open, click or receive it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Contact, Membership, Suppression
from campaigns.selectors.campaigns import campaign_audience
from campaigns.services.campaigns import CampaignStateError
from campaigns.services.resend import ResendKind, campaign_resend_draft
from delivery.models import Delivery
from tests.factories import make_campaign, make_contact, make_list

pytestmark = pytest.mark.django_db

# email -> (delivery status, opened, clicked)
OUTCOMES = {
    "opened@example.com": ("sent", True, False),
    "clicked@example.com": ("sent", True, True),
    "unopened@example.com": ("sent", False, False),
    "complained@example.com": ("complained", False, False),
    "failed@example.com": ("failed", False, False),
    "bounced@example.com": ("bounced", False, False),
    "left@example.com": ("sent", False, False),
    "hard@example.com": ("failed", False, False),
    "suppressed@example.com": ("sent", False, False),
}


@pytest.fixture
def finished():
    """A finished campaign with one delivery per outcome; then some recipients left."""
    customers = make_list()
    campaign = make_campaign(lists=[customers], status=Campaign.Status.FINISHED)
    now = timezone.now()
    for email, (status, opened, clicked) in OUTCOMES.items():
        contact = make_contact(email, contact_list=customers)
        Delivery.objects.create(
            campaign=campaign,
            contact=contact,
            email=email,
            domain=contact.domain,
            status=status,
            opened_at=now if opened else None,
            clicked_at=now if clicked else None,
        )
    make_contact("joined-later@example.com", contact_list=customers)
    # Since it was sent: one unsubscribed from the list, one hard-bounced elsewhere, one
    # was suppressed by hand; the complaint made its contact "complained" at the time.
    Membership.objects.filter(contact__email="left@example.com").update(status="unsubscribed")
    Contact.objects.filter(email="hard@example.com").update(status="bounced")
    Contact.objects.filter(email="complained@example.com").update(status="complained")
    Suppression.objects.create(scope="email", value="suppressed@example.com")
    return campaign


def audience_of(campaign: Campaign) -> set[str]:
    return set(campaign_audience(campaign).values_list("email", flat=True))


@pytest.mark.parametrize(
    ("kind", "op", "expected"),
    [
        (ResendKind.NOT_OPENED, "not_opened", {"unopened@example.com"}),
        (ResendKind.NOT_CLICKED, "not_clicked", {"unopened@example.com", "opened@example.com"}),
        (ResendKind.NOT_RECEIVED, "failed", {"failed@example.com"}),
    ],
)
def test_a_resend_draft_reaches_those_of_its_kind_who_are_still_sendable(
    finished, kind, op, expected
):
    draft = campaign_resend_draft(finished, kind)
    assert draft.status == Campaign.Status.DRAFT
    assert draft.name == f"Spring sale (resend: {kind.label})"
    assert (draft.subject, draft.html) == (finished.subject, finished.html)
    assert list(draft.lists.all()) == list(finished.lists.all())
    assert draft.segment.definition == {
        "match": "all",
        "conditions": [{"field": "received", "op": op, "value": finished.pk}],
    }
    assert audience_of(draft) == expected


def test_resending_twice_reuses_the_segment(finished):
    first = campaign_resend_draft(finished, ResendKind.NOT_OPENED)
    second = campaign_resend_draft(finished, ResendKind.NOT_OPENED)
    assert first.pk != second.pk
    assert first.segment == second.segment
    assert first.segment.name == "Spring sale: did not open"


def test_only_a_finished_campaign_is_resent():
    campaign = make_campaign(lists=[make_list()], status=Campaign.Status.SENDING)
    with pytest.raises(CampaignStateError, match="this campaign is sending"):
        campaign_resend_draft(campaign, ResendKind.NOT_OPENED)
    assert Campaign.objects.count() == 1


def test_the_campaign_page_resends_and_opens_the_new_draft(admin_client, finished):
    page = admin_client.get(finished.get_absolute_url())
    assert 'name="kind" value="not_clicked"' in page.content.decode()
    url = reverse("campaigns:campaign_resend", args=[finished.pk])
    response = admin_client.post(url, {"kind": "not_opened"}, follow=True)
    draft = Campaign.objects.get(name="Spring sale (resend: did not open)")
    assert response.redirect_chain[-1][0] == draft.get_absolute_url()
    assert response.context["audience_size"] == 1
    refused = admin_client.post(url, {"kind": "everyone"}, follow=True)
    assert "Choose who to resend to." in [str(m) for m in refused.context["messages"]]
