"""Every list is a bounded page with a cursor; following the cursors visits each item once."""

from __future__ import annotations

from campaigns.models import Suppression
from tests.api.conftest import assert_error
from tests.factories import make_contact, make_list


def walk(api, path: str, params: dict | None = None) -> tuple[list[dict], int]:
    """Every item of a paginated list, and how many pages it took."""
    items, pages, after = [], 0, None
    while True:
        query = {**(params or {}), **({"after": after} if after else {})}
        body = api.get(path, query).json()
        items += body["items"]
        pages += 1
        after = body["next"]
        if after is None:
            return items, pages


def test_following_next_visits_every_contact_once_in_id_order(api):
    for i in range(23):
        make_contact(f"user{i:02}@shop.example")
    items, pages = walk(api, "/contacts", {"limit": 5})
    ids = [c["id"] for c in items]
    assert len(ids) == 23 and ids == sorted(set(ids))
    assert pages == 5


def test_a_contact_added_meanwhile_appears_on_a_later_page_and_nothing_repeats(api):
    for i in range(4):
        make_contact(f"user{i}@shop.example")
    first = api.get("/contacts", {"limit": 2}).json()
    make_contact("late@shop.example")
    rest, _ = walk(api, "/contacts", {"limit": 2, "after": first["next"]})
    emails = [c["email"] for c in first["items"] + rest]
    assert len(emails) == len(set(emails)) == 5


def test_the_default_page_is_bounded(api):
    customers = make_list()
    for i in range(60):
        make_contact(f"user{i:02}@shop.example", contact_list=customers)
    page = api.get("/contacts").json()
    assert len(page["items"]) == 50
    assert page["next"] is not None


def test_a_lists_members_page_in_email_order(api):
    customers = make_list()
    for name in ["dora", "ana", "cai", "ben", "eve"]:
        make_contact(f"{name}@shop.example", contact_list=customers)
    items, pages = walk(api, f"/lists/{customers.pk}/contacts", {"limit": 2})
    assert [m["contact"]["email"].split("@")[0] for m in items] == [
        "ana",
        "ben",
        "cai",
        "dora",
        "eve",
    ]
    assert pages == 3


def test_suppressions_page_in_value_order(api):
    for value in ["c.example", "a.example", "b@d.example"]:
        Suppression.objects.create(scope="domain", value=value)
    items, pages = walk(api, "/suppressions", {"limit": 1})
    assert [s["value"] for s in items] == ["a.example", "b@d.example", "c.example"]
    assert pages == 3


def test_a_cursor_that_is_not_ours_is_422_on_after(api):
    assert_error(api.get("/contacts", {"after": "bm9wZQ"}), 422, "invalid", {"after"})
    assert_error(api.get("/contacts", {"after": "%%%"}), 422, "invalid", {"after"})
    assert_error(api.get("/suppressions", {"after": "MTI"}), 422, "invalid", {"after"})
