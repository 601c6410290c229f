"""A whole campaign driven through the API alone, delivered by a real worker in mx mode."""

from __future__ import annotations

import pytest

from campaigns.models import Contact
from tests.api.conftest import wait_until
from tests.workers import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_campaign_goes_from_nothing_to_finished_through_the_api(api, mx_mode, redis_db):
    customers = api.post("/lists", {"name": "Customers"}).json()
    people = [
        {"email": f"user{i}@{domain}", "name": f"用户{i}", "attributes": {"tier": "gold"}}
        for i, domain in enumerate(["a.example", "b.example", "shop.example"] * 10)
    ]
    upserted = api.post("/contacts/bulk", {"list": customers["id"], "contacts": people}).json()
    assert (upserted["created"], upserted["rejected"]) == (30, [])
    template = api.post(
        "/templates",
        {
            "name": "Spring",
            "subject": "{{ contact.name }}, spring is here",
            "html": "<p>{{ contact.attributes.tier }} offer</p>"
            '<a href="{{ unsubscribe_url }}">Unsubscribe</a>',
        },
    ).json()
    campaign = api.post(
        "/campaigns",
        {
            "name": "Spring sale",
            "from_email": "news@shop.example",
            "from_name": "Shop",
            "lists": [customers["id"]],
            "template": template["id"],
        },
    ).json()
    path = f"/campaigns/{campaign['id']}"
    assert api.get(f"{path}/audience").json() == {"size": 30}

    worker = WorkerProcess(())
    try:
        assert api.post(f"{path}/start").json()["status"] == "sending"
        finished = wait_until(
            lambda: api.get(f"{path}/stats").json()["status"] == "finished", timeout=90
        )
    finally:
        worker.stop()
    assert finished

    stats = api.get(f"{path}/stats").json()
    assert (stats["audience"], stats["sent"], stats["pending"], stats["bounced"]) == (30, 30, 0, 0)
    sites = {s["site"]: s["sent"] for s in api.get(f"{path}/sites").json()["items"]}
    assert sites == {"mail.example": 20, "shop.example": 10}  # a. and b.example share an MX
    received = sorted(m.rcpt_tos[0] for m in mx_mode.messages)
    assert received == sorted(p["email"] for p in people)
    statuses = {d["status"] for d in api.get(f"{path}/deliveries", {"limit": 500}).json()["items"]}
    assert statuses == {"sent"}
    assert Contact.objects.filter(status="enabled").count() == 30
