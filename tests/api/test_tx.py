"""POST /api/tx: checked at once, queued per recipient, suppressed ones refused, idempotent."""

from __future__ import annotations

import base64

import django_rq
import pytest

from campaigns.models import Suppression, Template
from delivery.models import TxAttempt, TxMessage, TxRequest
from edm.tokens import api_token_create
from tests.api.conftest import ApiClient, assert_error, make_user
from tests.factories import make_contact

pytestmark = pytest.mark.django_db(transaction=True)  # jobs are queued when requests commit


@pytest.fixture
def reset_template(db):
    return Template.objects.create(
        name="Password reset",
        subject="Reset your password, {{ contact.name|default('there') }}",
        html='<p>Use <a href="{{ contact.attributes.link }}">this link</a>.</p>',
    )


def send(api, chosen: Template, *recipients, http_headers=None, **fields):
    """POST /api/tx of `chosen` to `recipients`; `fields` replace the body's defaults."""
    body = {
        "template": chosen.pk,
        "from_email": "account@shop.example",
        "from_name": "Shop",
        "recipients": list(recipients),
        "data": {"link": "https://shop.example/reset/abc"},
    } | fields
    return api.post("/tx", body, headers=http_headers)


def queued_jobs() -> list[tuple[str, tuple]]:
    queue = django_rq.get_queue("transactional")
    return [(job.func_name, job.args) for job in queue.get_jobs()]


def test_each_recipient_gets_a_queued_message_and_one_job_is_queued(api, reset_template):
    response = send(
        api, reset_template, "ana@shop.example", {"email": "ben@shop.example", "name": "Ben"}
    )
    assert response.status_code == 202, response.content
    answer = response.json()
    assert [(m["email"], m["status"]) for m in answer["messages"]] == [
        ("ana@shop.example", "queued"),
        ("ben@shop.example", "queued"),
    ]
    assert queued_jobs() == [("delivery.jobs.send_tx", (answer["request"],))]
    ben = TxMessage.objects.get(email="ben@shop.example")
    assert (ben.name, ben.data) == ("Ben", {"link": "https://shop.example/reset/abc"})
    assert ben.message_id.startswith("<tx.") and ben.message_id.endswith("@shop.example>")


def test_suppressed_recipients_are_refused_with_the_reason_and_the_rest_queued(api, reset_template):
    Suppression.objects.create(scope="email", value="gone@shop.example", reason="bounced")
    Suppression.objects.create(scope="domain", value="blocked.example", reason="manual")
    answer = send(
        api, reset_template, "gone@shop.example", "x@blocked.example", "ok@shop.example"
    ).json()
    outcomes = {m["email"]: (m["status"], m["reason"]) for m in answer["messages"]}
    assert outcomes == {
        "gone@shop.example": ("refused", "suppressed: hard bounce"),
        "x@blocked.example": ("refused", "suppressed: every address at blocked.example"),
        "ok@shop.example": ("queued", ""),
    }


def test_an_unsubscribed_address_still_gets_the_mail_it_asked_for(api, reset_template):
    Suppression.objects.create(scope="email", value="left@shop.example", reason="unsubscribed")
    answer = send(api, reset_template, "left@shop.example").json()
    assert answer["messages"][0]["status"] == "queued"


def test_only_refused_recipients_queue_no_job(api, reset_template):
    Suppression.objects.create(scope="email", value="gone@shop.example", reason="complained")
    send(api, reset_template, "gone@shop.example")
    assert queued_jobs() == []


def test_the_template_can_be_named_and_a_contacts_data_is_used(api, reset_template):
    make_contact("li@shop.example", name="李雷", attributes={"link": "https://old"})
    response = send(api, reset_template, "li@shop.example", template="Password reset", data={})
    message = TxMessage.objects.get(pk=response.json()["messages"][0]["id"])
    assert (message.name, message.data, message.contact.email) == (
        "李雷",
        {"link": "https://old"},
        "li@shop.example",
    )


def test_a_recipient_written_in_another_case_is_its_contact_and_its_suppression(
    api, reset_template
):
    li = make_contact("Li@shop.example", name="李雷")
    Suppression.objects.create(scope="email", value="gone@shop.example", reason="bounced")
    answer = send(api, reset_template, "LI@shop.example", "Gone@shop.example").json()
    found = {m["email"]: m for m in answer["messages"]}
    assert TxMessage.objects.get(pk=found["LI@shop.example"]["id"]).contact_id == li.pk
    assert found["Gone@shop.example"]["status"] == "refused"


def test_an_unknown_template_or_a_layout_is_422_on_template(api, reset_template):
    assert_error(
        send(api, reset_template, "a@shop.example", template="Nope"), 422, "invalid", {"template"}
    )
    layout = Template.objects.create(name="Frame", kind="layout", html="<div>{{ content }}</div>")
    assert_error(
        send(api, reset_template, "a@shop.example", template=layout.pk),
        422,
        "invalid",
        {"template"},
    )
    assert not TxRequest.objects.exists()


def test_bad_addresses_are_422_naming_each_recipient(api, reset_template):
    error = assert_error(
        send(api, reset_template, "fine@shop.example", "nope", "fine@SHOP.example"), 422, "invalid"
    )
    assert set(error["fields"]) == {"recipients.1.email", "recipients.2.email"}
    assert error["fields"]["recipients.2.email"] == ["the same address as recipient 0"]
    assert not TxMessage.objects.exists()


def test_a_template_that_fails_for_a_recipient_is_422_and_nothing_is_stored(api):
    template = Template.objects.create(
        name="Strict", subject="Hi", html="{{ 1 // contact.attributes.zero }}"
    )
    response = send(api, template, {"email": "a@shop.example", "data": {"zero": 0}})
    error = assert_error(response, 422, "invalid", {"recipients.0"})
    assert "ZeroDivisionError" in error["fields"]["recipients.0"][0]
    assert not TxRequest.objects.exists()


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({"X-Campaign": "a\r\nBcc: victim@else.example"}, "headers.X-Campaign"),
        ({"Subject": "Other"}, "headers.Subject"),
        ({"List-Unsubscribe": "<mailto:x@shop.example>"}, "headers.List-Unsubscribe"),
        ({"Content-Type": "text/plain"}, "headers.Content-Type"),
        ({"Bad Name": "x"}, "headers.Bad Name"),
    ],
)
def test_headers_that_could_break_the_message_are_refused(api, reset_template, headers, field):
    response = send(api, reset_template, "a@shop.example", headers=headers)
    assert_error(response, 422, "invalid", {field})


def test_attachments_over_the_limit_are_413_and_bad_base64_is_422(api, reset_template):
    big = base64.b64encode(b"x" * (10 * 1024 * 1024 + 1)).decode()
    response = send(
        api, reset_template, "a@shop.example", attachments=[{"filename": "a.bin", "content": big}]
    )
    assert_error(response, 413, "too_large")
    response = send(
        api, reset_template, "a@shop.example", attachments=[{"filename": "a.bin", "content": "%%%"}]
    )
    assert_error(response, 422, "invalid", {"attachments.0.content"})
    assert not TxRequest.objects.exists()


def test_a_retry_with_the_same_idempotency_key_sends_nothing_twice(api, reset_template):
    key = {"Idempotency-Key": "signup-4711"}
    first = send(api, reset_template, "ana@shop.example", http_headers=key)
    again = send(api, reset_template, "ana@shop.example", http_headers=key)
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert TxMessage.objects.count() == 1
    assert len(queued_jobs()) == 1


def test_the_same_key_with_another_body_is_refused(api, reset_template):
    key = {"Idempotency-Key": "signup-4711"}
    send(api, reset_template, "ana@shop.example", http_headers=key)
    response = send(api, reset_template, "someone.else@shop.example", http_headers=key)
    assert_error(response, 422, "invalid")
    assert TxMessage.objects.count() == 1


def test_idempotency_keys_belong_to_their_user(client, api, reset_template):
    other = ApiClient(client, api_token_create(user=make_user("grace"), name="g").secret)
    key = {"Idempotency-Key": "same-key"}
    send(api, reset_template, "ana@shop.example", http_headers=key)
    assert send(other, reset_template, "ana@shop.example", http_headers=key).status_code == 202
    assert TxMessage.objects.count() == 2


def test_a_malformed_idempotency_key_is_400(api, reset_template):
    response = send(
        api, reset_template, "ana@shop.example", http_headers={"Idempotency-Key": "ä" * 3}
    )
    assert_error(response, 400, "bad_request", {"Idempotency-Key"})


def test_a_message_shows_its_status_and_attempts(api, reset_template):
    answer = send(api, reset_template, "ana@shop.example").json()
    message_id = answer["messages"][0]["id"]
    message = TxMessage.objects.get(pk=message_id)
    TxAttempt.objects.create(
        message=message, at=message.created_at, outcome="deferred", code=451, text="later"
    )
    shown = api.get(f"/tx/{message_id}").json()
    assert (shown["status"], shown["template"], shown["email"]) == (
        "queued",
        "Password reset",
        "ana@shop.example",
    )
    assert [(a["outcome"], a["code"]) for a in shown["attempt_log"]] == [("deferred", 451)]
    listed = api.get("/tx", {"email": "ana@shop.example"}).json()["items"]
    assert [m["id"] for m in listed] == [message_id]
    assert_error(api.get("/tx/987654"), 404, "not_found")


def test_two_nested_range_loops_in_a_transactional_template_are_a_422_at_accept_time(api):
    looping = Template.objects.create(
        name="Looping",
        subject="Hi",
        html="<p>Hi</p>\n{% for i in range(100000) %}{% for j in range(100000) %}"
        "{% endfor %}{% endfor %}",
    )
    error = assert_error(send(api, looping, "ana@shop.example"), 422, "invalid", {"recipients.0"})
    assert error["fields"]["recipients.0"] == [
        "the template fails for this recipient: html: the template ran past its budget of "
        "100,000 steps (line 2)"
    ]
    assert not TxRequest.objects.exists() and queued_jobs() == []


def test_a_looping_transactional_template_is_rendered_for_one_recipient_not_fifty(api):
    # Each render may take its whole budget; a request must not hold a web process for fifty.
    looping = Template.objects.create(
        name="Looping",
        subject="Hi",
        html="{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    )
    recipients = [f"user{n}@shop.example" for n in range(50)]
    error = assert_error(send(api, looping, *recipients), 422, "invalid", {"recipients.0"})
    assert set(error["fields"]) == {"recipients.0"}
    assert not TxRequest.objects.exists()
