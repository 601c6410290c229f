"""Import details: long names are cut with a warning, uploads waiting for a mapping can be
discarded from the list page, and exports keep non-ASCII list names (RFC 6266)."""

from urllib.parse import unquote

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from campaigns.importing.rows import NAME_MAX_LENGTH
from campaigns.models import Contact, Import, ImportWarning
from campaigns.services import import_runner
from campaigns.services import imports as import_services
from campaigns.uploads import uploads_dir
from tests.factories import make_campaign, make_contact, make_list, run_import, uploaded, write_csv

pytestmark = pytest.mark.django_db


def test_a_name_longer_than_the_limit_is_cut_and_listed_as_a_warning(tmp_path, admin_client):
    long_name = "王" * (NAME_MAX_LENGTH + 40)
    rows = [["email", "name"], ["wang@example.cn", long_name], ["li@example.cn", "李"]]
    imp = run_import(make_list(), write_csv(tmp_path / "c.csv", rows))
    assert (imp.created, imp.invalid, imp.duplicates, imp.warnings) == (2, 0, 0, 1)
    assert Contact.objects.get(email="wang@example.cn").name == "王" * NAME_MAX_LENGTH
    warning = ImportWarning.objects.get()
    assert (warning.row, warning.value) == (2, "wang@example.cn")
    assert warning.message == f"the name was cut to {NAME_MAX_LENGTH} characters"

    page = admin_client.get(reverse("campaigns:import_detail", args=[imp.pk])).content.decode()
    assert f"Row 2 (wang@example.cn): the name was cut to {NAME_MAX_LENGTH} characters" in page
    progress = admin_client.get(reverse("campaigns:import_progress", args=[imp.pk])).json()
    assert progress["warnings"] == 1


def test_a_duplicate_row_with_a_long_name_is_a_duplicate_not_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(import_runner, "BATCH_ROWS", 2)  # the second copy in a later batch too
    long_name = "x" * (NAME_MAX_LENGTH + 1)
    rows = [["email", "name"], ["a@example.com", "A"], ["b@example.com", "B"]]
    rows += [["A@example.com", long_name], ["a@example.com", long_name], ["c@example.com", "C"]]
    imp = run_import(make_list(), write_csv(tmp_path / "c.csv", rows))
    assert (imp.created, imp.duplicates, imp.warnings) == (3, 2, 0)
    assert not ImportWarning.objects.exists()


def waiting_upload(tmp_path, contact_list) -> Import:
    source = write_csv(tmp_path / "waiting.csv", [["email"], ["a@example.com"]])
    return import_services.import_create(
        contact_list=contact_list, path=uploaded(source), file_name="waiting.csv"
    )


def test_an_upload_waiting_for_mapping_is_discarded_from_the_list_page(tmp_path, admin_client):
    customers = make_list()
    imp = waiting_upload(tmp_path, customers)
    path = imp.file_path
    assert (uploads_dir() / path).exists()
    discard_url = reverse("campaigns:import_discard", args=[imp.pk])
    page = admin_client.get(reverse("campaigns:list_detail", args=[customers.pk])).content.decode()
    assert f'action="{discard_url}"' in page
    assert "data-confirm=" in page and "onclick" not in page

    response = admin_client.post(discard_url)
    assert response.status_code == 302
    assert response["Location"] == customers.get_absolute_url()
    assert not Import.objects.exists()
    assert not (uploads_dir() / path).exists()


def test_discarding_needs_a_post_with_the_csrf_token(tmp_path, admin_user):
    imp = waiting_upload(tmp_path, make_list())
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    url = reverse("campaigns:import_discard", args=[imp.pk])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
    assert Import.objects.filter(pk=imp.pk).exists()


def test_an_import_that_started_is_not_discarded(tmp_path, admin_client):
    customers = make_list()
    imp = waiting_upload(tmp_path, customers)
    Import.objects.filter(pk=imp.pk).update(status=Import.Status.QUEUED)
    admin_client.post(reverse("campaigns:import_discard", args=[imp.pk]))
    assert Import.objects.get(pk=imp.pk).status == Import.Status.QUEUED
    page = admin_client.get(reverse("campaigns:list_detail", args=[customers.pk])).content.decode()
    assert reverse("campaigns:import_discard", args=[imp.pk]) not in page


def filename_star(header: str) -> str:
    value = header.split("filename*=", 1)[1]
    charset, _, encoded = value.partition("''")
    assert charset == "UTF-8"
    return unquote(encoded)


def test_a_list_export_named_in_chinese_keeps_its_name(admin_client):
    customers = make_list("客户名单")
    make_contact("a@example.cn", contact_list=customers)
    response = admin_client.get(reverse("campaigns:list_export", args=[customers.pk]))
    header = response["Content-Disposition"]
    assert header.startswith(f'attachment; filename="list-{customers.pk}.csv"; ')
    assert filename_star(header) == "客户名单.csv"
    assert header.isascii()


def test_a_campaign_export_named_in_chinese_keeps_its_name(admin_client):
    campaign = make_campaign(lists=[make_list()], name="春季 促销")
    response = admin_client.get(reverse("campaigns:campaign_export", args=[campaign.pk]))
    header = response["Content-Disposition"]
    assert header.startswith(f'attachment; filename="campaign-{campaign.pk}-deliveries.csv"; ')
    assert filename_star(header) == f"春季-促销-{campaign.pk}-deliveries.csv"


def test_an_ascii_list_name_needs_no_filename_star(admin_client):
    customers = make_list("Spring Customers")
    response = admin_client.get(reverse("campaigns:list_export", args=[customers.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="spring-customers.csv"'


def test_the_import_command_reports_rows_imported_with_a_warning(tmp_path, capsys):
    rows = [["email", "name"], ["a@example.com", "n" * (NAME_MAX_LENGTH + 1)]]
    call_command(
        "import_contacts",
        str(write_csv(tmp_path / "c.csv", rows)),
        "--list",
        "CLI",
        "--create-list",
    )
    out = capsys.readouterr().out
    assert "1 created" in out and "0 invalid." in out
    assert "1 rows imported with a warning (a name cut short)" in out
