"""Lists and contacts over the API: the same services as the pages, the same outcomes."""

from __future__ import annotations

from campaigns.models import Contact, Membership, Suppression
from tests.api.conftest import assert_error
from tests.factories import make_contact, make_list


def test_a_list_is_created_renamed_counted_and_deleted(api):
    created = api.post("/lists", {"name": " Customers ", "description": "all of them"})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Customers"
    assert body["counts"]["total"] == 0

    list_id = body["id"]
    api.post(f"/lists/{list_id}/contacts", {"email": "ana@shop.example"})
    renamed = api.patch(f"/lists/{list_id}", {"name": "Clients"}).json()
    assert renamed["name"] == "Clients"
    assert renamed["description"] == "all of them"
    assert renamed["counts"]["total"] == renamed["counts"]["sendable"] == 1

    assert api.delete(f"/lists/{list_id}").status_code == 204
    assert_error(api.get(f"/lists/{list_id}"), 404, "not_found")
    assert Contact.objects.filter(email="ana@shop.example").exists()


def test_adding_an_address_to_a_list_creates_its_contact_once(api):
    contact_list = make_list()
    first = api.post(f"/lists/{contact_list.pk}/contacts", {"email": "Ana@Shop.EXAMPLE"})
    again = api.post(f"/lists/{contact_list.pk}/contacts", {"email": "Ana@shop.example"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["contact"]["email"] == "Ana@shop.example"
    assert first.json()["status"] == "subscribed"
    assert Contact.objects.count() == 1


def test_a_contact_is_created_found_by_email_changed_and_deleted(api):
    customers = make_list()
    created = api.post(
        "/contacts",
        {
            "email": "li@shop.example",
            "name": "李雷",
            "attributes": {"city": "上海", "orders": 3, "vip": True},
            "lists": [customers.pk],
        },
    )
    assert created.status_code == 201
    contact = created.json()
    assert contact["lists"] == [{"list": customers.pk, "status": "subscribed"}]
    assert contact["attributes"] == {"city": "上海", "orders": 3, "vip": True}

    found = api.get("/contacts/by-email", {"email": "li@SHOP.Example"}).json()
    assert found["id"] == contact["id"]

    changed = api.patch(f"/contacts/{contact['id']}", {"name": "Li Lei"}).json()
    assert (changed["name"], changed["email"], changed["attributes"]["city"]) == (
        "Li Lei",
        "li@shop.example",
        "上海",
    )
    assert api.delete(f"/contacts/{contact['id']}").status_code == 204
    assert_error(api.get("/contacts/by-email", {"email": "li@shop.example"}), 404, "not_found")


def test_the_by_email_lookup_ignores_the_case_of_the_local_part(api):
    contact = make_contact("USER7@sina.com")
    found = api.get("/contacts/by-email", {"email": "user7@Sina.com"}).json()
    assert (found["id"], found["email"]) == (contact.pk, "USER7@sina.com")


def test_creating_another_spelling_of_an_existing_address_is_409(api):
    make_contact("li@shop.example")
    assert_error(api.post("/contacts", {"email": "LI@shop.example"}), 409, "conflict")


def test_creating_a_contact_that_exists_is_409(api):
    make_contact("li@shop.example")
    assert_error(api.post("/contacts", {"email": "li@shop.example"}), 409, "conflict")


def test_changing_an_address_to_one_in_use_is_409(api):
    make_contact("taken@shop.example")
    other = make_contact("other@shop.example")
    response = api.patch(f"/contacts/{other.pk}", {"email": "taken@shop.example"})
    assert_error(response, 409, "conflict")


def test_a_new_contact_whose_address_is_suppressed_gets_the_reason_as_status(api):
    Suppression.objects.create(scope="email", value="gone@shop.example", reason="bounced")
    assert api.post("/contacts", {"email": "gone@shop.example"}).json()["status"] == "bounced"


def test_a_contact_on_an_unknown_list_is_refused_naming_the_field(api):
    error = assert_error(
        api.post("/contacts", {"email": "a@shop.example", "lists": [4242]}), 422, "invalid"
    )
    assert error["fields"] == {"lists": ["no list with id 4242"]}


def test_search_finds_contacts_by_email_or_name_prefix_status_and_list(api):
    customers = make_list()
    make_contact("anna@shop.example", contact_list=customers, name="Anna")
    make_contact("bob@shop.example", name="Annabel")
    make_contact("carl@shop.example", contact_list=customers, status="unsubscribed")

    def emails(**params):
        return sorted(c["email"] for c in api.get("/contacts", params).json()["items"])

    assert emails(search="ann") == ["anna@shop.example", "bob@shop.example"]
    assert emails(search="anna@") == ["anna@shop.example"]
    assert emails(list=customers.pk) == ["anna@shop.example", "carl@shop.example"]
    assert emails(status="unsubscribed") == ["carl@shop.example"]


def test_bulk_upsert_creates_updates_merges_and_rejects_by_index(api):
    customers = make_list()
    make_contact("old@shop.example", name="Old", attributes={"city": "Berlin", "tier": "gold"})
    Suppression.objects.create(scope="email", value="blocked@shop.example", reason="blocklisted")
    rows = [
        {"email": "new@shop.example", "name": "New", "attributes": {"city": "Paris"}},
        {"email": "old@shop.example", "attributes": {"city": "Rome"}},
        {"email": "not-an-address"},
        {"email": "new@SHOP.example"},
        {"email": "blocked@shop.example"},
    ]
    response = api.post("/contacts/bulk", {"list": customers.pk, "contacts": rows})
    assert response.status_code == 200, response.content
    outcome = response.json()
    assert (outcome["created"], outcome["updated"], outcome["added"]) == (2, 1, 3)
    assert [(r["index"], r["email"]) for r in outcome["rejected"]] == [
        (2, "not-an-address"),
        (3, "new@SHOP.example"),
    ]
    old = Contact.objects.get(email="old@shop.example")
    assert old.name == "Old"  # an empty name never replaces one
    assert old.attributes == {"city": "Rome", "tier": "gold"}
    assert Contact.objects.get(email="blocked@shop.example").status == "blocklisted"
    assert Membership.objects.filter(list=customers).count() == 3


def test_bulk_upsert_in_add_only_mode_leaves_existing_contacts_alone(api):
    customers = make_list()
    make_contact("old@shop.example", name="Old")
    rows = [{"email": "old@shop.example", "name": "Changed"}]
    outcome = api.post(
        "/contacts/bulk", {"list": customers.pk, "mode": "add_only", "contacts": rows}
    ).json()
    assert (outcome["created"], outcome["updated"], outcome["added"]) == (0, 0, 1)
    assert Contact.objects.get().name == "Old"


def test_bulk_upsert_takes_ten_thousand_contacts_and_refuses_more(api):
    customers = make_list()
    rows = [{"email": f"user{i}@shop.example"} for i in range(10_000)]
    outcome = api.post("/contacts/bulk", {"list": customers.pk, "contacts": rows}).json()
    assert outcome["created"] == 10_000
    assert Membership.objects.filter(list=customers).count() == 10_000

    too_many = [*rows, {"email": "one.more@shop.example"}]
    assert_error(
        api.post("/contacts/bulk", {"list": customers.pk, "contacts": too_many}),
        422,
        "invalid",
        {"contacts"},
    )


def test_a_lists_members_can_be_filtered_unsubscribed_and_removed(api):
    customers = make_list()
    ana = make_contact("ana@shop.example", contact_list=customers)
    make_contact("ben@shop.example", contact_list=customers)
    path = f"/lists/{customers.pk}/contacts"

    assert api.post(f"{path}/{ana.pk}/unsubscribe").status_code == 204
    subscribed = api.get(path, {"status": "subscribed"}).json()["items"]
    assert [m["contact"]["email"] for m in subscribed] == ["ben@shop.example"]
    assert api.get(path).json()["items"][0]["status"] == "unsubscribed"
    assert api.delete(f"{path}/{ana.pk}").status_code == 204
    assert [m["contact"]["email"] for m in api.get(path).json()["items"]] == ["ben@shop.example"]
