"""Importing a contact file into a list: record the upload, start it, run it, cancel it.

The flow: `import_create` keeps the uploaded file and checks it can be read (status
`uploaded`); the user picks columns and `import_start` queues the `imports` job (status
`queued`); the job calls `import_run`, which reads the file in batches and commits each batch
with the counters that describe it (status `running`, then `done`, `failed` or `cancelled`).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from itertools import islice
from pathlib import Path

import django_rq
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rq.job import JobStatus

from campaigns.importing.columns import HeaderError, Mapping, column_names
from campaigns.importing.errors import BadFileError
from campaigns.importing.readers import Source, Table, megabytes, open_table
from campaigns.importing.rows import Candidate, Rejection, RowParser
from campaigns.importing.sniff import check_encoding, detect_format
from campaigns.models import ContactList, Import, ImportRejection
from campaigns.services.import_stage import Stage
from campaigns.uploads import uploads_dir
from edm import queues

logger = logging.getLogger(__name__)

BATCH_ROWS = 20_000
STALLED_AFTER = timedelta(minutes=3)
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
            _check_header(table)
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


def _check_header(table: Table) -> list[str]:
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
        _check_header(table)
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


def import_stalled(imp: Import) -> bool:
    """Whether the import is running with no live job behind it (its worker died)."""
    if imp.status != Import.Status.RUNNING:
        return False
    job = django_rq.get_queue(queues.IMPORTS).fetch_job(import_job_id(imp))
    if job is None:
        return True
    status = job.get_status()
    if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
        return False
    if status != JobStatus.STARTED:
        return True
    # A live worker beats its job's heartbeat every few seconds; a dead one stops.
    beat = job.last_heartbeat
    return beat is None or timezone.now() - beat.replace(tzinfo=UTC) > STALLED_AFTER


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


@dataclass
class Batch:
    candidates: list[Candidate] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    rows: int = 0
    last_row: int = 0
    position: int = 0


def import_run(import_id: int, *, progress: Callable[[Import], None] | None = None) -> Import:
    """Read the import's file and write its contacts; resumes after the last committed batch."""
    imp = Import.objects.select_related("list").get(pk=import_id)
    if imp.status not in Import.ACTIVE:
        return imp  # cancelled or finished since it was queued
    if imp.status == Import.Status.QUEUED:
        Import.objects.filter(pk=imp.pk).update(
            status=Import.Status.RUNNING, started_at=timezone.now()
        )
    stage = Stage(list_id=imp.list_id, mode=imp.mode, source=f"import #{imp.pk}")
    try:
        outcome = _run(imp, stage, progress)
    except BadFileError as exc:
        _finish(imp, Import.Status.FAILED, str(exc))
    except Exception as exc:
        _finish(imp, Import.Status.FAILED, f"The import stopped on an unexpected error: {exc}")
        raise
    else:
        _finish(imp, outcome)
    finally:
        stage.close()
    imp.refresh_from_db()
    if progress is not None:
        progress(imp)
    return imp


def _finish(imp: Import, status: str, error: str = "") -> None:
    Import.objects.filter(pk=imp.pk).update(status=status, error=error, finished_at=timezone.now())
    # A finished import never reads its file again; an upload can be hundreds of megabytes.
    (uploads_dir() / imp.file_path).unlink(missing_ok=True)


def _run(imp: Import, stage: Stage, progress) -> str:
    resume_after = imp.rows_done  # row number of the last row committed by an earlier run
    with open_table(import_source(imp)) as table:
        names = _check_header(table)
        mapping = Mapping(imp.email_column, imp.name_column, tuple(imp.attribute_columns))
        parser = RowParser(mapping, names, imp.encoding or table.encoding)
        stage.open()
        for batch in _read_ahead(_batches(table, parser)):
            if Import.objects.filter(pk=imp.pk, cancel_requested=True).exists():
                return Import.Status.CANCELLED
            if batch.last_row <= resume_after:
                stage.remember(batch.candidates)
                continue
            if resume_after:
                done, batch = _split(batch, resume_after)
                stage.remember(done)
                resume_after = 0
            _write(imp, stage, batch)
            if progress is not None:
                imp.refresh_from_db()
                progress(imp)
    return Import.Status.DONE


def _split(batch: Batch, row: int) -> tuple[list[Candidate], Batch]:
    """Candidates up to `row` (done by an earlier run), and the batch of the rows after it."""
    rest = Batch(
        [c for c in batch.candidates if c.row > row],
        [r for r in batch.rejections if r.row > row],
        last_row=batch.last_row,
        position=batch.position,
    )
    rest.rows = len(rest.candidates) + len(rest.rejections)
    return [c for c in batch.candidates if c.row <= row], rest


def _write(imp: Import, stage: Stage, batch: Batch) -> None:
    with transaction.atomic():
        outcome = stage.write(batch.candidates, timezone.now())
        rejected = [*batch.rejections, *outcome.duplicates]
        ImportRejection.objects.bulk_create(
            [
                ImportRejection(import_run=imp, row=r.row, reason=r.reason, value=r.value)
                for r in rejected
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
        duplicates = sum(1 for r in rejected if r.duplicate)
        Import.objects.filter(pk=imp.pk).update(
            rows_read=F("rows_read") + batch.rows,
            rows_done=batch.last_row,
            bytes_done=batch.position,
            created=F("created") + outcome.created,
            updated=F("updated") + outcome.updated,
            added=F("added") + outcome.added,
            already_on_list=F("already_on_list") + outcome.already_on_list,
            duplicates=F("duplicates") + duplicates,
            invalid=F("invalid") + len(rejected) - duplicates,
        )


def _batches(table: Table, parser: RowParser) -> Iterator[Batch]:
    """Parsed rows in batches; a repeated address within a batch is rejected here."""
    parse = parser.parse
    candidates: list[Candidate] = []
    rejections: list[Rejection] = []
    first_row: dict[str, int] = {}
    for number, cells in table.rows():
        parsed = parse(number, cells)
        if type(parsed) is Rejection:
            rejections.append(parsed)
        elif (first := first_row.get(parsed.email)) is not None:
            rejections.append(
                Rejection(number, f"duplicate of row {first}", parsed.email, duplicate=True)
            )
        else:
            first_row[parsed.email] = number
            candidates.append(parsed)
        if len(first_row) + len(rejections) >= BATCH_ROWS:
            yield Batch(
                candidates, rejections, len(candidates) + len(rejections), number, table.position()
            )
            candidates, rejections, first_row = [], [], {}
    if candidates or rejections or table.last_number > 1:
        yield Batch(
            candidates,
            rejections,
            len(candidates) + len(rejections),
            table.last_number,
            table.position(),
        )


_DONE = object()


def _read_ahead(batches: Iterator[Batch]) -> Iterator[Batch]:
    """The same batches, read and parsed by a thread while the database writes the last one.

    The database works while this process parses (psycopg and sqlite3 release the GIL while
    they wait), so the two cores of a small machine both work on the import.
    """
    ready: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        ready.put(batch, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            ready.put(exc)

    reader = threading.Thread(target=produce, name="import-reader", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join(timeout=10)
