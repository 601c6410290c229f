"""The tracking switches of the campaign editor and the do-not-track box of the contact form."""

import pytest
from django.urls import reverse

from campaigns.models import Campaign
from tests.campaigns.test_campaign_pages import campaign_data
from tests.factories import make_contact, make_list

pytestmark = pytest.mark.django_db


def test_a_new_campaign_offers_both_kinds_of_tracking_switched_on(admin_client):
    form = admin_client.get(reverse("campaigns:campaign_create")).context["form"]
    assert (form["track_opens"].value(), form["track_clicks"].value()) == (True, True)


def test_unticking_a_switch_saves_the_campaign_without_that_tracking(admin_client):
    data = campaign_data(track_clicks="on")  # an unticked box is not sent at all
    admin_client.post(reverse("campaigns:campaign_create"), data)
    campaign = Campaign.objects.get()
    assert (campaign.track_opens, campaign.track_clicks) == (False, True)
    form = admin_client.get(reverse("campaigns:campaign_edit", args=[campaign.pk])).context["form"]
    assert (form["track_opens"].value(), form["track_clicks"].value()) == (False, True)


def test_do_not_track_is_ticked_and_saved_on_the_contact_form(admin_client):
    contact = make_contact("ann@example.com", contact_list=make_list())
    edit = reverse("campaigns:contact_edit", args=[contact.pk])
    admin_client.post(edit, {"email": contact.email, "name": "Ann", "do_not_track": "on"})
    contact.refresh_from_db()
    assert contact.do_not_track
    assert admin_client.get(edit).context["form"]["do_not_track"].value() is True
