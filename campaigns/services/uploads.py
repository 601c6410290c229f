"""Uploaded files live only as long as an import keeps them.

A request that streams a file to disk (`upload_receive`) deletes it when the request is
over unless an `Import` now names it: a refused request (CSRF, a missing list, a bad file,
two files) leaves nothing. What a crash leaves between writing a file and recording its
import is deleted by `uploads_sweep`, run every hour by the cron process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path

from django.utils import timezone

from campaigns.models import Import
from campaigns.uploads import DiskUploadHandler, uploads_dir

ORPHAN_AGE = timedelta(days=1)  # longer than any upload takes, so no request is cut short
_LOOKUP_BATCH = 500  # names per query: well under SQLite's limit of bound parameters


@contextlib.contextmanager
def upload_receive(request, *, max_bytes: int) -> Iterator[DiskUploadHandler]:
    """Stream the request's `file` part to the uploads directory while the block runs; at its
    end, however it ends, delete the file unless an import keeps it."""
    handler = DiskUploadHandler(request, max_bytes=max_bytes)
    request.upload_handlers = [handler]
    try:
        yield handler
    finally:
        upload_orphans_delete(handler.written)


def upload_orphans_delete(paths: Iterable[Path]) -> int:
    """Delete the files among `paths` (in the uploads directory) that no import names."""
    deleted = 0
    paths = iter(paths)
    while batch := {path.name: path for path in islice(paths, _LOOKUP_BATCH)}:
        kept = set(Import.objects.filter(file_path__in=batch).values_list("file_path", flat=True))
        for name, path in batch.items():
            if name not in kept and path.exists():
                path.unlink(missing_ok=True)
                deleted += 1
    return deleted


def uploads_sweep(now: datetime | None = None) -> int:
    """Delete uploaded files older than a day that no import names; how many were deleted."""
    cutoff = ((now or timezone.now()) - ORPHAN_AGE).timestamp()
    return upload_orphans_delete(p for p in uploads_dir().iterdir() if _older(p, cutoff))


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.is_file() and path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False  # deleted meanwhile: its import finished or was discarded
