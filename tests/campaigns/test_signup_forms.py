"""Sign-up forms: the hosted page, what a submission does, double opt-in and consent."""

from __future__ import annotations

import time

import django_rq
import pytest
from django.test import Client

from campaigns.models import Consent, Contact, Membership, Suppression, Template
from campaigns.selectors.campaigns import campaign_audience
from campaigns.selectors.contacts import list_audience, list_summaries
from campaigns.services.signups import signup_process
from campaigns.signup_tokens import Confirmation, confirm_token, stamp_issued_at
from delivery.models import Delivery, TxMessage
from delivery.planning import deliveries_snapshot
from tests.campaigns.signup_helpers import STAMP_FIELD, make_signup_form, submit
from tests.factories import make_campaign, make_contact, make_list

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters(redis_db):
    """Every test starts with no sign-up counted (the limits live in Redis)."""


@pytest.fixture
def queued(redis_db, django_capture_on_commit_callbacks):
    """Run the view, then hand back the sign-up jobs it queued (their arguments), unrun."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            response = action()
        queue = django_rq.get_queue("transactional")
        jobs = [job for job in queue.jobs if job.func_name == "campaigns.jobs.signup_process"]
        queue.empty()
        return response, [job.args[0] for job in jobs]

    return run


@pytest.fixture
def newsletter():
    return make_list("Newsletter")


def statuses(email):
    return dict(Membership.objects.filter(contact__email=email).values_list("list__name", "status"))


def test_the_hosted_form_is_a_plain_post_form_with_a_hidden_honeypot_and_a_signed_stamp(
    client, newsletter
):
    form = make_signup_form([newsletter])
    page = client.get(f"/f/{form.public_id}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'<form method="post" action="/f/{form.public_id}/"' in html
    assert '<p hidden><label for="id_website">' in html
    assert "Yes, send me the weekly newsletter." in html
    issued = stamp_issued_at(form.public_id, STAMP_FIELD.search(html).group(1))
    assert issued is not None and abs(issued - time.time()) < 60
    assert stamp_issued_at(make_signup_form([newsletter], name="Other").public_id, "x") is None


def test_a_switched_off_form_is_not_found(client, newsletter):
    form = make_signup_form([newsletter], active=False)
    assert client.get(f"/f/{form.public_id}/").status_code == 404
    assert submit(client, form, "ann@example.com").status_code == 404


def test_a_double_opt_in_sign_up_is_pending_with_its_consent_and_sends_a_confirmation(
    client, newsletter, queued, settings
):
    form = make_signup_form([newsletter])
    response, jobs = queued(
        lambda: submit(client, form, " Ann@Example.COM ", name="Ann", user_agent="Phone/1.0")
    )
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    assert [job["email"] for job in jobs] == ["Ann@example.com"]
    assert signup_process(jobs[0]).kind == "confirmation-sent"
    assert statuses("Ann@example.com") == {"Newsletter": "unconfirmed"}
    consent = Consent.objects.get()
    assert (consent.list, consent.form, consent.method) == (newsletter, form, "form")
    assert consent.text == "Yes, send me the weekly newsletter."
    assert (consent.client_address, consent.user_agent) == ("203.0.113.7", "Phone/1.0")
    assert consent.confirmed_at is None
    mail = TxMessage.objects.get()
    assert mail.email == "Ann@example.com" and mail.status == "queued"
    assert mail.data["confirm_url"].startswith(settings.EDM_PUBLIC_URL + "/f/confirm/")
    assert mail.request.template.name == "Sign-up confirmation (built-in)"


def test_unconfirmed_members_are_in_no_audience_and_get_no_delivery(newsletter):
    form = make_signup_form([newsletter])
    make_contact("bob@example.com", contact_list=newsletter)
    signup_process(_values(form, "ann@example.com", newsletter))
    campaign = make_campaign(lists=[newsletter], status="sending")
    assert list(list_audience(newsletter).values_list("email", flat=True)) == ["bob@example.com"]
    assert list(campaign_audience(campaign).values_list("email", flat=True)) == ["bob@example.com"]
    assert deliveries_snapshot(campaign) == 1
    assert list(Delivery.objects.values_list("email", flat=True)) == ["bob@example.com"]
    (summary,) = list_summaries()
    assert (summary.total, summary.subscribed, summary.unconfirmed) == (2, 1, 1)


def test_opening_the_link_changes_nothing_and_the_button_subscribes_and_confirms_the_consent(
    newsletter,
):
    form = make_signup_form([newsletter])
    signup_process(_values(form, "ann@example.com", newsletter))
    path = _confirm_path(TxMessage.objects.get())
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(path)
    assert page.status_code == 200 and "Confirm my subscription" in page.content.decode()
    assert statuses("ann@example.com") == {"Newsletter": "unconfirmed"}  # a scanner's GET
    assert browser.post(path).status_code == 403  # no CSRF token: not from our page
    token = browser.cookies["csrftoken"].value
    done = browser.post(path, {"csrfmiddlewaretoken": token})
    assert done.status_code == 200 and "You are subscribed" in done.content.decode()
    assert statuses("ann@example.com") == {"Newsletter": "subscribed"}
    assert Consent.objects.get().confirmed_at is not None
    assert list(list_audience(newsletter).values_list("email", flat=True)) == ["ann@example.com"]


def test_an_expired_confirmation_link_confirms_nothing(client, newsletter, settings):
    form = make_signup_form([newsletter])
    signup_process(_values(form, "ann@example.com", newsletter))
    contact = Contact.objects.get()
    eight_days_ago = int(time.time()) - 8 * 86400
    token = confirm_token(Confirmation(form.pk, contact.pk, eight_days_ago))
    assert client.get(f"/f/confirm/{token}/").status_code == 410
    assert client.post(f"/f/confirm/{token}/").status_code == 410
    assert statuses("ann@example.com") == {"Newsletter": "unconfirmed"}
    assert Consent.objects.get().confirmed_at is None


def test_a_forged_or_altered_confirmation_token_is_not_found(client, newsletter):
    form = make_signup_form([newsletter])
    signup_process(_values(form, "ann@example.com", newsletter))
    contact = Contact.objects.get()
    token = confirm_token(Confirmation(form.pk, contact.pk, int(time.time())))
    other = f"{form.pk}-{contact.pk + 1}-" + token.split("-", 2)[2]
    for forged in (other, token[:-1] + ("A" if token[-1] != "A" else "B"), "1-2-3"):
        assert client.get(f"/f/confirm/{forged}/").status_code == 404
        assert client.post(f"/f/confirm/{forged}/").status_code == 404
    assert Consent.objects.get().confirmed_at is None


def test_a_suppressed_address_or_domain_is_sent_nothing_and_stored_nowhere(newsletter):
    form = make_signup_form([newsletter])
    Suppression.objects.create(value="gone@example.com", reason="bounced", scope="email")
    Suppression.objects.create(value="blocked.example", reason="manual", scope="domain")
    assert signup_process(_values(form, "gone@example.com", newsletter)).reason == "suppressed"
    assert signup_process(_values(form, "x@blocked.example", newsletter)).reason == "suppressed"
    assert not TxMessage.objects.exists()
    assert not Contact.objects.exists() and not Consent.objects.exists()


def test_a_single_opt_in_form_subscribes_at_once_and_sends_the_welcome(newsletter):
    welcome = Template.objects.create(name="Welcome", subject="Welcome!", html="<p>Hi</p>")
    form = make_signup_form([newsletter], opt_in="single", welcome_template=welcome)
    assert signup_process(_values(form, "ann@example.com", newsletter)).kind == "subscribed"
    assert statuses("ann@example.com") == {"Newsletter": "subscribed"}
    assert Consent.objects.get().confirmed_at is not None
    assert TxMessage.objects.get().request.template == welcome


def test_a_single_opt_in_form_needs_a_confirmation_to_bring_back_someone_who_left(newsletter):
    form = make_signup_form([newsletter], opt_in="single")
    contact = make_contact("ann@example.com", contact_list=newsletter)
    Membership.objects.filter(contact=contact).update(status="unsubscribed")
    assert signup_process(_values(form, "ann@example.com", newsletter)).kind == (
        "confirmation-sent"
    )
    assert statuses("ann@example.com") == {"Newsletter": "unsubscribed"}
    assert "/f/confirm/" in TxMessage.objects.get().data["confirm_url"]


def test_an_anonymous_sign_up_never_changes_an_existing_contacts_name_or_attributes(newsletter):
    form = make_signup_form([newsletter], attribute_fields=[{"key": "city", "label": "City"}])
    make_contact("ann@example.com", name="Ann Lee", attributes={"city": "Shanghai"})
    values = _values(form, "ann@example.com", newsletter)
    signup_process({**values, "name": "Mallory", "attributes": {"city": "Nowhere"}})
    contact = Contact.objects.get()
    assert (contact.name, contact.attributes) == ("Ann Lee", {"city": "Shanghai"})


def test_a_new_contact_gets_the_name_and_attributes_from_the_form(client, newsletter, queued):
    form = make_signup_form([newsletter], attribute_fields=[{"key": "city", "label": "City"}])
    _, jobs = queued(lambda: submit(client, form, "ann@example.com", name="Ann", attr_city="Xi'an"))
    signup_process(jobs[0])
    contact = Contact.objects.get()
    assert (contact.name, contact.attributes) == ("Ann", {"city": "Xi'an"})


def test_the_visitor_chooses_only_among_the_forms_lists(client, newsletter, queued):
    offers, secret = make_list("Offers"), make_list("Staff only")
    form = make_signup_form([newsletter, offers], visitor_chooses_lists=True)
    refused, jobs = queued(lambda: submit(client, form, "ann@example.com", lists=[secret.pk]))
    assert jobs == [] and "Select a valid choice" in refused.content.decode()
    assert "Staff only" not in refused.content.decode()
    _, jobs = queued(lambda: submit(client, form, "ann@example.com", lists=[offers.pk]))
    signup_process(jobs[0])
    assert statuses("ann@example.com") == {"Offers": "unconfirmed"}


def _values(form, email, *lists):
    return {
        "form_id": form.pk,
        "email": email,
        "list_ids": [item.pk for item in lists],
        "consent_text": form.consent_text,
        "client_address": "198.51.100.1",
        "requested_at": "",
    }


def _confirm_path(message):
    url = message.data["confirm_url"]
    return url[url.index("/f/confirm/") :]
