"""Importing a contact file into a list: record the upload, start it, cancel or resume it.

The flow: `import_create` keeps the uploaded file and checks it can be read (status
`uploaded`); the user picks columns and `import_start` queues the `imports` job (status
`queued`); the job calls `import_run` (campaigns/services/import_runner.py), which reads the
file in batches and commits each batch with the counters that describe it (status
`running`, then `done`, `failed` or `cancelled`).
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import django_rq
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.importing.columns import HeaderError, Mapping, column_names
from campaigns.importing.errors import BadFileError
from campaigns.importing.readers import Source, Table, megabytes, open_table
from campaigns.importing.sniff import check_encoding, detect_format
from campaigns.models import ContactList, Import
from campaigns.uploads import uploads_dir
from edm import queues
from edm import redis as edm_redis

PREVIEW_ROWS = 50  # rows read at upload, and shown in part by the mapping step


class ImportConflictError(Exception):
    """Another import into the same list is queued or running."""


class ImportStateError(Exception):
    """The import is not in a state that allows this (e.g. starting one that already ran)."""


def import_source(imp: Import, *, encoding: str | None = None) -> Source:
    """How to read the import's file, with its chosen (or another) encoding."""
    return Source(
        path=uploads_dir() / imp.file_path,
        file_format=imp.file_format,
        encoding=imp.encoding if encoding is None else encoding,
        delimiter=imp.delimiter,
        max_bytes=settings.EDM_IMPORT_MAX_BYTES,
    )


def import_create(*, contact_list: ContactList, path: Path, file_name: str, by=None) -> Import:
    """Keep an uploaded file (already in the uploads directory) as a new import of the list.

    Raises BadFileError, and deletes the file, when the file cannot be imported; nothing is
    written to the database then.
    """
    try:
        size = path.stat().st_size
        limit = settings.EDM_IMPORT_MAX_BYTES
        if size > limit:
            raise BadFileError(f"The file is {megabytes(size)}; the limit is {megabytes(limit)}.")
        file_format = detect_format(path)
        source = Source(path=path, file_format=file_format, max_bytes=limit)
        with open_table(source) as table:
            check_header(table)
            # Problems in the first rows (an unclosed quote, a huge line) are told now.
            for _ in islice(table.rows(), PREVIEW_ROWS):
                pass
    except BadFileError:
        path.unlink(missing_ok=True)
        raise
    return Import.objects.create(
        list=contact_list,
        created_by=by,
        file_name=file_name[:255],
        file_path=str(path.relative_to(uploads_dir())),
        file_size=size,
        file_format=file_format,
        detected_encoding=table.encoding,
        encoding=table.encoding,
        delimiter=table.delimiter,
        header=table.header,
    )


def check_header(table: Table) -> list[str]:
    try:
        return column_names(table.header)
    except HeaderError as exc:
        raise BadFileError(str(exc)) from None


def import_encoding_set(imp: Import, *, encoding: str) -> Import:
    """Read the file with another encoding from now on (before it starts)."""
    if imp.status != Import.Status.UPLOADED:
        raise ImportStateError("The encoding can only be changed before the import starts.")
    encoding = check_encoding(encoding)
    with open_table(import_source(imp, encoding=encoding)) as table:
        check_header(table)
    imp.encoding, imp.header = encoding, table.header
    imp.save(update_fields=["encoding", "header"])
    return imp


def import_start(imp: Import, *, mapping: Mapping, mode: str, enqueue: bool = True) -> Import:
    """Queue the import with its mapping and mode; ImportConflictError if the list is busy.

    With `enqueue=False` no job is queued: the caller runs `import_run` itself (the
    import_contacts command does, to draw its progress bar).
    """
    if imp.status != Import.Status.UPLOADED:
        raise ImportStateError(f"This import is already {imp.get_status_display()}.")
    width = len(imp.header)
    columns = [mapping.email, *([] if mapping.name is None else [mapping.name])]
    if any(not 0 <= column < width for column in [*columns, *mapping.attributes]):
        raise ImportStateError("A chosen column is not in the file.")
    if mode not in Import.Mode.values:
        raise ImportStateError(f"{mode!r} is not an import mode.")
    imp.email_column, imp.name_column = mapping.email, mapping.name
    imp.attribute_columns = [c for c in mapping.attributes if c not in columns]
    imp.mode = mode
    imp.status = Import.Status.QUEUED
    try:
        with transaction.atomic():
            imp.save()
            if enqueue:
                _enqueue(imp)
    except IntegrityError:
        imp.status = Import.Status.UPLOADED
        busy = Import.objects.filter(list_id=imp.list_id, status__in=Import.ACTIVE).first()
        raise ImportConflictError(
            f"Another import into “{imp.list.name}” is in progress"
            + (f" ({busy.file_name}, {busy.get_status_display()})" if busy else "")
            + ". Wait until it finishes, or cancel it, then start this one."
        ) from None
    return imp


def import_job_id(imp: Import) -> str:
    """The RQ job id of the import's job (one at a time per import)."""
    return f"import-{imp.pk}"


def _enqueue(imp: Import) -> None:
    from campaigns import jobs

    # The job runs when the transaction commits (COMMIT_MODE on_db_commit), never earlier.
    django_rq.get_queue(queues.IMPORTS).enqueue(
        jobs.import_contacts,
        imp.pk,
        job_id=import_job_id(imp),
        job_timeout=6 * 3600,
        description=str(imp),
    )


def import_alive_key(imp: Import) -> str:
    """Redis key a running import refreshes after every batch (see import_runner)."""
    return f"edm:import:{imp.pk}:alive"


def import_stalled(imp: Import) -> bool:
    """Whether the import is running but nothing has run it for a while (its worker died)."""
    if imp.status != Import.Status.RUNNING:
        return False
    return not edm_redis.connection().exists(import_alive_key(imp))


def import_resume(imp: Import) -> Import:
    """Queue a stalled import again; it goes on after its last committed batch."""
    if not import_stalled(imp):
        raise ImportStateError("This import is not stalled.")
    with transaction.atomic():
        Import.objects.filter(pk=imp.pk).update(cancel_requested=False)
        _enqueue(imp)
    imp.refresh_from_db()
    return imp


def import_discard(imp: Import) -> None:
    """Delete an import that never started, and its file."""
    if imp.status != Import.Status.UPLOADED:
        raise ImportStateError("Only an import that has not started can be discarded.")
    (uploads_dir() / imp.file_path).unlink(missing_ok=True)
    imp.delete()


def import_cancel(imp: Import) -> Import:
    """Stop the import: now if it has not started or its worker died, else after this batch."""
    with transaction.atomic():
        if imp.status in (Import.Status.UPLOADED, Import.Status.QUEUED):
            if Import.objects.filter(pk=imp.pk, status=imp.status).update(
                status=Import.Status.CANCELLED, finished_at=timezone.now()
            ):
                (uploads_dir() / imp.file_path).unlink(missing_ok=True)
        elif import_stalled(imp):
            Import.objects.filter(pk=imp.pk).update(
                status=Import.Status.CANCELLED, finished_at=timezone.now()
            )
            (uploads_dir() / imp.file_path).unlink(missing_ok=True)
        elif imp.status == Import.Status.RUNNING:
            Import.objects.filter(pk=imp.pk).update(cancel_requested=True)
    imp.refresh_from_db()
    return imp
