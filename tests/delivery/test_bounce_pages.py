"""The Bounces page: events with filters, counts per reason, raw and parsed side by side."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from delivery.bounce_effects import Bounce, bounce_record
from delivery.inbound.processing import inbound_process
from delivery.inbound.store import inbound_message_store
from delivery.models import BounceEvent, InboundMessage
from tests.delivery import returns
from tests.factories import make_campaign, make_contact, make_list

pytestmark = pytest.mark.django_db

Kind, Source = BounceEvent.Kind, BounceEvent.Source


@pytest.fixture(autouse=True)
def bounce_domain(settings):
    settings.EDM_BOUNCE_DOMAIN = "bounces.edm.example"


@pytest.fixture
def customers():
    return make_list()


def bounced(campaign, email: str, reason: str, *, hard=False, kind=Kind.BOUNCE, at=None):
    contact = make_contact(email, contact_list=campaign.lists.first())
    delivery = returns.sent_delivery(campaign, contact)
    bounce_record(
        [
            Bounce(
                delivery.pk,
                kind,
                Source.DELIVERY,
                "reply",
                reason,
                hard=hard,
                diagnostic=f"said {reason}",
                at=at,
            )
        ]
    )
    return delivery


def rows(response) -> list[str]:
    """The addresses in the events table, in order."""
    return re.findall(r'<td class="mono">([^<]+)</td>', response.content.decode())


def test_events_are_listed_with_counts_per_reason(admin_client, customers):
    spring = make_campaign(lists=[customers], name="Spring sale")
    bounced(spring, "gone@a.example", "userunknown", hard=True)
    bounced(spring, "gone2@a.example", "userunknown", hard=True)
    bounced(spring, "full@a.example", "mailboxfull")
    bounced(spring, "fine@a.example", "blocked")
    bounced(spring, "angry@a.example", "feedback", kind=Kind.COMPLAINT)

    response = admin_client.get("/bounces/")

    assert response.status_code == 200
    assert rows(response) == [
        "angry@a.example",
        "fine@a.example",
        "full@a.example",
        "gone2@a.example",
        "gone@a.example",
    ]
    counts = {(r.reason, r.kind, r.hard): r.count for r in response.context["reasons"]}
    assert counts == {
        ("userunknown", "bounce", True): 2,
        ("mailboxfull", "bounce", False): 1,
        ("blocked", "bounce", False): 1,
        ("feedback", "complaint", False): 1,
    }
    assert "about us" in response.content.decode()


def test_filters_keep_only_matching_events(admin_client, customers):
    spring = make_campaign(lists=[customers], name="Spring sale")
    autumn = make_campaign(lists=[customers], name="Autumn sale")
    long_ago = timezone.now() - dt.timedelta(days=40)
    bounced(spring, "gone@a.example", "userunknown", hard=True)
    bounced(spring, "old@a.example", "userunknown", hard=True, at=long_ago)
    bounced(autumn, "full@a.example", "mailboxfull")
    bounced(autumn, "fine@a.example", "blocked")
    bounced(autumn, "angry@a.example", "feedback", kind=Kind.COMPLAINT)

    def shown(**query) -> list[str]:
        return sorted(rows(admin_client.get("/bounces/", query)))

    assert shown(campaign=spring.pk) == ["gone@a.example", "old@a.example"]
    assert shown(type="hard") == ["gone@a.example", "old@a.example"]
    assert shown(type="soft") == ["full@a.example"]
    assert shown(type="sender") == ["fine@a.example"]
    assert shown(type="complaint") == ["angry@a.example"]
    assert shown(reason="mailboxfull") == ["full@a.example"]
    since = (timezone.now() - dt.timedelta(days=1)).date().isoformat()
    assert "old@a.example" not in shown(since=since)
    assert shown(until=long_ago.date().isoformat()) == ["old@a.example"]
    assert shown(campaign="not-a-number") == shown()  # a filter that does not parse is left out
    counts = admin_client.get("/bounces/", {"campaign": autumn.pk}).context["reasons"]
    assert sum(r.count for r in counts) == 3


def test_events_are_paged_by_id_in_both_directions(admin_client, customers):
    campaign = make_campaign(lists=[customers])
    for i in range(55):
        bounced(campaign, f"user{i:02}@a.example", "userunknown", hard=True)

    first = admin_client.get("/bounces/", {"type": "hard"})
    assert rows(first)[0] == "user54@a.example"
    assert len(rows(first)) == 50
    page = first.context["page"]
    assert page.newer is None

    second = admin_client.get("/bounces/", {"type": "hard", "before": page.older})
    assert rows(second) == [f"user{i:02}@a.example" for i in range(4, -1, -1)]
    assert second.context["page"].older is None
    assert f"type=hard&amp;after={second.context['page'].newer}" in second.content.decode()

    back = admin_client.get("/bounces/", {"type": "hard", "after": second.context["page"].newer})
    assert rows(back) == rows(first)


def test_the_events_page_reads_a_fixed_number_of_queries(
    admin_client, customers, django_assert_max_num_queries
):
    campaign = make_campaign(lists=[customers])
    for i in range(30):
        bounced(campaign, f"user{i:02}@a.example", "userunknown", hard=True)
    with django_assert_max_num_queries(12):
        admin_client.get("/bounces/")


def test_an_event_shows_the_received_message_next_to_what_the_parser_read(admin_client, customers):
    delivery = returns.sent_delivery(
        make_campaign(lists=[customers]), make_contact("gone@a.example", contact_list=customers)
    )
    raw = returns.dsn(
        returns.original(delivery), to=returns.return_path(delivery), recipient=delivery.email
    )
    stored = inbound_message_store(source=InboundMessage.Source.SMTP, raw=raw)
    inbound_process(stored.pk)
    event = BounceEvent.objects.get()

    page = admin_client.get(f"/bounces/{event.pk}/").content.decode()

    assert 'class="side-by-side"' in page
    assert "Final-Recipient: rfc822; gone@a.example" in page  # the raw report
    assert "&quot;reason&quot;: &quot;userunknown&quot;" in page  # the parsed result
    assert f"/bounces/received/{stored.pk}/" in page


def test_an_event_after_the_raw_text_expired_still_shows_what_was_parsed(admin_client, customers):
    delivery = returns.sent_delivery(
        make_campaign(lists=[customers]), make_contact("gone@a.example", contact_list=customers)
    )
    raw = returns.dsn(
        returns.original(delivery), to=returns.return_path(delivery), recipient=delivery.email
    )
    stored = inbound_message_store(source=InboundMessage.Source.SMTP, raw=raw)
    inbound_process(stored.pk)
    InboundMessage.objects.update(raw=None)

    page = admin_client.get(f"/bounces/{BounceEvent.objects.get().pk}/").content.decode()

    assert "has been dropped" in page
    assert "&quot;reason&quot;: &quot;userunknown&quot;" in page


def test_a_refusal_during_delivery_shows_its_attempts(admin_client, customers):
    delivery = bounced(make_campaign(lists=[customers]), "gone@a.example", "userunknown", hard=True)
    delivery.attempt_set.create(
        at=timezone.now(), outcome="bounced", host="mx1.mail.example", code=550, text="No such user"
    )
    page = admin_client.get(f"/bounces/{BounceEvent.objects.get().pk}/").content.decode()
    assert "mx1.mail.example" in page
    assert "No such user" in page


def test_received_messages_say_why_they_were_ignored(admin_client):
    forged = "b-7-aaaaaaaaaaaaaaaa@bounces.edm.example"
    stored = inbound_message_store(
        source=InboundMessage.Source.SMTP,
        raw=returns.dsn(b"Subject: x\r\n\r\n", to=forged, recipient="who@a.example"),
        recipients=[forged],
    )
    inbound_process(stored.pk)

    listing = admin_client.get("/bounces/received/", {"state": "ignored"}).content.decode()
    assert f"forged return path {forged}" in listing
    assert admin_client.get("/bounces/received/", {"state": "processed"}).context["page"].rows == []
    detail = admin_client.get(f"/bounces/received/{stored.pk}/").content.decode()
    assert "Undelivered Mail Returned to Sender" in detail


def test_a_stored_webhook_body_nested_beyond_the_stack_is_shown_as_text(admin_client):
    # Stored before webhooks refused such bodies, or signed by a provider gone wrong.
    stored = inbound_message_store(source=InboundMessage.Source.SENDGRID, raw=b"[" * 100_000)
    response = admin_client.get(f"/bounces/received/{stored.pk}/")
    assert response.status_code == 200
    assert "[[[[" in response.content.decode()


def test_the_bounces_pages_need_a_login(client):
    for path in ("/bounces/", "/bounces/received/"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_paging_received_messages_keeps_the_state_filter(admin_client, monkeypatch):
    from delivery.selectors import bounces as bounce_selectors

    monkeypatch.setattr(bounce_selectors, "PAGE_SIZE", 1)
    for n in range(3):
        inbound_message_store(
            source=InboundMessage.Source.SMTP,
            raw=f"Subject: note {n}\r\n\r\nhello\r\n".encode(),
            recipients=["b@bounces.edm.example"],
        )
    first = admin_client.get("/bounces/received/", {"state": "received"})
    older = first.context["page"].older
    assert f'href="?state=received&amp;before={older}"' in first.content.decode()
    second = admin_client.get("/bounces/received/", {"state": "received", "before": older})
    newer = second.context["page"].newer
    assert f'href="?state=received&amp;after={newer}"' in second.content.decode()
