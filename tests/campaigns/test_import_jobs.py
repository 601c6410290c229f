"""Imports through the pages and a real RQ worker on the `imports` queue."""

import csv
import io

import pytest
from django.urls import reverse

from campaigns.models import Contact, Import
from edm import redis as edm_redis
from tests.factories import make_list, people, write_csv

pytestmark = pytest.mark.django_db(transaction=True)


def upload(client, contact_list, source):
    with source.open("rb") as handle:
        response = client.post(
            reverse("campaigns:list_import", args=[contact_list.pk]), {"file": handle}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Import.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])


def start(client, imp, **choices):
    data = {"encoding": imp.encoding, "email_column": 0, "name_column": 1, "mode": "add_update"}
    data |= choices
    return client.post(reverse("campaigns:import_detail", args=[imp.pk]), data)


def test_uploaded_file_is_imported_by_the_worker_and_reported(admin_client, tmp_path, rq_burst):
    contact_list = make_list()
    rows = [*people(300), ["broken", "X", ""], ["person1@example.com", "Dup", ""]]
    imp = upload(admin_client, contact_list, write_csv(tmp_path / "people.csv", rows))
    mapping_page = admin_client.get(
        reverse("campaigns:import_detail", args=[imp.pk])
    ).content.decode()
    assert "person0@example.com" in mapping_page and "utf-8" in mapping_page

    response = start(admin_client, imp, attribute_columns=[2])
    assert response.status_code == 302
    progress_url = reverse("campaigns:import_progress", args=[imp.pk])
    assert admin_client.get(progress_url).json()["status"] == "queued"

    rq_burst("imports")

    progress = admin_client.get(progress_url).json()
    assert progress["status"] == "done" and progress["finished"]
    assert progress["percent"] == 100
    counts = {k: progress[k] for k in ("rows_read", "created", "duplicates", "invalid", "added")}
    assert counts == {"rows_read": 302, "created": 300, "duplicates": 1, "invalid": 1, "added": 300}
    assert Contact.objects.get(email="person7@example.com").attributes == {"city": "Berlin"}

    download = admin_client.get(reverse("campaigns:import_rejected", args=[imp.pk]))
    text = b"".join(download.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff")))) == [
        ["row", "reason", "email"],
        ["302", "invalid email address: An email address must have an @-sign.", "broken"],
        ["303", "duplicate of row 3", "person1@example.com"],
    ]


def test_two_imports_into_one_list_never_interleave(admin_client, tmp_path, rq_burst):
    contact_list = make_list("Weekly")
    first = upload(admin_client, contact_list, write_csv(tmp_path / "a.csv", people(50)))
    second = upload(admin_client, contact_list, write_csv(tmp_path / "b.csv", people(50, start=50)))
    start(admin_client, first)
    response = start(admin_client, second)
    assert response.status_code == 200
    assert (
        "Another import into “Weekly” is in progress (a.csv, queued)." in response.content.decode()
    )

    rq_burst("imports")
    assert start(admin_client, second).status_code == 302
    rq_burst("imports")
    second.refresh_from_db()
    assert (second.status, second.created) == ("done", 50)
    assert Contact.objects.count() == 100


def test_cancelled_before_the_worker_takes_it_the_job_does_nothing(
    admin_client, tmp_path, rq_burst
):
    contact_list = make_list()
    imp = upload(admin_client, contact_list, write_csv(tmp_path / "a.csv", people(20)))
    start(admin_client, imp)
    admin_client.post(reverse("campaigns:import_cancel", args=[imp.pk]))
    rq_burst("imports")
    imp.refresh_from_db()
    assert imp.status == "cancelled"
    assert Contact.objects.count() == 0


def test_encoding_can_be_overridden_before_starting(admin_client, tmp_path, rq_burst):
    contact_list = make_list()
    rows = [["email", "name"], *([f"c{i}@example.com", "Zoë Œuvre"] for i in range(30))]
    imp = upload(admin_client, contact_list, write_csv(tmp_path / "w.csv", rows, encoding="cp1252"))
    url = reverse("campaigns:import_detail", args=[imp.pk])
    garbled = admin_client.get(url, {"encoding": "cp1251"}).content.decode()
    assert "Zoë Œuvre" not in garbled
    start(admin_client, imp, encoding="cp1252")
    rq_burst("imports")
    assert Contact.objects.get(email="c3@example.com").name == "Zoë Œuvre"


def test_an_import_whose_worker_died_can_be_resumed_or_cancelled(admin_client, tmp_path, rq_burst):
    contact_list = make_list()
    imp = upload(admin_client, contact_list, write_csv(tmp_path / "a.csv", people(30)))
    start(admin_client, imp)
    # What a worker killed mid-job leaves behind: the import running, its job gone.
    Import.objects.filter(pk=imp.pk).update(status="running")
    edm_redis.connection().flushdb()
    progress_url = reverse("campaigns:import_progress", args=[imp.pk])
    assert admin_client.get(progress_url).json()["stalled"] is True
    page = admin_client.get(reverse("campaigns:import_detail", args=[imp.pk])).content.decode()
    assert "The worker running this import stopped." in page

    admin_client.post(reverse("campaigns:import_resume", args=[imp.pk]))
    rq_burst("imports")
    imp.refresh_from_db()
    assert (imp.status, imp.created) == ("done", 30)

    other = upload(admin_client, contact_list, write_csv(tmp_path / "b.csv", people(5, start=99)))
    start(admin_client, other)
    Import.objects.filter(pk=other.pk).update(status="running")
    edm_redis.connection().flushdb()
    admin_client.post(reverse("campaigns:import_cancel", args=[other.pk]))
    other.refresh_from_db()
    assert other.status == "cancelled"
