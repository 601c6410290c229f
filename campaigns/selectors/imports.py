"""Reading imports: the preview of a file for the mapping step, and progress for the page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from campaigns.importing.columns import Mapping, column_names, guess_mapping
from campaigns.importing.readers import open_table
from campaigns.models import Import, ImportRejection, ImportWarning
from campaigns.services.imports import PREVIEW_ROWS as SAMPLE_ROWS
from campaigns.services.imports import import_source, import_stalled

PREVIEW_ROWS = 5


@dataclass
class Preview:
    names: list[str]
    rows: list[list[str]]
    guess: Mapping | None  # None: no column looks like email addresses
    encoding: str


def import_preview(
    imp: Import, *, encoding: str | None = None, rows: int = PREVIEW_ROWS
) -> Preview:
    """The header and first rows of the import's file, and a guess of its mapping.

    Raises BadFileError (e.g. another encoding makes the header unreadable).
    """
    with open_table(import_source(imp, encoding=encoding)) as table:
        names = column_names(table.header)
        sample = [cells for _, cells in islice(table.rows(), SAMPLE_ROWS)]
    width = len(names)
    shown = [(cells + [""] * width)[:width] for cells in sample[:rows]]
    return Preview(names, shown, guess_mapping(names, sample), encoding or imp.encoding)


def import_progress(imp: Import) -> dict:
    """The import's state for the progress page's JSON endpoint."""
    return {
        "stalled": import_stalled(imp),
        "status": imp.status,
        "status_label": imp.get_status_display(),
        "finished": imp.finished,
        "percent": imp.percent,
        "rows_read": imp.rows_read,
        "created": imp.created,
        "updated": imp.updated,
        "added": imp.added,
        "already_on_list": imp.already_on_list,
        "duplicates": imp.duplicates,
        "invalid": imp.invalid,
        "rejected": imp.rejected,
        "warnings": imp.warnings,
        "error": imp.error,
        "cancel_requested": imp.cancel_requested,
    }


WARNINGS_SHOWN = 20


def import_warnings_first(imp: Import, limit: int = WARNINGS_SHOWN) -> list[ImportWarning]:
    """The import's first warnings in row order (the summary lists a few; the count says all)."""
    return list(ImportWarning.objects.filter(import_run=imp).order_by("row")[:limit])


def import_rejections(imp: Import, chunk: int = 5000) -> Iterator[ImportRejection]:
    """Every rejected row of the import in row order, read in keyset chunks."""
    after = 0
    while True:
        rows = list(
            ImportRejection.objects.filter(import_run=imp, row__gt=after).order_by("row")[:chunk]
        )
        yield from rows
        if len(rows) < chunk:
            return
        after = rows[-1].row
