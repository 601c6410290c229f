"""Sign-up form abuse: robots, floods, mail bombs, and learning who is subscribed."""

from __future__ import annotations

import time

import django_rq
import pytest

from campaigns.models import Membership, Suppression
from campaigns.services.signups import signup_process
from campaigns.signup_tokens import form_stamp
from delivery.models import TxMessage
from tests.campaigns.signup_helpers import STAMP_FIELD, make_signup_form, submit
from tests.factories import make_contact, make_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(redis_db):
    return make_signup_form([make_list("Newsletter")])


@pytest.fixture
def queued(django_capture_on_commit_callbacks):
    """Run the view; hand back its response and the sign-up jobs it queued (unrun)."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            response = action()
        queue = django_rq.get_queue("transactional")
        jobs = [job.args[0] for job in queue.jobs]
        queue.empty()
        return response, jobs

    return run


def test_a_filled_honeypot_gets_the_usual_answer_and_nothing_is_queued(client, form, queued):
    person, _ = queued(lambda: submit(client, form, "ann@example.com"))
    robot, jobs = queued(lambda: submit(client, form, "bot@example.com", website="http://spam"))
    assert jobs == []
    assert (robot.status_code, robot.content) == (person.status_code, person.content)


def test_a_form_sent_back_sooner_than_the_minimum_gets_the_usual_answer_and_is_dropped(
    client, form, queued, settings
):
    settings.EDM_FORM_MIN_SECONDS = 3
    person, _ = queued(lambda: submit(client, form, "ann@example.com"))
    one_second_old = form_stamp(form.public_id, time.time() - 1)
    fast, jobs = queued(lambda: submit(client, form, "bot@example.com", stamp=one_second_old))
    assert jobs == []
    assert (fast.status_code, fast.content) == (person.status_code, person.content)
    four_seconds_old = form_stamp(form.public_id, time.time() - 4)
    _, jobs = queued(lambda: submit(client, form, "ann@example.com", stamp=four_seconds_old))
    assert [job["email"] for job in jobs] == ["ann@example.com"]


@pytest.mark.parametrize("stamp", ["", "1764871234-AAAAAAAAAAAAAAAA", "stale"])
def test_a_missing_forged_or_stale_stamp_shows_the_form_again_filled_in_and_freshly_stamped(
    client, form, queued, settings, stamp
):
    if stamp == "stale":
        stamp = form_stamp(form.public_id, time.time() - 25 * 3600)
    again, jobs = queued(lambda: submit(client, form, "ann@example.com", stamp=stamp))
    html = again.content.decode()
    assert jobs == []
    assert again.status_code == 200 and "press Subscribe again" in html
    assert 'value="ann@example.com"' in html
    assert STAMP_FIELD.search(html).group(1) != stamp
    other_form = make_signup_form(list(form.lists.all()), name="Other")
    borrowed = form_stamp(other_form.public_id, time.time() - 10)
    _, jobs = queued(lambda: submit(client, form, "ann@example.com", stamp=borrowed))
    assert jobs == []  # a stamp is good for the form it was made for only


def test_past_the_hourly_limit_a_client_address_is_refused_and_others_are_not(
    client, form, queued, settings
):
    settings.EDM_FORM_SUBMISSIONS_PER_HOUR = 3
    answers = [submit(client, form, f"p{n}@example.com").status_code for n in range(4)]
    assert answers == [200, 200, 200, 429]
    limited, jobs = queued(lambda: submit(client, form, "p5@example.com"))
    assert limited.status_code == 429 and jobs == []
    other, jobs = queued(lambda: submit(client, form, "p6@example.com", ip="198.51.100.9"))
    assert other.status_code == 200 and len(jobs) == 1


def test_robots_count_towards_the_limit_too(client, form, settings):
    settings.EDM_FORM_SUBMISSIONS_PER_HOUR = 2
    for _ in range(2):
        submit(client, form, "bot@example.com", website="x")
    assert submit(client, form, "ann@example.com").status_code == 429


def test_the_answer_is_the_same_whoever_the_address_belongs_to(client, form, queued):
    newsletter = form.lists.get()
    make_contact("subscribed@example.com", contact_list=newsletter)
    left = make_contact("left@example.com", contact_list=newsletter)
    Membership.objects.filter(contact=left).update(status="unsubscribed")
    Suppression.objects.create(value="bounced@example.com", reason="bounced", scope="email")
    answers = {}
    for email in (
        "new@example.com",
        "subscribed@example.com",
        "left@example.com",
        "bounced@example.com",
    ):
        response, jobs = queued(lambda email=email: submit(client, form, email))
        answers[email] = (response.status_code, response.content, len(jobs), len(response.cookies))
    assert len(set(answers.values())) == 1, answers
    assert answers["new@example.com"][:1] == (200,)


def test_a_malformed_address_gets_a_form_error_and_nothing_is_queued(client, form, queued):
    response, jobs = queued(lambda: submit(client, form, "not an address"))
    html = response.content.decode()
    assert jobs == []
    assert response.status_code == 200 and 'class="error"' in html
    assert "Check your inbox" not in html


def test_one_address_gets_at_most_the_daily_number_of_confirmations(form, settings):
    settings.EDM_SIGNUP_MAILS_PER_ADDRESS_PER_DAY = 2
    values = {"form_id": form.pk, "list_ids": [form.lists.get().pk]}
    outcomes = [
        signup_process({**values, "email": email}).kind
        for email in ("victim@example.com", "VICTIM@example.com", "victim@example.com")
    ]
    assert outcomes == ["confirmation-sent", "confirmation-sent", "ignored"]
    assert TxMessage.objects.filter(email__iexact="victim@example.com").count() == 2
    other = signup_process({**values, "email": "someone.else@example.com"})
    assert other.kind == "confirmation-sent"


def test_addresses_of_one_ipv6_64_share_one_count(client, form, settings):
    settings.EDM_FORM_SUBMISSIONS_PER_HOUR = 2
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::2"):
        assert submit(client, form, "ann@example.com", ip=host).status_code == 200
    assert submit(client, form, "ann@example.com", ip="2001:db8:1:2::ffff").status_code == 429
    assert submit(client, form, "ann@example.com", ip="2001:db8:1:3::1").status_code == 200


def test_a_sign_up_job_run_twice_stores_and_sends_once(form):
    values = {
        "form_id": form.pk,
        "email": "ann@example.com",
        "list_ids": [form.lists.get().pk],
        "requested_at": "2026-12-04T10:00:00+00:00",
    }
    assert signup_process(values).kind == "confirmation-sent"
    assert signup_process(values).reason == "processed before"
    assert TxMessage.objects.count() == 1
    assert form.consents.count() == 1
