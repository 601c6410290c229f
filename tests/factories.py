"""Small builders of test data: lists, contacts, and contact files in any format."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from campaigns.emails import email_key
from campaigns.models import Campaign, Contact, ContactList, Import, Membership
from campaigns.services import import_runner
from campaigns.services import imports as import_services
from campaigns.uploads import new_upload_path


def make_list(name: str = "Customers") -> ContactList:
    return ContactList.objects.create(name=name)


def make_contact(email: str, *, contact_list: ContactList | None = None, **fields) -> Contact:
    domain = email.rpartition("@")[2].lower()
    key = email_key(f"{email.rpartition('@')[0]}@{domain}")
    contact = Contact.objects.create(email=email, email_key=key, domain=domain, **fields)
    if contact_list is not None:
        Membership.objects.create(list=contact_list, contact=contact)
    return contact


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def write_csv(path: Path, rows: list[list[str]], *, encoding="utf-8", delimiter=",") -> Path:
    path.write_bytes(csv_text(rows, delimiter).encode(encoding))
    return path


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def uploaded(source: Path) -> Path:
    """A copy of `source` in the uploads directory, as an upload would leave it."""
    path = new_upload_path(source.name)
    path.write_bytes(source.read_bytes())
    return path


def people(count: int, *, start: int = 0, domain: str = "example.com") -> list[list[str]]:
    """Header and `count` rows: email, name, city."""
    rows = [["email", "name", "city"]]
    rows += [[f"person{i}@{domain}", f"Person {i}", "Berlin"] for i in range(start, start + count)]
    return rows


def run_import(
    contact_list: ContactList, source: Path, *, mode: str = Import.Mode.ADD_UPDATE, mapping=None
) -> Import:
    """Import a file start to finish in this process (the job's code, without the queue)."""
    from campaigns.selectors.imports import import_preview

    imp = import_services.import_create(
        contact_list=contact_list, path=uploaded(source), file_name=source.name
    )
    mapping = mapping or import_preview(imp).guess
    import_services.import_start(imp, mapping=mapping, mode=mode, enqueue=False)
    return import_runner.import_run(imp.pk)


def make_campaign(
    *,
    lists: list[ContactList],
    exclusion_lists: list[ContactList] = (),
    name: str = "Spring sale",
    subject: str = "Hello {{ contact.name }}",
    html: str = "<p>Hi {{ contact.name|default('there') }}</p>"
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
    from_email: str = "news@shop.example",
    **fields,
) -> Campaign:
    campaign = Campaign.objects.create(
        name=name, from_name="Shop", from_email=from_email, subject=subject, html=html, **fields
    )
    campaign.lists.set(lists)
    campaign.exclusion_lists.set(exclusion_lists)
    return campaign
