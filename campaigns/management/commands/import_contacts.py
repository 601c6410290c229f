"""`manage.py import_contacts --list NAME FILE`: import a contact file, with a progress bar."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaigns.importing.columns import Mapping
from campaigns.importing.errors import BadFileError
from campaigns.models import ContactList, Import
from campaigns.selectors.imports import import_preview
from campaigns.services import import_runner
from campaigns.services import imports as import_services
from campaigns.uploads import new_upload_path


class Command(BaseCommand):
    help = "Import a CSV, ZIP or XLSX contact file into a list (columns are guessed unless given)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--list", required=True, dest="list_name", help="name of the list")
        parser.add_argument("--create-list", action="store_true", help="create it if missing")
        parser.add_argument("--mode", choices=Import.Mode.values, default=Import.Mode.ADD_UPDATE)
        parser.add_argument("--encoding", help="text encoding (default: detected)")
        parser.add_argument("--email-column", help="name of the email column (default: guessed)")
        parser.add_argument("--name-column", help="name of the name column (default: guessed)")
        parser.add_argument(
            "--attributes", help="comma-separated columns kept as attributes (default: the rest)"
        )

    def handle(self, *args, file: Path, list_name: str, **options):
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        contact_list = self._list(list_name, options["create_list"])
        path = new_upload_path(file.name)
        shutil.copyfile(file, path)
        try:
            imp = import_services.import_create(
                contact_list=contact_list, path=path, file_name=file.name
            )
        except BadFileError as exc:
            raise CommandError(str(exc)) from None
        try:
            if options["encoding"]:
                import_services.import_encoding_set(imp, encoding=options["encoding"])
            mapping = self._mapping(imp, options)
            import_services.import_start(imp, mapping=mapping, mode=options["mode"], enqueue=False)
        except (BadFileError, import_services.ImportConflictError, CommandError) as exc:
            import_services.import_discard(imp)
            raise CommandError(str(exc)) from None
        imp = import_runner.import_run(imp.pk, progress=self._draw)
        self.stdout.write("")
        self._summary(imp)
        if imp.status != Import.Status.DONE:
            raise CommandError(imp.error or f"The import is {imp.get_status_display()}.")

    def _list(self, name: str, create: bool) -> ContactList:
        try:
            return ContactList.objects.get(name=name)
        except ContactList.DoesNotExist:
            if create:
                return ContactList.objects.create(name=name)
            raise CommandError(f"There is no list called {name!r} (add --create-list).") from None

    def _mapping(self, imp: Import, options) -> Mapping:
        preview = import_preview(imp)
        names = [name.casefold() for name in preview.names]

        def column(name: str) -> int:
            try:
                return names.index(name.strip().casefold())
            except ValueError:
                raise CommandError(
                    f"The file has no column {name!r}; it has: {', '.join(preview.names)}."
                ) from None

        guess = preview.guess
        if options["email_column"]:
            email = column(options["email_column"])
        elif guess is not None:
            email = guess.email
        else:
            raise CommandError("No column looks like email addresses; name it with --email-column.")
        if options["name_column"]:
            name = column(options["name_column"])
        else:
            name = guess.name if guess is not None and guess.email == email else None
        if options["attributes"] is not None:
            attributes = tuple(column(n) for n in options["attributes"].split(",") if n.strip())
        else:
            attributes = tuple(i for i in range(len(names)) if i not in (email, name))
        return Mapping(email, name, attributes)

    def _draw(self, imp: Import) -> None:
        width = 30
        filled = width * imp.percent // 100
        bar = "#" * filled + "-" * (width - filled)
        self.stdout.write(f"\r[{bar}] {imp.percent:3d}%  {imp.rows_read:,} rows", ending="")
        self.stdout.flush()

    def _summary(self, imp: Import) -> None:
        self.stdout.write(
            f"{imp.get_status_display()}: {imp.rows_read:,} rows read, {imp.created:,} created, "
            f"{imp.updated:,} updated, {imp.added:,} added to the list, {imp.already_on_list:,} "
            f"already on it, {imp.duplicates:,} duplicates in the file, {imp.invalid:,} invalid."
        )
        if imp.rejected:
            self.stdout.write(
                f"Rejected rows: download them from the import's page (import #{imp.pk})."
            )
        if imp.warnings:
            self.stdout.write(
                f"{imp.warnings:,} rows imported with a warning (a name cut short): "
                f"see the import's page (import #{imp.pk})."
            )
        sys.stdout.flush()
