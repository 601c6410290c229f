"""Addresses compare without the local part's case: one contact, the first spelling kept."""

import random

import pytest
from django.urls import reverse

from campaigns.emails import email_key, normalize_email
from campaigns.models import Contact, Import, ImportRejection, Membership
from campaigns.selectors.contact_search import contact_by_email, contacts_matching
from campaigns.selectors.contacts import contacts_by_email_prefix
from campaigns.selectors.suppressions import email_is_suppressed
from campaigns.services import contacts as contact_services
from campaigns.services import import_runner
from campaigns.services.contact_upsert import UpsertRow, contacts_upsert
from campaigns.services.contacts import ContactExistsError
from campaigns.services.suppressions import suppression_add
from delivery.models import Delivery
from delivery.planning import deliveries_snapshot
from tests.factories import make_campaign, make_contact, make_list, run_import, write_csv

pytestmark = pytest.mark.django_db


def test_the_key_lower_cases_the_local_part_and_keeps_the_normalized_domain():
    assert normalize_email("USER7@Sina.com").key == "user7@sina.com"
    assert normalize_email("Ünïcode.Ä@Bücher.DE").key == "ünïcode.ä@bücher.de"
    # lower(), not casefold(): ß stays ß (casefold would make it "ss", another mailbox).
    assert email_key("Straße@x.de") == "straße@x.de"


def test_adding_another_spelling_finds_the_contact_and_keeps_the_first_spelling():
    customers = make_list()
    first, created = contact_services.contact_add(contact_list=customers, email="USER7@Sina.com")
    again, created_again = contact_services.contact_add(
        contact_list=customers, email="user7@sina.com"
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Contact.objects.get().email == "USER7@sina.com"


def test_creating_another_spelling_of_a_taken_address_is_contact_exists():
    make_contact("user7@sina.com")
    with pytest.raises(ContactExistsError):
        contact_services.contact_create(email="USER7@Sina.com")
    assert Contact.objects.count() == 1


def test_a_contact_may_change_the_case_of_its_own_address():
    contact = make_contact("user7@sina.com")
    contact_services.contact_update(contact, email="User7@sina.com", name="", attributes={})
    contact.refresh_from_db()
    assert (contact.email, contact.email_key) == ("User7@sina.com", "user7@sina.com")


def test_lookup_and_search_find_every_spelling():
    customers = make_list()
    contact = make_contact("USER7@Sina.com", contact_list=customers)
    make_contact("user8@sina.com", contact_list=customers)
    assert contact_by_email("user7@sina.com") == contact
    assert contact_by_email("User7@SINA.com") == contact
    for typed in ("user7", "USER7", "User7@sina"):
        assert list(contacts_matching(search=typed)) == [contact]
    assert [c.email for c in contacts_by_email_prefix("USER")] == [
        "USER7@Sina.com",
        "user8@sina.com",
    ]


def test_list_page_search_finds_every_spelling(admin_client):
    customers = make_list()
    make_contact("USER7@sina.com", contact_list=customers)
    make_contact("user70@sina.com", contact_list=customers)
    make_contact("other@sina.com", contact_list=customers)
    url = reverse("campaigns:list_contacts", args=[customers.pk])
    page = admin_client.get(url, {"q": "user7"}).context["page"]
    assert [m.contact.email for m in page.memberships] == ["user70@sina.com", "USER7@sina.com"]


def test_bulk_upsert_counts_another_spelling_as_the_same_address():
    customers = make_list()
    make_contact("Ana@shop.example", name="Ana")
    outcome = contacts_upsert(
        contact_list=customers,
        rows=[UpsertRow("ANA@shop.example", "Ana Li"), UpsertRow("ana@shop.example", "ana")],
    )
    assert (outcome.created, outcome.updated, outcome.added) == (0, 1, 1)
    assert [r.reason for r in outcome.rejected] == ["the same address as item 0"]
    contact = Contact.objects.get()
    assert (contact.email, contact.name) == ("Ana@shop.example", "Ana Li")


def test_import_updates_the_contact_written_in_another_case(tmp_path):
    customers = make_list()
    existing = make_contact("USER7@Sina.com", name="Old")
    rows = [["email", "name"], ["user7@sina.com", "Wang"], ["new@sina.com", "New"]]
    imp = run_import(customers, write_csv(tmp_path / "c.csv", rows))
    assert (imp.created, imp.updated, imp.added, imp.duplicates) == (1, 1, 2, 0)
    existing.refresh_from_db()
    assert (existing.email, existing.name) == ("USER7@Sina.com", "Wang")
    assert Membership.objects.filter(contact=existing, list=customers).exists()


def test_import_counts_case_variants_in_later_batches_as_duplicates(tmp_path, monkeypatch):
    # Small batches: the variants meet their first spelling in the seen-table's SQL,
    # not in the reader's per-batch dictionary.
    monkeypatch.setattr(import_runner, "BATCH_ROWS", 3)
    rows = [["email"], ["a@x.example"], ["b@x.example"], ["c@x.example"]]
    rows += [["A@x.example"], ["d@x.example"], ["B@X.example"]]
    imp = run_import(make_list(), write_csv(tmp_path / "c.csv", rows))
    assert (imp.created, imp.duplicates) == (4, 2)
    rejected = [(r.row, r.reason, r.value) for r in ImportRejection.objects.order_by("row")]
    assert rejected == [
        (5, "duplicate of row 2", "A@x.example"),
        (7, "duplicate of row 3", "B@x.example"),
    ]


def test_blocklist_import_suppresses_every_spelling(tmp_path):
    customers = make_list()
    make_contact("User7@sina.com", contact_list=customers)
    rows = [["email"], ["USER7@sina.com"]]
    run_import(customers, write_csv(tmp_path / "c.csv", rows), mode=Import.Mode.BLOCKLIST)
    assert Contact.objects.get().status == "blocklisted"
    assert email_is_suppressed("user7@SINA.com")


def gbk_rows(distinct: int, duplicates: int, seed: int = 7) -> list[list[str]]:
    """A header and `distinct` addresses with Chinese names, plus `duplicates` repeats of rows
    of the first half, shuffled into the second half: half as written, half upper-cased."""
    rng = random.Random(seed)
    rows = [[f"user{i:05}@sina.com", f"用户{i}"] for i in range(distinct)]
    half = distinct // 2
    repeats = [
        [f"USER{i:05}@SINA.COM" if n % 2 else f"user{i:05}@sina.com", f"重复{i}"]
        for n, i in enumerate(rng.sample(range(half), duplicates))
    ]
    tail = rows[half:] + repeats
    rng.shuffle(tail)
    return [["邮箱", "姓名"], *rows[:half], *tail]


@pytest.mark.django_db(transaction=True)
def test_gbk_file_with_upper_cased_duplicates_creates_exactly_the_distinct_count(
    admin_client, tmp_path, rq_burst
):
    customers = make_list("客户")
    rows = gbk_rows(distinct=1940, duplicates=60)
    assert len(rows) - 1 == 2000
    assert sum(1 for row in rows[1:] if row[0] != row[0].lower()) == 30
    source = write_csv(tmp_path / "客户.csv", rows, encoding="gbk")
    with source.open("rb") as handle:
        response = admin_client.post(
            reverse("campaigns:list_import", args=[customers.pk]), {"file": handle}
        )
    imp = Import.objects.get()
    assert response.status_code == 302
    assert imp.encoding.lower() in ("gbk", "gb18030", "gb2312")
    data = {"encoding": imp.encoding, "email_column": 0, "name_column": 1, "mode": "add_update"}
    admin_client.post(reverse("campaigns:import_detail", args=[imp.pk]), data)

    rq_burst("imports")

    imp.refresh_from_db()
    assert imp.status == "done", imp.error
    assert (imp.rows_read, imp.created, imp.duplicates, imp.invalid) == (2000, 1940, 60, 0)
    assert Contact.objects.count() == 1940
    assert Membership.objects.filter(list=customers).count() == 1940
    emails = Contact.objects.values_list("email", flat=True)
    assert all(email == email.lower() for email in emails)  # the first spellings


def test_planning_leaves_out_a_contact_whose_address_is_suppressed_in_another_case():
    customers = make_list()
    make_contact("USER7@sina.com", contact_list=customers)
    make_contact("ok@sina.com", contact_list=customers)
    suppression_add(value="user7@Sina.com")
    campaign = make_campaign(lists=[customers])
    assert deliveries_snapshot(campaign) == 1
    assert list(Delivery.objects.values_list("email", flat=True)) == ["ok@sina.com"]
