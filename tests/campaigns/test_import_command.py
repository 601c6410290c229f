import pytest
from django.core.management import CommandError, call_command

from campaigns.models import Contact, ContactList, Import
from campaigns.uploads import uploads_dir
from tests.factories import people, write_csv

pytestmark = pytest.mark.django_db


def test_command_imports_a_file_with_a_progress_bar_and_a_summary(tmp_path, capsys):
    source = write_csv(tmp_path / "c.csv", [*people(40), ["bad", "B", ""]])
    call_command("import_contacts", str(source), "--list", "CLI", "--create-list")
    out = capsys.readouterr().out
    assert "[##############################] 100%  41 rows" in out
    assert "done: 41 rows read, 40 created, 0 updated, 40 added to the list" in out
    assert "1 invalid." in out
    assert ContactList.objects.get().memberships.count() == 40
    assert Contact.objects.get(email="person3@example.com").attributes == {"city": "Berlin"}


def test_command_takes_columns_by_name(tmp_path, capsys):
    rows = [["Mail", "Who", "Town", "Tier"], ["a@example.com", "Ann", "Oslo", "gold"]]
    source = write_csv(tmp_path / "c.csv", rows)
    ContactList.objects.create(name="VIP")
    call_command(
        "import_contacts",
        str(source),
        "--list",
        "VIP",
        "--email-column",
        "mail",
        "--name-column",
        "Who",
        "--attributes",
        "Tier",
    )
    contact = Contact.objects.get()
    assert (contact.name, contact.attributes) == ("Ann", {"Tier": "gold"})


def test_command_explains_what_is_wrong(tmp_path):
    source = write_csv(tmp_path / "c.csv", people(2))
    with pytest.raises(
        CommandError, match="There is no list called 'Nope' \\(add --create-list\\)"
    ):
        call_command("import_contacts", str(source), "--list", "Nope")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    ContactList.objects.create(name="L")
    with pytest.raises(CommandError, match=r"The file is empty\."):
        call_command("import_contacts", str(empty), "--list", "L")
    with pytest.raises(CommandError, match="The file has no column 'mail'"):
        call_command("import_contacts", str(source), "--list", "L", "--email-column", "mail")
    assert not Import.objects.exists()
    assert list(uploads_dir().iterdir()) == []
