"""Running an import: read the file in batches, write each batch with its counters.

Each batch is one transaction holding its rows' contacts and memberships, its rejected rows
and the import's counters (`rows_done` is the last row number committed), so a run that dies
is resumed by running it again: rows up to `rows_done` are only re-read to remember their
addresses (for duplicate detection), then writing goes on from the next row.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns.importing.columns import Mapping
from campaigns.importing.errors import BadFileError
from campaigns.importing.readers import Table, open_table
from campaigns.importing.rows import Candidate, Rejection, RowParser, RowWarning
from campaigns.models import Import, ImportWarning
from campaigns.services.import_stage import Stage, copy_text
from campaigns.services.imports import check_header, import_alive_key, import_source
from campaigns.uploads import uploads_dir
from edm import redis as edm_redis

BATCH_ROWS = 20_000
ALIVE_SECONDS = 180  # no batch for this long: the import counts as stalled


@dataclass
class Batch:
    candidates: list[Candidate] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    rows: int = 0
    last_row: int = 0
    position: int = 0
    copy_text: bytes | None = None  # the candidates for PostgreSQL's COPY, made ahead


def import_run(import_id: int, *, progress: Callable[[Import], None] | None = None) -> Import:
    """Read the import's file and write its contacts; resumes after the last committed batch."""
    imp = Import.objects.select_related("list").get(pk=import_id)
    if imp.status not in Import.ACTIVE:
        return imp  # cancelled or finished since it was queued
    if imp.status == Import.Status.QUEUED:
        Import.objects.filter(pk=imp.pk).update(
            status=Import.Status.RUNNING, started_at=timezone.now()
        )
    _beat(imp)
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


def _beat(imp: Import) -> None:
    edm_redis.connection().set(import_alive_key(imp), 1, ex=ALIVE_SECONDS)


def _finish(imp: Import, status: str, error: str = "") -> None:
    # Only a running import is finished here: one cancelled meanwhile stays cancelled.
    Import.objects.filter(pk=imp.pk, status=Import.Status.RUNNING).update(
        status=status, error=error, finished_at=timezone.now()
    )
    edm_redis.connection().delete(import_alive_key(imp))
    # A finished import never reads its file again; an upload can be hundreds of megabytes.
    (uploads_dir() / imp.file_path).unlink(missing_ok=True)


def _run(imp: Import, stage: Stage, progress) -> str:
    resume_after = imp.rows_done  # row number of the last row committed by an earlier run
    with open_table(import_source(imp)) as table:
        names = check_header(table)
        mapping = Mapping(imp.email_column, imp.name_column, tuple(imp.attribute_columns))
        parser = RowParser(mapping, names, imp.encoding or table.encoding)
        stage.open()
        batches = _batches(table, parser)
        if stage.postgres:
            batches = _with_copy_text(batches)
        for batch in _read_ahead(batches):
            if not Import.objects.filter(
                pk=imp.pk, status=Import.Status.RUNNING, cancel_requested=False
            ).exists():
                return Import.Status.CANCELLED
            if batch.last_row <= resume_after:
                stage.remember(batch.candidates)
                continue
            if resume_after:
                done, batch = _split(batch, resume_after)
                stage.remember(done)
                resume_after = 0
            _write(imp, stage, batch)
            _beat(imp)
            if progress is not None:
                imp.refresh_from_db()
                progress(imp)
    return Import.Status.DONE


def _split(batch: Batch, row: int) -> tuple[list[Candidate], Batch]:
    """Candidates up to `row` (done by an earlier run), and the batch of the rows after it."""
    rest = Batch(
        [c for c in batch.candidates if c.row > row],
        [r for r in batch.rejections if r.row > row],
        [w for w in batch.warnings if w.row > row],
        last_row=batch.last_row,
        position=batch.position,
    )
    rest.rows = len(rest.candidates) + len(rest.rejections)
    return [c for c in batch.candidates if c.row <= row], rest


def _write(imp: Import, stage: Stage, batch: Batch) -> None:
    with transaction.atomic():
        outcome = stage.write(batch.candidates, timezone.now(), batch.copy_text)
        rejected = [*batch.rejections, *outcome.duplicates, *outcome.erased]
        stage.keep_rejections(imp.pk, rejected)
        warnings = _warnings_of_imported(batch.warnings, outcome.duplicates)
        ImportWarning.objects.bulk_create(
            [
                ImportWarning(import_run_id=imp.pk, row=w.row, message=w.message, value=w.value)
                for w in warnings
            ],
            ignore_conflicts=True,  # only possible if a batch were written twice
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
            warnings=F("warnings") + len(warnings),
        )


def _warnings_of_imported(
    warnings: list[RowWarning], duplicates: list[Rejection]
) -> list[RowWarning]:
    """The warnings of rows that became contacts: a duplicate's cut name changed nothing."""
    if not warnings or not duplicates:
        return warnings
    skipped = {r.row for r in duplicates}
    return [w for w in warnings if w.row not in skipped]


def _batches(table: Table, parser: RowParser) -> Iterator[Batch]:
    """Parsed rows in batches; a repeated address within a batch is rejected here."""
    parse = parser.parse
    warnings = parser.warnings
    candidates: list[Candidate] = []
    rejections: list[Rejection] = []
    first_row: dict[str, int] = {}
    for number, cells in table.rows():
        parsed = parse(number, cells)
        if type(parsed) is Rejection:
            rejections.append(parsed)
        elif (first := first_row.get(parsed.email_key)) is not None:
            rejections.append(
                Rejection(number, f"duplicate of row {first}", parsed.email, duplicate=True)
            )
            if warnings and warnings[-1].row == number:
                warnings.pop()  # not imported: its cut name changed nothing
        else:
            first_row[parsed.email_key] = number
            candidates.append(parsed)
        if len(first_row) + len(rejections) >= BATCH_ROWS:
            yield Batch(
                candidates,
                rejections,
                warnings,
                len(candidates) + len(rejections),
                number,
                table.position(),
            )
            candidates, rejections, first_row = [], [], {}
            warnings = parser.warnings = []
    if candidates or rejections or table.last_number > 1:
        yield Batch(
            candidates,
            rejections,
            warnings,
            len(candidates) + len(rejections),
            table.last_number,
            table.position(),
        )


def _with_copy_text(batches: Iterator[Batch]) -> Iterator[Batch]:
    """The same batches with their COPY data formatted (in the reader thread, see below)."""
    for batch in batches:
        batch.copy_text = copy_text(batch.candidates)
        yield batch


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
