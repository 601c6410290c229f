"""Browser journey: the Bounces page, from the counts per reason to one bounce's report."""

from __future__ import annotations

import pytest
from django.test import override_settings

from delivery.bounce_effects import Bounce, bounce_record
from delivery.inbound.processing import inbound_process
from delivery.inbound.store import inbound_message_store
from delivery.models import BounceEvent, InboundMessage
from tests.delivery import returns
from tests.factories import make_campaign, make_contact, make_list

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@override_settings(EDM_BOUNCE_DOMAIN="bounces.edm.example")
def test_a_marketer_filters_bounces_and_reads_a_report_next_to_its_parsed_result(
    logged_in_page,
):
    customers = make_list()
    campaign = make_campaign(lists=[customers], name="Spring sale")
    gone = returns.sent_delivery(campaign, make_contact("gone@a.example", contact_list=customers))
    blocked = returns.sent_delivery(
        campaign, make_contact("fine@a.example", contact_list=customers)
    )
    bounce_record(
        [Bounce(blocked.pk, BounceEvent.Kind.BOUNCE, "delivery", "reply", "blocked", hard=False)]
    )
    raw = returns.dsn(returns.original(gone), to=returns.return_path(gone), recipient=gone.email)
    inbound_process(inbound_message_store(source=InboundMessage.Source.SMTP, raw=raw).pk)
    page = logged_in_page

    page.goto("/bounces/")
    page.get_by_role("link", name="userunknown").click()
    page.wait_for_url("**reason=userunknown**")
    events = page.locator("table").last
    assert events.get_by_role("cell", name="gone@a.example", exact=True).is_visible()
    assert events.get_by_role("cell", name="fine@a.example", exact=True).count() == 0

    page.get_by_role("link", name=gone.bounce_events.get().at.strftime("%Y-%m-%d %H:%M:%S")).click()
    page.get_by_role("heading", name="Hard bounce of gone@a.example").wait_for()
    columns = page.locator(".side-by-side pre")
    assert "Final-Recipient: rfc822; gone@a.example" in columns.nth(0).inner_text()
    assert '"reason": "userunknown"' in columns.nth(1).inner_text()
