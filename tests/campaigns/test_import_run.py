"""What an import does to contacts, lists and suppressions, and doing it twice."""

import pytest
from django.db import connection

from campaigns.importing.columns import Mapping
from campaigns.models import Contact, Import, ImportRejection, Membership, Suppression
from campaigns.services import contacts as contact_services
from campaigns.services import import_runner
from campaigns.services import imports as import_services
from campaigns.services.suppressions import suppression_add
from campaigns.uploads import uploads_dir
from tests.factories import (
    make_contact,
    make_list,
    people,
    run_import,
    uploaded,
    write_csv,
)

pytestmark = pytest.mark.django_db


def messy_rows() -> list[list[str]]:
    return [
        ["E-mail", "Name", "City", "Plan"],
        ["  Ann@Example.COM ", "Ann", "Oslo", "pro"],
        ["bob@example.com", "Bob", "", "free"],
        ["Ann@EXAMPLE.com", "Ann again", "Rome", "pro"],  # row 2 once the domain is lower-cased
        ["not-an-address", "Nobody", "", ""],
        ["", "No email", "", ""],
        ["", "", "", ""],  # blank row: skipped, not counted
        ["carol@例子.中国", "Carol", "", ""],
    ]


def test_import_counts_every_row_and_rejects_with_row_numbers(tmp_path):
    contact_list = make_list()
    imp = run_import(contact_list, write_csv(tmp_path / "c.csv", messy_rows()))
    assert imp.status == "done"
    summary = (imp.rows_read, imp.created, imp.updated, imp.added, imp.duplicates, imp.invalid)
    assert summary == (6, 3, 0, 3, 1, 2)
    assert imp.percent == 100
    assert not (uploads_dir() / imp.file_path).exists()  # done with the file
    rejected = [(r.row, r.reason, r.value) for r in ImportRejection.objects.order_by("row")]
    assert rejected == [
        (4, "duplicate of row 2", "Ann@example.com"),
        (5, "invalid email address: An email address must have an @-sign.", "not-an-address"),
        (6, "no email address", ""),
    ]
    ann = Contact.objects.get(email="Ann@example.com")
    assert (ann.name, ann.attributes) == ("Ann", {"City": "Oslo", "Plan": "pro"})
    assert Contact.objects.get(email="bob@example.com").attributes == {"Plan": "free"}
    assert Contact.objects.filter(domain="例子.中国").exists()


def test_running_the_same_file_again_changes_nothing(tmp_path):
    contact_list = make_list()
    source = write_csv(tmp_path / "c.csv", messy_rows())
    run_import(contact_list, source)
    before = list(Contact.objects.order_by("pk").values())
    again = run_import(contact_list, source)
    assert (again.created, again.updated, again.added, again.already_on_list) == (0, 0, 0, 3)
    assert (again.duplicates, again.invalid) == (1, 2)
    assert list(Contact.objects.order_by("pk").values()) == before


def test_add_and_update_merges_attributes_and_keeps_status(tmp_path):
    contact_list = make_list()
    make_contact(
        "ann@example.com",
        name="Old",
        attributes={"tier": "gold", "City": "Bergen"},
        status=Contact.Status.BOUNCED,
    )
    rows = [
        ["email", "name", "City"],
        ["ann@example.com", "Ann", "Oslo"],
        ["new@example.com", "", ""],
    ]
    imp = run_import(contact_list, write_csv(tmp_path / "c.csv", rows))
    assert (imp.created, imp.updated, imp.added) == (1, 1, 2)
    ann = Contact.objects.get(email="ann@example.com")
    assert ann.name == "Ann"
    assert ann.attributes == {"tier": "gold", "City": "Oslo"}
    assert ann.status == Contact.Status.BOUNCED


def test_add_only_leaves_existing_contacts_alone_but_lists_them(tmp_path):
    contact_list = make_list()
    make_contact("ann@example.com", name="Old", attributes={"City": "Bergen"})
    rows = [
        ["email", "name", "City"],
        ["ann@example.com", "Ann", "Oslo"],
        ["new@example.com", "N", ""],
    ]
    imp = run_import(contact_list, write_csv(tmp_path / "c.csv", rows), mode=Import.Mode.ADD_ONLY)
    assert (imp.created, imp.updated, imp.added) == (1, 0, 2)
    ann = Contact.objects.get(email="ann@example.com")
    assert (ann.name, ann.attributes) == ("Old", {"City": "Bergen"})


def test_blocklist_mode_blocklists_and_suppresses_without_listing(tmp_path):
    contact_list = make_list()
    make_contact("ann@example.com")
    rows = [["email"], ["ann@example.com"], ["spam@example.net"]]
    imp = run_import(contact_list, write_csv(tmp_path / "c.csv", rows), mode=Import.Mode.BLOCKLIST)
    assert (imp.created, imp.updated, imp.added) == (1, 1, 0)
    assert set(Contact.objects.values_list("status", flat=True)) == {"blocklisted"}
    assert set(Suppression.objects.values_list("value", "reason")) == {
        ("ann@example.com", "blocklisted"),
        ("spam@example.net", "blocklisted"),
    }
    assert not Membership.objects.exists()


def test_suppressed_blocklisted_and_unsubscribed_stay_so(tmp_path):
    contact_list = make_list()
    blocked = make_contact("blocked@example.com", contact_list=contact_list)
    contact_services.contact_blocklist(contact=blocked)
    leaver = make_contact("leaver@example.com", contact_list=contact_list)
    contact_services.membership_unsubscribe(contact_list=contact_list, contact=leaver)
    suppression_add(value="bounced@example.com", reason=Suppression.Reason.BOUNCED)
    suppression_add(value="example.org")
    rows = [
        ["email", "name"],
        ["blocked@example.com", "B"],
        ["leaver@example.com", "L"],
        ["bounced@example.com", "C"],
        ["someone@example.org", "D"],
    ]
    imp = run_import(contact_list, write_csv(tmp_path / "c.csv", rows))
    assert imp.status == "done"
    statuses = dict(Contact.objects.values_list("email", "status"))
    assert statuses == {
        "blocked@example.com": "blocklisted",
        "leaver@example.com": "enabled",
        "bounced@example.com": "bounced",
        "someone@example.org": "enabled",
    }
    assert Membership.objects.get(contact=leaver).status == "unsubscribed"
    assert Suppression.objects.count() == 3  # nothing lifted


def test_a_crashed_run_resumes_after_its_last_committed_batch(tmp_path, monkeypatch):
    monkeypatch.setattr(import_runner, "BATCH_ROWS", 100)
    contact_list = make_list()
    rows = [*people(250), ["person5@example.com", "Again", "Oslo"]]  # a duplicate past the crash
    imp = import_services.import_create(
        contact_list=contact_list,
        path=uploaded(write_csv(tmp_path / "c.csv", rows)),
        file_name="c.csv",
    )
    import_services.import_start(imp, mapping=Mapping(0, 1, (2,)), mode="add_update", enqueue=False)

    writes = []
    real_write = import_runner._write

    def crash_on_second_batch(imp, stage, batch):
        if writes:
            raise SystemExit("worker killed")
        writes.append(batch)
        real_write(imp, stage, batch)

    monkeypatch.setattr(import_runner, "_write", crash_on_second_batch)
    with pytest.raises(SystemExit):
        import_runner.import_run(imp.pk)
    imp.refresh_from_db()
    assert (imp.status, imp.rows_done, imp.created) == ("running", 101, 100)

    monkeypatch.setattr(import_runner, "_write", real_write)
    done = import_runner.import_run(imp.pk)  # what RQ does when it retries the job
    assert (done.status, done.rows_read, done.created, done.duplicates) == ("done", 251, 250, 1)
    assert Contact.objects.count() == 250
    assert ImportRejection.objects.get().reason == "duplicate of row 7"


def test_cancelled_import_stops_between_batches_and_keeps_what_it_wrote(tmp_path, monkeypatch):
    monkeypatch.setattr(import_runner, "BATCH_ROWS", 100)
    contact_list = make_list()
    imp = import_services.import_create(
        contact_list=contact_list,
        path=uploaded(write_csv(tmp_path / "c.csv", people(500))),
        file_name="c.csv",
    )
    import_services.import_start(imp, mapping=Mapping(0, 1, ()), mode="add_update", enqueue=False)

    def cancel_after_first_batch(progress):
        if progress.rows_done and not progress.cancel_requested:
            import_services.import_cancel(progress)

    done = import_runner.import_run(imp.pk, progress=cancel_after_first_batch)
    assert done.status == "cancelled"
    assert done.created == Contact.objects.count() == 100


def test_cancelling_a_queued_import_frees_the_list(tmp_path):
    contact_list = make_list()
    first = import_services.import_create(
        contact_list=contact_list,
        path=uploaded(write_csv(tmp_path / "a.csv", people(3))),
        file_name="a.csv",
    )
    import_services.import_start(first, mapping=Mapping(0), mode="add_update", enqueue=False)
    assert import_services.import_cancel(first).status == "cancelled"
    assert import_runner.import_run(first.pk).status == "cancelled"  # the job finds it cancelled
    assert Contact.objects.count() == 0


def test_second_import_into_a_busy_list_is_refused(tmp_path):
    contact_list = make_list("Newsletter")
    source = write_csv(tmp_path / "a.csv", people(3))
    first, second = (
        import_services.import_create(contact_list=contact_list, path=uploaded(source), file_name=n)
        for n in ("a.csv", "b.csv")
    )
    import_services.import_start(first, mapping=Mapping(0), mode="add_update", enqueue=False)
    with pytest.raises(import_services.ImportConflictError) as caught:
        import_services.import_start(second, mapping=Mapping(0), mode="add_update", enqueue=False)
    assert str(caught.value) == (
        "Another import into “Newsletter” is in progress (a.csv, queued). "
        "Wait until it finishes, or cancel it, then start this one."
    )
    second.refresh_from_db()
    assert second.status == "uploaded"
    import_runner.import_run(first.pk)
    import_services.import_start(second, mapping=Mapping(0), mode="add_update", enqueue=False)
    assert import_runner.import_run(second.pk).already_on_list == 3


def test_import_works_in_a_session_that_already_used_temporary_tables(tmp_path):
    # PostgreSQL refuses to grow temp_buffers then; the import goes on with what there is.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE edm_test_scratch (x integer)")
        cursor.execute("INSERT INTO edm_test_scratch VALUES (1)")
    imp = run_import(make_list(), write_csv(tmp_path / "c.csv", people(5)))
    assert (imp.status, imp.created) == ("done", 5)


def test_rejections_stored_twice_are_kept_once(tmp_path):
    # A batch is written once per run; should one ever be written again, its rejected rows
    # (COPY on PostgreSQL) must neither fail the import nor be counted twice in its report.
    from campaigns.importing.rows import Rejection
    from campaigns.services.import_stage import Stage

    contact_list = make_list()
    imp = run_import(contact_list, write_csv(tmp_path / "c.csv", messy_rows()))
    stage = Stage(list_id=contact_list.pk, mode="add_update", source="test")
    again = [Rejection(5, "not an email address", "not-an-address"), Rejection(99, "new", "x")]

    stage.keep_rejections(imp.pk, again)

    rows = list(ImportRejection.objects.filter(import_run=imp).values_list("row", "reason"))
    assert rows == [
        (4, "duplicate of row 2"),
        (5, "invalid email address: An email address must have an @-sign."),
        (6, "no email address"),
        (99, "new"),
    ]


def test_names_and_attributes_with_tabs_backslashes_and_line_breaks_arrive_intact(tmp_path):
    # PostgreSQL's COPY text format gives \, tab, LF and CR a meaning: they must be escaped.
    tricky = 'Tab\there \\back\\slash\nnew line\r\n and "quotes" \\N'
    rows = [
        ["email", "name", "note"],
        ["t@example.com", tricky, tricky],
        ["u@example.com", "U", ""],
    ]
    imp = run_import(make_list(), write_csv(tmp_path / "t.csv", rows))
    assert (imp.status, imp.created) == ("done", 2)
    contact = Contact.objects.get(email="t@example.com")
    # Cells are stripped; everything inside them is kept as it was.
    assert contact.name == tricky.strip()
    assert contact.attributes == {"note": tricky.strip()}
