"""Where uploaded contact files live, and the upload handler that streams them there."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


def uploads_dir() -> Path:
    """The directory of uploaded files (under EDM_VAR_DIR); created on first use."""
    path = Path(settings.VAR_DIR) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_upload_path(file_name: str) -> Path:
    """A fresh path in the uploads directory for a file the user called `file_name`."""
    suffix = Path(file_name).suffix.lower()[:10]
    return uploads_dir() / f"{uuid.uuid4().hex}{suffix}"


class StoredUpload(UploadedFile):
    """An uploaded file already written whole to its final place in the uploads directory."""

    def __init__(self, path: Path, name: str, size: int, content_type: str | None):
        super().__init__(None, name, content_type, size)
        self.path = path


FILE_FIELD = "file"  # the form field an import's file comes in


class DiskUploadHandler(FileUploadHandler):
    """Writes the `file` part of an upload straight to the uploads directory, chunk by chunk.

    Nothing is held in memory, and a file over `max_bytes` is dropped as soon as it passes
    the limit: its remaining bytes are read and thrown away, `too_large` says so, and the
    view tells the user. Any other file part, and a second `file`, is read and thrown away
    without touching the disk (`extra_files` counts the second ones), so a request can leave
    at most one file behind: the one in `written`, which `upload_receive` deletes unless an
    import keeps it.
    """

    def __init__(self, request=None, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large: int | None = None  # bytes received when the limit was passed
        self.extra_files = 0  # `file` parts after the first
        self.written: list[Path] = []
        self._handle = None
        self._path: Path | None = None
        self._size = 0
        self._seen_file = False

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        if field_name != FILE_FIELD:
            raise SkipFile
        if self._seen_file:
            self.extra_files += 1
            raise SkipFile
        self._seen_file = True
        self._path = new_upload_path(self.file_name or "upload")
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.written.append(self._path)
        self._handle = os.fdopen(fd, "wb")
        self._size = 0

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > self.max_bytes:
            self.too_large = self._size
            self._discard()
            raise SkipFile
        self._handle.write(raw_data)
        return None

    def file_complete(self, file_size):
        if self._handle is None:
            return None
        self._handle.close()
        self._handle = None
        path, self._path = self._path, None  # complete: a later part's interruption keeps it
        return StoredUpload(path, self.file_name, file_size, self.content_type)

    def upload_interrupted(self):
        self._discard()

    def _discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._path is not None:
            self._path.unlink(missing_ok=True)
