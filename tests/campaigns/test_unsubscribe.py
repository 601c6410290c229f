"""Unsubscribe and view-online: public pages of the signed links in every message."""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from campaigns import links
from campaigns.links import LinkTarget
from campaigns.models import Contact, Membership, Suppression, Unsubscribe
from campaigns.services.unsubscribe import LinkTargetGoneError, unsubscribe_record
from delivery.message import Recipient, compile_message, render_recipient
from delivery.models import CampaignStats
from delivery.prepared import campaign_message
from tests.factories import make_campaign, make_contact, make_list

pytestmark = pytest.mark.django_db

ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def sent(settings):
    """A campaign to two lists, a contact on both and on a third list, and its two links."""
    customers, newsletter, other = make_list("Customers"), make_list("Newsletter"), make_list("B")
    contact = make_contact("li.na@example.com", contact_list=customers, name="李娜")
    Membership.objects.create(list=newsletter, contact=contact)
    Membership.objects.create(list=other, contact=contact)
    campaign = make_campaign(lists=[customers, newsletter], status="finished")
    target = LinkTarget(campaign.pk, contact.pk)
    unsubscribe = links.unsubscribe_url(settings.EDM_PUBLIC_URL, target, settings.SECRET_KEY)
    view = links.view_online_url(settings.EDM_PUBLIC_URL, target, settings.SECRET_KEY)
    return campaign, contact, urlsplit(unsubscribe).path, urlsplit(view).path


def statuses(contact):
    return dict(contact.memberships.values_list("list__name", "status"))


def nothing_changed(contact):
    contact.refresh_from_db()
    return (
        set(statuses(contact).values()) == {"subscribed"}
        and contact.status == "enabled"
        and not Unsubscribe.objects.exists()
        and not Suppression.objects.exists()
        and not CampaignStats.objects.filter(unsubscribed__gt=0).exists()
    )


def test_the_link_opens_a_page_with_one_confirm_button_without_a_login(client, sent):
    _, contact, path, _ = sent
    page = client.get(path)
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('<button type="submit"') == 1
    assert "li.na@example.com" in html and "Unsubscribe" in html
    assert f'action="{path}confirm/"' in html
    assert nothing_changed(contact)  # opening the page (or a link scanner) changes nothing


def test_confirming_unsubscribes_from_the_campaigns_lists_only_and_records_it(client, sent):
    campaign, contact, path, _ = sent
    client.get(path)
    done = client.post(f"{path}confirm/")
    assert done.status_code == 200
    assert "You are unsubscribed" in done.content.decode()
    assert statuses(contact) == {
        "Customers": "unsubscribed",
        "Newsletter": "unsubscribed",
        "B": "subscribed",
    }
    record = Unsubscribe.objects.get()
    assert (record.campaign, record.contact, record.method, record.scope) == (
        campaign,
        contact,
        "web",
        "list",
    )
    assert CampaignStats.objects.get(campaign=campaign).unsubscribed == 1
    again = client.get(path)
    assert "You are unsubscribed" in again.content.decode()
    assert '<button type="submit"' not in again.content.decode()


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart", "bare"])
def test_one_click_unsubscribes_with_a_bare_post_and_no_cookies(sent, encoding):
    campaign, contact, path, _ = sent
    client = Client(enforce_csrf_checks=True)  # like a mail provider: no cookie, no CSRF token
    if encoding == "urlencoded":
        response = client.post(path, ONE_CLICK, content_type="application/x-www-form-urlencoded")
    elif encoding == "multipart":
        response = client.post(path, {"List-Unsubscribe": "One-Click"})
    else:
        response = client.post(path, ONE_CLICK, content_type="text/plain")
    assert response.status_code == 200
    assert not response.cookies
    assert set(statuses(contact).values()) == {"unsubscribed", "subscribed"}
    assert statuses(contact)["Customers"] == "unsubscribed"
    assert Unsubscribe.objects.get().method == "one-click"
    assert CampaignStats.objects.get(campaign=campaign).unsubscribed == 1


def test_unsubscribing_twice_counts_once_but_unsubscribes_again(sent):
    campaign, contact, path, _ = sent
    client = Client(enforce_csrf_checks=True)
    client.post(path, ONE_CLICK, content_type="application/x-www-form-urlencoded")
    Membership.objects.update(status="subscribed")  # resubscribed by hand since
    client.post(path, ONE_CLICK, content_type="application/x-www-form-urlencoded")
    assert statuses(contact)["Newsletter"] == "unsubscribed"
    assert Unsubscribe.objects.count() == 1
    assert CampaignStats.objects.get(campaign=campaign).unsubscribed == 1


def test_a_post_without_the_one_click_body_is_refused(sent):
    _, contact, path, _ = sent
    client = Client(enforce_csrf_checks=True)
    assert client.post(path, "unsubscribe=yes", content_type="text/plain").status_code == 400
    assert client.post(path, {"List-Unsubscribe": "Yes"}).status_code == 400
    assert nothing_changed(contact)


def test_a_refused_one_click_post_is_plain_text_not_html(sent):
    _, _, path, _ = sent
    response = Client().post(path, "<script>alert(1)</script>", content_type="text/plain")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_the_confirm_button_is_csrf_protected(sent):
    _, contact, path, _ = sent
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"{path}confirm/").status_code == 403
    assert nothing_changed(contact)


def altered(path: str) -> list[str]:
    token = path.strip("/").split("/")[1]
    campaign_id, contact_id, mac = token.split("-", 2)
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    return [
        f"/u/{campaign_id}-{contact_id}-{flipped}/",  # the MAC altered
        f"/u/{campaign_id}-{int(contact_id) + 1}-{mac}/",  # another contact
        f"/u/{campaign_id}-0{contact_id}-{mac}/",  # the same number spelt otherwise
        f"/u/{campaign_id}-{contact_id}/",  # no MAC
        "/u/not-a-token/",
    ]


def test_a_forged_or_altered_token_is_refused_and_changes_nothing(sent):
    _, contact, path, view_path = sent
    make_contact("next@example.com", contact_list=make_list("Next"))
    client = Client(enforce_csrf_checks=True)
    view_token_as_unsubscribe = "/u/" + view_path.strip("/").split("/")[1] + "/"
    for forged in [*altered(path), view_token_as_unsubscribe]:
        assert client.get(forged).status_code == 404, forged
        response = client.post(forged, ONE_CLICK, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 404, forged
    assert nothing_changed(contact)
    assert set(Membership.objects.values_list("status", flat=True)) == {"subscribed"}


def test_a_link_to_a_deleted_contact_is_not_found(sent):
    _, contact, path, view_path = sent
    contact.delete()
    client = Client()
    assert client.get(path).status_code == 404
    assert client.post(path, ONE_CLICK, content_type="text/plain").status_code == 404
    assert client.get(view_path).status_code == 404


def test_with_scope_all_the_contact_is_unsubscribed_everywhere(sent, settings):
    settings.EDM_UNSUBSCRIBE_SCOPE = "all"
    _, contact, path, _ = sent
    page = Client().get(path).content.decode()
    assert "Stop all emails from Shop to" in page
    Client().post(path, ONE_CLICK, content_type="text/plain")
    contact.refresh_from_db()
    assert contact.status == "unsubscribed"
    suppression = Suppression.objects.get(value="li.na@example.com")
    assert suppression.reason == "unsubscribed"
    assert "one-click" in suppression.source and "Spring sale" in suppression.source
    assert Unsubscribe.objects.get().scope == "all"


def test_the_mailto_address_unsubscribes_through_the_same_service(sent, settings):
    campaign, contact, _, _ = sent
    address = links.unsubscribe_address(
        "bounces.example.com", LinkTarget(campaign.pk, contact.pk), settings.SECRET_KEY
    )
    target = links.read_unsubscribe_address(address.upper(), settings.SECRET_KEY)
    result = unsubscribe_record(target, Unsubscribe.Method.MAILTO)
    assert (result.campaign, result.contact, result.first) == (campaign, contact, True)
    assert Unsubscribe.objects.get().method == "mailto"
    assert statuses(contact)["Customers"] == "unsubscribed"
    with pytest.raises(LinkTargetGoneError):
        unsubscribe_record(LinkTarget(campaign.pk, 999_999), Unsubscribe.Method.MAILTO)


def test_view_online_shows_the_recipients_message_sandboxed(sent):
    campaign, contact, _, view_path = sent
    campaign.subject = "你好 {{ contact.name }}"
    campaign.html = (
        "<style>p{color:red}</style><p>{{ contact.name }}</p><a href='{{ unsubscribe_url }}'>x</a>"
    )
    campaign.save()
    response = Client().get(view_path)
    assert response.status_code == 200
    expected = render_recipient(
        compile_message(campaign_message(campaign)),
        Recipient(0, contact.pk, contact.email, contact.name, contact.attributes),
    )
    assert response.content.decode() == expected.html
    assert '<p style="color: red;">李娜</p>' in expected.html
    policy = response["Content-Security-Policy"]
    assert policy.startswith("sandbox allow-popups") and "script-src" not in policy
    assert "default-src 'none'" in policy


def test_view_online_refuses_an_unsubscribe_token_and_altered_ones(sent):
    _, _, path, view_path = sent
    client = Client()
    assert client.get("/v/" + path.strip("/").split("/")[1] + "/").status_code == 404
    token = view_path.strip("/").split("/")[1]
    altered = token[:-1] + ("x" if token[-1] != "x" else "y")  # a token may end in "x"
    assert client.get(f"/v/{altered}/").status_code == 404


@pytest.mark.parametrize(
    "html", ["<p>{{ contact.attributes.items.__self__ }}</p>", "<p>{{ 9 ** 99999 }}</p>"]
)
def test_a_message_that_cannot_render_is_an_error_page_not_a_result(sent, html):
    campaign, _, _, view_path = sent
    campaign.html = html
    campaign.save()
    response = Client().get(view_path)
    assert response.status_code == 500
    assert "This message cannot be shown" in response.content.decode()


def test_only_the_public_pages_are_open_without_a_login(sent, client):
    campaign, contact, path, view_path = sent
    assert client.get(path).status_code == 200
    assert client.get(view_path).status_code == 200
    assert client.get(campaign.get_absolute_url()).status_code == 302
    assert Contact.objects.filter(pk=contact.pk).exists()
