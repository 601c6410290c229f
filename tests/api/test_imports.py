"""Imports over the API: upload, progress from a real worker, rejected rows; suppressions."""

from __future__ import annotations

import shutil

import pytest

from campaigns.importing.rows import NAME_MAX_LENGTH
from campaigns.models import Contact, Import, Suppression
from campaigns.uploads import uploads_dir
from tests.api.conftest import assert_error
from tests.factories import csv_text, make_contact, make_list, people, run_import, write_csv


def upload(api, contact_list, path, **fields):
    with path.open("rb") as handle:
        return api.upload("/imports", {"list": contact_list.pk, "file": handle, **fields})


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_file_is_imported_by_the_worker_with_progress_and_rejections(
    api, tmp_path, rq_burst
):
    customers = make_list()
    rows = [*people(40), ["broken", "X", ""], ["person1@example.com", "Dup", ""]]
    response = upload(api, customers, write_csv(tmp_path / "people.csv", rows))
    assert response.status_code == 201, response.content
    imp = response.json()
    assert imp["status"] == "queued"
    assert imp["columns"] == ["email", "name", "city"]
    assert (imp["email_column"], imp["name_column"]) == (0, 1)

    rq_burst("imports")

    done = api.get(f"/imports/{imp['id']}").json()
    assert (done["status"], done["percent"]) == ("done", 100)
    assert (done["created"], done["invalid"], done["duplicates"]) == (40, 1, 1)
    rejections = api.get(f"/imports/{imp['id']}/rejections", {"limit": 1}).json()
    assert rejections["items"][0]["row"] == 42
    assert "invalid email address" in rejections["items"][0]["reason"]
    rest = api.get(f"/imports/{imp['id']}/rejections", {"after": rejections["next"]}).json()
    assert [r["reason"] for r in rest["items"]] == ["duplicate of row 3"]
    assert rest["next"] is None


def test_an_upload_with_columns_given_uses_them(api, tmp_path):
    customers = make_list()
    path = write_csv(tmp_path / "c.csv", [["name", "mail"], ["Ana", "ana@shop.example"]])
    imp = upload(api, customers, path, email_column="1", name_column="0").json()
    assert (imp["status"], imp["email_column"], imp["name_column"]) == ("queued", 1, 0)


def test_a_file_without_an_email_column_waits_for_a_mapping(api, tmp_path):
    customers = make_list()
    path = write_csv(tmp_path / "c.csv", [["who", "what"], ["Ana", "x"]])
    imp = upload(api, customers, path).json()
    assert imp["status"] == "uploaded"

    assert_error(api.post(f"/imports/{imp['id']}/start", {"email_column": 7}), 422, "invalid")
    started = api.post(f"/imports/{imp['id']}/start", {"email_column": 1, "mode": "add_only"})
    assert started.json()["status"] == "queued"
    assert_error(api.post(f"/imports/{imp['id']}/start", {"email_column": 1}), 409, "conflict")


def test_a_second_import_into_a_busy_list_is_409_and_says_how_to_start_it(api, tmp_path):
    customers = make_list()
    path = write_csv(tmp_path / "c.csv", people(3))
    assert upload(api, customers, path).json()["status"] == "queued"
    error = assert_error(upload(api, customers, path), 409, "conflict")
    waiting = Import.objects.get(status="uploaded")
    assert f"/api/imports/{waiting.pk}/start" in error["message"]


def test_an_unreadable_file_is_422_on_file_and_nothing_is_kept(api, tmp_path):
    customers = make_list()
    path = tmp_path / "one.csv"
    path.write_text("ana@shop.example\n")
    error = assert_error(upload(api, customers, path), 422, "invalid", {"file"})
    assert "no header row" in error["message"]
    assert not Import.objects.exists()


def test_an_upload_without_file_or_list_names_both(api):
    error = assert_error(api.upload("/imports", {"mode": "sideways"}), 422, "invalid")
    assert set(error["fields"]) == {"file", "list", "mode"}


def test_a_file_over_the_import_limit_is_413(api, tmp_path, settings):
    settings.EDM_IMPORT_MAX_BYTES = 100
    customers = make_list()
    path = tmp_path / "big.csv"
    path.write_text(csv_text(people(20)))
    assert_error(upload(api, customers, path), 413, "too_large")


def test_an_unstarted_import_can_be_cancelled_or_discarded(api, tmp_path):
    customers = make_list()
    path = write_csv(tmp_path / "c.csv", [["who"], ["Ana"]])
    first = upload(api, customers, path).json()
    assert api.post(f"/imports/{first['id']}/cancel").json()["status"] == "cancelled"
    second = upload(api, customers, path).json()
    assert api.delete(f"/imports/{second['id']}").status_code == 204
    assert_error(api.delete(f"/imports/{first['id']}"), 409, "conflict")


@pytest.fixture
def uploads():
    """The uploads directory, empty at the start of the test."""
    shutil.rmtree(uploads_dir(), ignore_errors=True)
    return uploads_dir()


def test_extra_multipart_parts_leave_no_file_in_uploads(api, tmp_path, uploads):
    # curl … -F list=99999 -F file=@a.csv -F file=@b.csv -F junk=@c.csv
    a, b, c = (write_csv(tmp_path / f"{n}.csv", people(2)) for n in "abc")
    with a.open("rb") as fa, b.open("rb") as fb, c.open("rb") as fc:
        response = api.upload("/imports", {"list": 99999, "file": [fa, fb], "junk": fc})
    assert_error(response, 422, "invalid", {"list", "file"})
    assert list(uploads.iterdir()) == []


def test_an_upload_with_an_extra_part_keeps_only_the_imports_file(api, tmp_path, uploads):
    customers = make_list()
    path = write_csv(tmp_path / "c.csv", people(3))
    with path.open("rb") as handle, path.open("rb") as junk:
        response = api.upload("/imports", {"list": customers.pk, "file": handle, "junk": junk})
    assert response.status_code == 201, response.content
    assert [p.name for p in uploads.iterdir()] == [Import.objects.get().file_path]


def test_an_upload_refused_for_its_encoding_leaves_no_import_and_no_file(api, tmp_path, uploads):
    customers = make_list()
    error = assert_error(
        upload(api, customers, write_csv(tmp_path / "c.csv", people(3)), encoding="klingon"),
        422,
        "invalid",
    )
    assert error["fields"]
    assert not Import.objects.exists()
    assert list(uploads.iterdir()) == []


def test_suppressions_are_added_checked_listed_and_removed(api):
    added = api.post("/suppressions", {"value": "Spam@Shop.example"})
    assert added.status_code == 201
    assert added.json()["value"] == "spam@shop.example"  # the key: every spelling
    assert api.post("/suppressions", {"value": "Spam@shop.example"}).status_code == 200

    many = api.post(
        "/suppressions/bulk",
        {"values": ["bad.example", "x@bad.example", "not valid@", "ok.example"]},
    ).json()
    assert (many["added"], many["already"]) == (3, 0)
    assert [item["value"] for item in many["invalid"]] == ["not valid@"]

    check = api.get("/suppressions/check", {"email": "anyone@bad.example"}).json()
    assert check["suppressed"] is True
    assert check["suppression"]["value"] == "bad.example"
    assert api.get("/suppressions/check", {"email": "a@fine.example"}).json() == {
        "suppressed": False,
        "suppression": None,
    }
    entry = Suppression.objects.get(value="bad.example")
    assert api.delete(f"/suppressions/{entry.pk}").status_code == 204
    assert (
        api.get("/suppressions/check", {"email": "anyone@bad.example"}).json()["suppressed"]
        is False
    )


def test_a_suppression_of_a_non_address_is_422_on_value(api):
    assert_error(api.post("/suppressions", {"value": "@"}), 422, "invalid", {"value"})


def test_suppressing_a_contact_by_hand_leaves_its_status(api):
    make_contact("ana@shop.example")
    api.post("/suppressions", {"value": "ana@shop.example"})
    assert Contact.objects.get().status == "enabled"


def test_an_import_reports_its_rows_imported_with_a_warning(api, tmp_path):
    rows = [["email", "name"], ["a@example.com", "n" * (NAME_MAX_LENGTH + 1)]]
    imp = run_import(make_list(), write_csv(tmp_path / "c.csv", rows))
    body = api.get(f"/imports/{imp.pk}").json()
    assert (body["created"], body["invalid"], body["warnings"]) == (1, 0, 1)
