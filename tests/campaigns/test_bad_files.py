"""Bad contact files get a clear message and leave the database as it was."""

import pytest
from django.urls import reverse

from campaigns.importing.errors import BadFileError
from campaigns.models import Contact, Import, ImportRejection
from campaigns.services import import_runner
from campaigns.services import imports as import_services
from campaigns.uploads import uploads_dir
from tests.factories import csv_text, make_list, people, run_import, uploaded, write_csv

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


def create(tmp_path, name: str, data: bytes):
    source = tmp_path / name
    source.write_bytes(data)
    return import_services.import_create(
        contact_list=make_list(), path=uploaded(source), file_name=name
    )


def assert_nothing_kept():
    assert Import.objects.count() == 0
    assert Contact.objects.count() == 0
    assert list(uploads_dir().iterdir()) == []


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "The file is empty."),
        ("blank.csv", b"\r\n  \r\n", "The file is empty."),
        ("no-header.csv", b"ann@example.com,Ann\r\nbob@example.com,Bob\r\n", "has no header row"),
        ("photo.csv", PNG + bytes(range(256)) * 40, "it looks like a PNG image"),
        ("old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "old Excel (.xls)"),
        ("noise.csv", bytes(range(256)) * 64, "not a text file in any encoding we know"),
        (
            "quotes.csv",
            b'email,name\r\nann@example.com,"Ann\r\nbob@example.com,Bob\r\n',
            'Row 2 opens a quote (") that is never closed',
        ),
        (
            "same-names.csv",
            b"email,Name,city,name\r\nann@example.com,Ann,Oslo,A\r\n",
            'The column name "name" appears twice (columns 2 and 4)',
        ),
        ("empty-header.csv", b",,\r\nann@example.com,Ann,\r\n", "The first row is empty"),
    ],
)
def test_bad_file_is_refused_with_a_message_and_nothing_kept(tmp_path, name, data, message):
    with pytest.raises(BadFileError) as caught:
        create(tmp_path, name, data)
    assert message in str(caught.value)
    assert_nothing_kept()


def test_a_50_mb_single_line_is_refused_without_reading_it_whole(tmp_path):
    source = tmp_path / "one-line.csv"
    with source.open("wb") as handle:
        handle.write(b"email,")
        for _ in range(50):
            handle.write(b"x" * (1024 * 1024))
    with pytest.raises(BadFileError, match="Row 1 is longer than 1 MB without a line break"):
        import_services.import_create(
            contact_list=make_list(), path=uploaded(source), file_name=source.name
        )
    assert_nothing_kept()


def test_file_over_the_size_limit_is_refused(tmp_path, settings):
    settings.EDM_IMPORT_MAX_BYTES = 1000
    data = csv_text(people(100)).encode()
    with pytest.raises(BadFileError) as caught:
        create(tmp_path, "big.csv", data)
    assert str(caught.value) == f"The file is {len(data) / 1024:.0f} KB; the limit is 1000 bytes."
    assert_nothing_kept()


def test_upload_over_the_limit_is_stopped_while_streaming_and_the_limit_is_shown(
    admin_client, tmp_path, settings
):
    settings.EDM_IMPORT_MAX_BYTES = 2 * 1024 * 1024
    contact_list = make_list()
    url = reverse("campaigns:list_import", args=[contact_list.pk])
    assert "up to 2 MB" in admin_client.get(url).content.decode()
    big = write_csv(tmp_path / "big.csv", people(80_000))
    with big.open("rb") as handle:
        response = admin_client.post(url, {"file": handle})
    assert response.status_code == 200
    assert "The file is larger than 2 MB, the limit for imports." in response.content.decode()
    assert_nothing_kept()


def test_upload_of_an_image_shows_the_reason_on_the_form(admin_client, tmp_path):
    contact_list = make_list()
    image = tmp_path / "contacts.csv"
    image.write_bytes(PNG * 10)
    with image.open("rb") as handle:
        response = admin_client.post(
            reverse("campaigns:list_import", args=[contact_list.pk]), {"file": handle}
        )
    assert "This is not a contact file: it looks like a PNG image." in response.content.decode()
    assert_nothing_kept()


def test_file_without_an_email_column_asks_for_one(admin_client, tmp_path):
    contact_list = make_list()
    source = write_csv(tmp_path / "c.csv", [["name", "city"], ["Ann", "Oslo"], ["Bob", "Rome"]])
    with source.open("rb") as handle:
        response = admin_client.post(
            reverse("campaigns:list_import", args=[contact_list.pk]), {"file": handle}
        )
    mapping_url = response["Location"]
    page = admin_client.get(mapping_url).content.decode()
    assert "No column in the first rows holds email addresses" in page
    response = admin_client.post(mapping_url, {"mode": "add_update", "encoding": "utf-8"})
    assert "Choose the column that holds the email addresses." in response.content.decode()
    assert Import.objects.get().status == "uploaded"


def test_formula_in_the_email_column_is_rejected_and_formulas_elsewhere_kept_as_text(tmp_path):
    rows = [
        ["email", "name", "note"],
        ['=HYPERLINK("http://x","y")', "Eve", "x"],
        ["ann@example.com", "=1+1", "@SUM(A1:A2)"],
    ]
    imp = run_import(make_list(), write_csv(tmp_path / "c.csv", rows))
    assert (imp.created, imp.invalid) == (1, 1)
    assert ImportRejection.objects.get().reason == "a spreadsheet formula, not an email address"
    contact = Contact.objects.get()
    assert (contact.name, contact.attributes) == ("=1+1", {"note": "@SUM(A1:A2)"})


def test_unbalanced_quote_late_in_a_file_fails_the_import_but_keeps_it_consistent(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(import_runner, "BATCH_ROWS", 100)
    rows = csv_text(people(250))
    broken = tmp_path / "broken.csv"
    broken.write_text(
        rows + 'late@example.com,"Never closed\r\n' + csv_text(people(10, start=900)[1:])
    )
    contact_list = make_list()

    failed = run_import(contact_list, broken)
    assert failed.status == "failed"
    assert 'Row 252 opens a quote (") that is never closed' in failed.error
    # Whole batches before the bad row are in; nothing after it.
    assert failed.rows_done == 201
    assert Contact.objects.count() == 200 == failed.created

    fixed = write_csv(tmp_path / "fixed.csv", people(250))
    again = run_import(contact_list, fixed)
    assert (again.status, again.created, again.already_on_list) == ("done", 50, 200)
    assert Contact.objects.count() == 250
