"""The campaign pages: create, edit drafts only, the campaign page, its buttons, test sends."""

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Contact, Membership, Suppression, Template
from campaigns.services.segments import segment_create
from delivery import capture
from delivery.models import CampaignStats, CapturedMessage
from tests.factories import make_campaign, make_contact, make_list
from tests.smtpd_thread import running_smtpd

pytestmark = pytest.mark.django_db


def campaign_data(**fields):
    data = {
        "name": "Spring sale",
        "from_name": "Shop",
        "from_email": "news@shop.example",
        "reply_to": "",
        "lists": [],
        "exclusion_lists": [],
        "template": "",
        "layout": "",
        "subject": "Hello {{ contact.name }}",
        "html": "<p>Hi</p>",
        "text": "",
    }
    return data | fields


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def audience_lists():
    """Two target lists that share a contact, and an exclusion list: 3 of 6 remain."""
    customers, newsletter, blocked = make_list("Customers"), make_list("Newsletter"), make_list("X")
    both = make_contact("both@example.com", contact_list=customers)
    Membership.objects.create(list=newsletter, contact=both)
    make_contact("cust@example.com", contact_list=customers)
    make_contact("news@example.com", contact_list=newsletter)
    excluded = make_contact("excluded@example.com", contact_list=customers)
    Membership.objects.create(list=blocked, contact=excluded)
    gone = make_contact("gone@example.com", contact_list=newsletter)
    Membership.objects.filter(contact=gone).update(status="unsubscribed")
    make_contact("suppressed@example.com", contact_list=customers)
    Suppression.objects.create(scope="email", value="suppressed@example.com")
    return customers, newsletter, blocked


def test_a_campaign_from_a_template_starts_with_a_copy_of_its_content(admin_client):
    layout = Template.objects.create(name="Frame", kind="layout", html="<div>{{ content }}</div>")
    template = Template.objects.create(
        name="Promo", subject="S {{ contact.name }}", html="<p>H</p>", text="T", layout=layout
    )
    page = admin_client.get(reverse("campaigns:campaign_create"), {"template": template.pk})
    form = page.context["form"]
    assert [form[f].value() for f in ("subject", "html", "text")] == [
        "S {{ contact.name }}",
        "<p>H</p>",
        "T",
    ]
    assert (form["layout"].value(), form["template"].value()) == (layout.pk, template.pk)

    customers = make_list()
    response = admin_client.post(
        reverse("campaigns:campaign_create"),
        campaign_data(
            subject="S {{ contact.name }}",
            html="<p>H, changed</p>",
            layout=layout.pk,
            template=template.pk,
            lists=[customers.pk],
        ),
    )
    campaign = Campaign.objects.get()
    assert response["Location"] == campaign.get_absolute_url()
    assert (campaign.status, campaign.template, campaign.layout) == ("draft", template, layout)
    assert campaign.html == "<p>H, changed</p>"
    template.refresh_from_db()
    assert template.html == "<p>H</p>"
    assert list(campaign.lists.all()) == [customers]


def test_a_new_campaign_starts_from_the_last_sender(admin_client):
    make_campaign(lists=[], from_email="hello@shop.example", reply_to="help@shop.example")
    form = admin_client.get(reverse("campaigns:campaign_create")).context["form"]
    assert (form["from_email"].value(), form["reply_to"].value()) == (
        "hello@shop.example",
        "help@shop.example",
    )


def test_bad_addresses_and_template_errors_are_shown_and_nothing_is_saved(admin_client):
    response = admin_client.post(
        reverse("campaigns:campaign_create"),
        campaign_data(from_email="not an address", html="<p>\n{{ x </p>"),
    )
    assert not Campaign.objects.exists()
    assert "from_email" in response.context["form"].errors
    assert response.context["problems"]["html"][0].line == 2
    assert "Not saved: fix the errors shown next to the fields." in messages_of(response)


def test_a_draft_is_edited_and_keeps_its_time_zone(admin_client):
    campaign = make_campaign(lists=[make_list()], time_zone="Asia/Shanghai")
    other = make_list("Other")
    admin_client.post(
        reverse("campaigns:campaign_edit", args=[campaign.pk]),
        campaign_data(name="Renamed", lists=[other.pk]),
    )
    campaign.refresh_from_db()
    assert (campaign.name, campaign.time_zone) == ("Renamed", "Asia/Shanghai")
    assert list(campaign.lists.all()) == [other]


def test_a_campaign_that_is_not_a_draft_is_read_only(admin_client):
    campaign = make_campaign(lists=[make_list()], status="sending")
    url = reverse("campaigns:campaign_edit", args=[campaign.pk])
    page = admin_client.get(url)
    assert "Only drafts can be edited; this campaign is sending." in messages_of(page)[0]
    assert all(field.disabled for field in page.context["form"].fields.values())
    assert "Create draft" not in page.content.decode() and ">Save<" not in page.content.decode()

    for data in [campaign_data(name="Changed"), {}]:
        response = admin_client.post(url, data, follow=True)
        assert "Only drafts can be edited; this campaign is sending." in messages_of(response)
    campaign.refresh_from_db()
    assert campaign.name == "Spring sale"


def test_the_page_counts_two_lists_minus_an_exclusion_list_once_per_contact(
    admin_client, audience_lists
):
    customers, newsletter, blocked = audience_lists
    campaign = make_campaign(lists=[customers, newsletter], exclusion_lists=[blocked])
    page = admin_client.get(campaign.get_absolute_url())
    assert page.context["audience_size"] == 3  # both, cust, news
    html = page.content.decode()
    assert re.search(r"data-audience-size>3<", html)
    assert ">Customers</a>, <a" in html and ">X</a>" in html
    assert "news@shop.example" in html


def count_audience(client, **body):
    url = reverse("campaigns:campaign_audience")
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_editor_counts_the_audience_of_the_ticked_lists(admin_client, audience_lists):
    customers, newsletter, blocked = audience_lists
    size = count_audience(
        admin_client, lists=[customers.pk, newsletter.pk], exclusion_lists=[blocked.pk]
    )
    assert size.json() == {"size": 3}
    assert count_audience(admin_client, lists=[customers.pk]).json() == {"size": 3}
    assert count_audience(admin_client).json() == {"size": 0}


def test_the_page_previews_the_content_for_the_first_contact(admin_client):
    customers = make_list()
    contact = make_contact("ann@example.com", contact_list=customers, name="Ann")
    campaign = make_campaign(
        lists=[customers],
        subject="Hi {{ contact.name }}",
        html="<style>p{color:red}</style><p>{{ contact.email }}</p>",
    )
    page = admin_client.get(campaign.get_absolute_url())
    assert page.context["rendered"].subject == "Hi Ann"
    iframe = f'<iframe sandbox="" src="/campaigns/{campaign.pk}/preview.html?contact={contact.pk}"'
    assert iframe in page.content.decode()
    served = admin_client.get(f"/campaigns/{campaign.pk}/preview.html?contact={contact.pk}")
    assert '<p style="color: red;">ann@example.com</p>' in served.content.decode()
    assert served["Content-Security-Policy"].startswith("sandbox; default-src 'none'")


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        ("draft", "campaign_pause", "A draft campaign cannot be paused."),
        ("draft", "campaign_resume", "A draft campaign cannot be started."),
        ("draft", "campaign_unschedule", "A draft campaign cannot be unscheduled."),
        ("finished", "campaign_cancel", "A finished campaign cannot be cancelled."),
        ("sending", "campaign_start", "A sending campaign cannot be started."),
        ("cancelled", "campaign_resume", "A cancelled campaign cannot be started."),
    ],
)
def test_a_transition_the_state_refuses_shows_the_services_message(
    admin_client, status, action, message
):
    campaign = make_campaign(lists=[make_list()], status=status)
    response = admin_client.post(reverse(f"campaigns:{action}", args=[campaign.pk]), follow=True)
    assert message in messages_of(response)
    campaign.refresh_from_db()
    assert campaign.status == status


def test_starting_without_a_list_says_what_is_missing(admin_client):
    campaign = make_campaign(lists=[])
    response = admin_client.post(
        reverse("campaigns:campaign_start", args=[campaign.pk]), follow=True
    )
    assert "Not started: choose at least one list to send to." in messages_of(response)
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_start_pause_resume_and_cancel_move_the_campaign(admin_client, redis_db):
    campaign = make_campaign(lists=[make_list()])

    def press(action):
        url = reverse(f"campaigns:campaign_{action}", args=[campaign.pk])
        messages = messages_of(admin_client.post(url, follow=True))
        campaign.refresh_from_db()
        return campaign.status, messages

    assert press("start") == ("sending", ["Sending started."])
    assert press("pause") == ("paused", ["Paused: sending stops within seconds."])
    assert press("resume") == ("sending", ["Sending resumed."])
    assert press("cancel") == ("cancelled", ["Cancelled: nothing more will be sent."])
    page = admin_client.get(campaign.get_absolute_url()).content.decode()
    assert "This campaign is cancelled." in page
    assert f'href="/campaigns/{campaign.pk}/report/"' in page


def test_scheduling_stores_an_aware_time_and_shows_it_in_the_chosen_zone(admin_client, redis_db):
    campaign = make_campaign(lists=[make_list()])
    day = (timezone.now() + dt.timedelta(days=3)).date()
    response = admin_client.post(
        reverse("campaigns:campaign_schedule", args=[campaign.pk]),
        {"date": day.isoformat(), "time": "09:30", "time_zone": "Asia/Shanghai"},
        follow=True,
    )
    campaign.refresh_from_db()
    expected = dt.datetime.combine(day, dt.time(9, 30), tzinfo=ZoneInfo("Asia/Shanghai"))
    assert (campaign.status, campaign.scheduled_at, campaign.time_zone) == (
        "scheduled",
        expected,
        "Asia/Shanghai",
    )
    assert campaign.scheduled_at.utcoffset() == dt.timedelta(0)  # stored in UTC
    assert f"Scheduled for {day.isoformat()} 09:30 (Asia/Shanghai)." in messages_of(response)
    html = response.content.decode()
    assert f'{day.isoformat()} 09:30 <span class="muted">(Asia/Shanghai)</span>' in html

    unscheduled = admin_client.post(
        reverse("campaigns:campaign_unschedule", args=[campaign.pk]), follow=True
    )
    assert "Unscheduled: back to draft." in messages_of(unscheduled)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == ("draft", None)


def test_a_past_or_nonexistent_time_is_not_scheduled(admin_client):
    campaign = make_campaign(lists=[make_list()])
    url = reverse("campaigns:campaign_schedule", args=[campaign.pk])
    past = admin_client.post(
        url, {"date": "2020-01-01", "time": "10:00", "time_zone": "UTC"}, follow=True
    )
    assert "Not scheduled: that time has passed; choose a later one." in messages_of(past)
    # Clocks in Berlin jump from 02:00 to 03:00 on the last Sunday of March.
    year = timezone.now().year + 1
    last_sunday = max(
        dt.date(year, 3, d) for d in range(25, 32) if dt.date(year, 3, d).weekday() == 6
    )
    skipped = admin_client.post(
        url,
        {"date": last_sunday.isoformat(), "time": "02:30", "time_zone": "Europe/Berlin"},
        follow=True,
    )
    assert (
        f"{last_sunday.isoformat()} 02:30 does not exist in Europe/Berlin"
        in messages_of(skipped)[0]
    )
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_duplicating_makes_a_draft_copy(admin_client):
    campaign = make_campaign(lists=[make_list()], status="finished")
    response = admin_client.post(reverse("campaigns:campaign_duplicate", args=[campaign.pk]))
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert response["Location"] == copy.get_absolute_url()
    assert (copy.name, copy.status, copy.html) == ("Spring sale (copy)", "draft", campaign.html)


def test_a_test_send_refuses_more_than_ten_or_a_bad_address(admin_client):
    campaign = make_campaign(lists=[make_list()])
    url = reverse("campaigns:campaign_test_send", args=[campaign.pk])
    many = ", ".join(f"t{i}@example.com" for i in range(11))
    assert "No test sent: A test goes to at most 10 addresses." in messages_of(
        admin_client.post(url, {"addresses": many}, follow=True)
    )
    bad = messages_of(admin_client.post(url, {"addresses": "ok@example.com\nnope"}, follow=True))
    assert bad[0].startswith("No test sent: nope: ")


@pytest.mark.django_db(transaction=True)
def test_a_test_send_goes_out_and_its_results_are_shown(
    admin_client, settings, monkeypatch, rq_burst
):
    with running_smtpd(capture.CaptureHandler(), hostname=capture.HOSTNAME) as port:
        monkeypatch.setenv("EDM_DELIVERY_MODE", "capture")
        monkeypatch.setenv("EDM_CAPTURE_PORT", str(port))
        settings.EDM_DELIVERY_MODE, settings.EDM_CAPTURE_PORT = "capture", port
        campaign = make_campaign(lists=[make_list()])
        response = admin_client.post(
            reverse("campaigns:campaign_test_send", args=[campaign.pk]),
            {"addresses": "me@example.com,\nboss@example.org"},
        )
        assert response["Location"].endswith("#test-send")
        rq_burst()
    assert sorted(m.recipients[0] for m in CapturedMessage.objects.all()) == [
        "boss@example.org",
        "me@example.com",
    ]
    page = admin_client.get(campaign.get_absolute_url())
    results = page.context["test_results"]
    assert sorted((r.address, r.outcome) for r in results) == [
        ("boss@example.org", "sent"),
        ("me@example.com", "sent"),
    ]
    assert 'badge-outcome-sent">sent</span>' in page.content.decode()
    assert not CampaignStats.objects.filter(campaign=campaign).exists()


def test_campaign_pages_need_a_login_and_mark_the_campaigns_section(client, admin_client):
    campaign = make_campaign(lists=[make_list()])
    for url in [
        reverse("campaigns:campaign_create"),
        campaign.get_absolute_url(),
        reverse("campaigns:campaign_edit", args=[campaign.pk]),
    ]:
        assert client.get(url)["Location"].startswith("/login/")
        html = admin_client.get(url).content.decode()
        assert 'href="/campaigns/" class="active" aria-current="page">Campaigns</a>' in html
    for action in ["start", "cancel", "duplicate", "test_send"]:
        url = reverse(f"campaigns:campaign_{action}", args=[campaign.pk])
        assert client.post(url)["Location"].startswith("/login/")
        assert admin_client.get(url).status_code == 405
    campaign.refresh_from_db()
    assert campaign.status == "draft" and Campaign.objects.count() == 1


NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


def test_a_campaign_whose_template_blows_the_budget_for_its_first_contacts_does_not_start(
    admin_client,
):
    customers = make_list()
    make_contact("ann@shop.example", contact_list=customers)
    campaign = make_campaign(lists=[customers], html="<p>Hi</p>\n" + NESTED_LOOPS)
    response = admin_client.post(
        reverse("campaigns:campaign_start", args=[campaign.pk]), follow=True
    )
    assert messages_of(response) == [
        "Not started: the message cannot be rendered for ann@shop.example: html: the template "
        "ran past its budget of 100,000 steps (line 2)."
    ]
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_a_campaign_nested_5000_deep_is_a_form_error_not_a_500(admin_client):
    source = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
    response = admin_client.post(
        reverse("campaigns:campaign_create"), campaign_data(lists=[make_list().pk], html=source)
    )
    assert response.status_code == 200
    assert "nests more than 32 levels" in response.content.decode()


def test_the_editor_saves_a_segment_and_counts_the_lists_narrowed_by_it(
    admin_client, audience_lists
):
    customers, newsletter, _blocked = audience_lists
    Contact.objects.filter(email="cust@example.com").update(attributes={"vip": "yes"})
    vip = segment_create(
        name="VIP",
        definition={
            "match": "all",
            "conditions": [{"field": "attribute", "key": "vip", "op": "is_set"}],
        },
    )
    data = campaign_data(lists=[customers.pk, newsletter.pk], segment=vip.pk)
    response = admin_client.post(reverse("campaigns:campaign_create"), data)
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert campaign.segment == vip
    page = admin_client.get(campaign.get_absolute_url())
    assert page.context["audience_size"] == 1
    assert f'<span data-segment><a href="/segments/{vip.pk}/">VIP</a>' in page.content.decode()
    edit = admin_client.get(reverse("campaigns:campaign_edit", args=[campaign.pk]))
    assert edit.context["form"].initial["segment"] == vip.pk
    lists = [customers.pk, newsletter.pk]
    assert count_audience(admin_client, lists=lists, segment=vip.pk).json() == {"size": 1}
