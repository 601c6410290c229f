"""Imports: upload a contact file into a list, start it, watch its progress, its rejected rows.

The upload is streamed to disk (never held in memory) by the browser's own upload handler,
and checked by the same `import_create`; without a column mapping the import starts with the
mapping the browser would propose, or waits in `uploaded` for `POST /imports/{id}/start`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.conf import settings
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from campaigns.importing.columns import HeaderError, Mapping, column_names
from campaigns.importing.errors import BadFileError
from campaigns.importing.readers import megabytes
from campaigns.models import ContactList, Import, ImportRejection
from campaigns.selectors.imports import import_preview
from campaigns.services import imports as import_services
from campaigns.services import uploads as upload_services
from campaigns.uploads import DiskUploadHandler
from edm.rest.errors import BadRequest, Conflict, Invalid, TooLarge
from edm.rest.pagination import PageParams, keyset_page, page_schema
from edm.rest.types import MAX_ID, Id, Input, PathId, choice

router = Router(tags=["imports"])
ImportFormat = choice(Import.Format)
ImportMode = choice(Import.Mode)
ImportStatus = choice(Import.Status)
MAX_COLUMN = 16_383  # the last column of a spreadsheet (XFD)
Column = Annotated[int, Field(ge=0, le=MAX_COLUMN)]

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["list", "file"],
                    "properties": {
                        "list": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_ID,
                            "description": "The list to import into.",
                        },
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV (any encoding), CSV in a ZIP, or XLSX.",
                        },
                        "mode": {"type": "string", "enum": list(Import.Mode.values)},
                        "encoding": {"type": "string", "description": "Overrides detection."},
                        "email_column": {"type": "integer", "minimum": 0, "maximum": MAX_COLUMN},
                        "name_column": {"type": "integer", "minimum": 0, "maximum": MAX_COLUMN},
                        "attribute_columns": {
                            "type": "string",
                            "description": "Comma-separated column numbers, from 0.",
                        },
                    },
                }
            }
        },
    }
}


# Module-level names: in a class with a field called `list`, `list[...]` would mean the field.
Names = list[str]
Numbers = list[int]


class ImportOut(Schema):
    id: int
    list: int = Field(..., validation_alias="list_id")
    status: ImportStatus
    mode: ImportMode
    file_name: str
    file_size: int
    file_format: ImportFormat
    encoding: str
    detected_encoding: str
    columns: Names = Field(..., description="Column names, for choosing a mapping.")
    email_column: int | None
    name_column: int | None
    attribute_columns: Numbers
    percent: int
    rows_read: int
    created: int
    updated: int
    added: int
    already_on_list: int
    duplicates: int
    invalid: int
    rejected: int
    warnings: int = Field(..., description="Rows imported with a change (a name cut short).")
    error: str
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_columns(imp: Import) -> Names:
        try:
            return column_names(imp.header)
        except HeaderError:
            return []


class ImportStart(Input):
    email_column: Column
    name_column: Column | None = None
    attribute_columns: list[Column] = []
    mode: ImportMode = Import.Mode.ADD_UPDATE
    encoding: str | None = Field(None, max_length=32)


class RejectionOut(Schema):
    row: int = Field(..., description="As a spreadsheet numbers it: the header is row 1.")
    reason: str
    value: str


class ImportFilter(PageParams):
    list: Id | None = None


ImportPage = page_schema(ImportOut)
RejectionPage = page_schema(RejectionOut)


def _import(import_id: int) -> Import:
    return get_object_or_404(Import, pk=import_id)


def _int_field(data, name: str, problems: dict, limit: int = MAX_COLUMN) -> int | None:
    text = (data.get(name) or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > limit:
        problems[name] = [f"a whole number from 0 to {limit} is needed"]
        return None
    return int(text)


@router.get("", response=ImportPage, summary="Imports, oldest first")
def import_index(request, filters: Query[ImportFilter]):
    imports = Import.objects.all()
    if filters.list is not None:
        imports = imports.filter(list_id=filters.list)
    return keyset_page(imports, filters)


@router.post(
    "", response={201: ImportOut}, openapi_extra=UPLOAD_BODY, summary="Upload a contact file"
)
def import_create(request):
    """Multipart upload. With no columns given, the proposed mapping is used; when none can be
    proposed the import waits in `uploaded` for `POST /api/imports/{id}/start`."""
    limit = settings.EDM_IMPORT_MAX_BYTES
    with upload_services.upload_receive(request, max_bytes=limit) as handler:
        return _import_create(request, handler, limit)


def _import_create(request, handler: DiskUploadHandler, limit: int):
    try:
        data, files = request.POST, request.FILES
    except MultiPartParserError as exc:
        raise BadRequest(f"The upload could not be read: {exc}") from None
    if handler.too_large:
        raise TooLarge(f"The file is larger than {megabytes(limit)}, the limit for imports.")
    problems: dict[str, list[str]] = {}
    list_id = _int_field(data, "list", problems, limit=MAX_ID)
    email, name = (
        _int_field(data, "email_column", problems),
        _int_field(data, "name_column", problems),
    )
    attributes = [
        part.strip() for part in data.get("attribute_columns", "").split(",") if part.strip()
    ]
    if not all(
        part.isascii() and part.isdigit() and int(part) <= MAX_COLUMN for part in attributes
    ):
        problems["attribute_columns"] = ["comma-separated column numbers are needed"]
    mode = data.get("mode") or Import.Mode.ADD_UPDATE
    if mode not in Import.Mode.values:
        problems["mode"] = [f"one of {', '.join(Import.Mode.values)}"]
    upload = files.get("file")
    if upload is None:
        problems["file"] = ["send the contact file as the form field 'file'"]
    elif handler.extra_files:
        problems["file"] = ["send one contact file in the form field 'file', not several"]
    if list_id is None and "list" not in problems:
        problems["list"] = ["the id of the list to import into is needed"]
    contact_list = ContactList.objects.filter(pk=list_id).first() if list_id is not None else None
    if list_id is not None and contact_list is None:
        problems["list"] = [f"no list with id {list_id}"]
    if problems:
        raise Invalid("The upload is not complete.", problems)
    try:
        imp = import_services.import_create(
            contact_list=contact_list,
            path=upload.path,
            file_name=upload.name.replace("\x00", ""),  # PostgreSQL text holds no NUL
            by=request.user,
        )
    except BadFileError as exc:
        raise Invalid(str(exc), {"file": [str(exc)]}) from None
    if data.get("encoding"):
        try:
            import_services.import_encoding_set(imp, encoding=data["encoding"])
        except (BadFileError, LookupError, ValueError) as exc:
            import_services.import_discard(imp)  # refused: the caller never learns its id
            raise Invalid(str(exc), {"file": [str(exc)]}) from None
    mapping = (
        Mapping(email, name, tuple(int(part) for part in attributes))
        if email is not None
        else import_preview(imp).guess
    )
    if mapping is not None:
        _start(imp, mapping, mode)
    return Status(201, imp)


def _start(imp: Import, mapping: Mapping, mode: str) -> None:
    try:
        import_services.import_start(imp, mapping=mapping, mode=mode)
    except import_services.ImportConflictError as exc:
        raise Conflict(
            f"Import {imp.pk} is uploaded but waits: {exc} (POST /api/imports/{imp.pk}/start)"
        ) from None
    except import_services.ImportStateError as exc:
        raise Invalid(str(exc), {"email_column": [str(exc)]}) from None


@router.get("/{int:import_id}", response=ImportOut, summary="An import's state and progress")
def import_get(request, import_id: PathId):
    return _import(import_id)


@router.post("/{int:import_id}/start", response=ImportOut, summary="Start an uploaded import")
def import_start(request, import_id: PathId, payload: ImportStart):
    imp = _import(import_id)
    if imp.status != Import.Status.UPLOADED:
        raise Conflict(f"This import is already {imp.get_status_display()}.")
    if payload.encoding:
        try:
            import_services.import_encoding_set(imp, encoding=payload.encoding)
        except (BadFileError, LookupError, ValueError) as exc:
            raise Invalid(str(exc), {"encoding": [str(exc)]}) from None
    mapping = Mapping(payload.email_column, payload.name_column, tuple(payload.attribute_columns))
    _start(imp, mapping, payload.mode)
    return imp


@router.post("/{int:import_id}/cancel", response=ImportOut, summary="Cancel an import")
def import_cancel(request, import_id: PathId):
    """At once when it has not started; after the rows being written when it is running."""
    return import_services.import_cancel(_import(import_id))


@router.delete("/{int:import_id}", response={204: None}, summary="Discard an unstarted import")
def import_discard(request, import_id: PathId):
    import_services.import_discard(_import(import_id))
    return Status(204, None)


@router.get(
    "/{int:import_id}/rejections", response=RejectionPage, summary="Rows that were not imported"
)
def import_rejections(request, import_id: PathId, page: Query[PageParams]):
    return keyset_page(
        ImportRejection.objects.filter(import_run=_import(import_id)), page, key="row"
    )
