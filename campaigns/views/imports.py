"""Importing a file into a list: upload, map columns, watch progress, cancel, rejected rows."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from campaigns.exports import csv_chunks
from campaigns.forms import MappingForm, UploadForm
from campaigns.importing.columns import Mapping
from campaigns.importing.errors import BadFileError
from campaigns.importing.readers import megabytes
from campaigns.models import ContactList, Import
from campaigns.selectors.imports import (
    import_preview,
    import_progress,
    import_rejections,
    import_warnings_first,
)
from campaigns.services import imports as import_services
from campaigns.services import uploads as upload_services
from campaigns.uploads import DiskUploadHandler


@csrf_exempt  # checked below, once the upload handler is in place (Django's documented way)
def list_import(request, pk):
    if request.method != "POST":
        return _list_import(request, pk, None)
    # Around the CSRF check too: a refused request must not leave its file behind.
    with upload_services.upload_receive(
        request, max_bytes=settings.EDM_IMPORT_MAX_BYTES
    ) as handler:
        return _list_import(request, pk, handler)


@csrf_protect
def _list_import(request, pk, handler: DiskUploadHandler | None):
    contact_list = get_object_or_404(ContactList, pk=pk)
    limit = settings.EDM_IMPORT_MAX_BYTES
    form = UploadForm(request.POST or None, request.FILES or None, max_bytes=limit)
    if handler is not None and handler.too_large:
        form.is_valid()  # the dropped file reads as missing; say why instead
        form.errors["file"] = form.error_class(
            [f"The file is larger than {megabytes(limit)}, the limit for imports."]
        )
    elif handler is not None and handler.extra_files:
        form.is_valid()
        form.errors["file"] = form.error_class(["Choose one file."])
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            imp = import_services.import_create(
                contact_list=contact_list, path=upload.path, file_name=upload.name, by=request.user
            )
        except BadFileError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect(imp)
    return render(
        request, "campaigns/import_upload.html", {"contact_list": contact_list, "form": form}
    )


def import_detail(request, pk):
    imp = get_object_or_404(Import.objects.select_related("list"), pk=pk)
    if imp.status != Import.Status.UPLOADED:
        return render(
            request,
            "campaigns/import_progress.html",
            {
                "imp": imp,
                "contact_list": imp.list,
                "stalled": import_services.import_stalled(imp),
                "warnings": import_warnings_first(imp),
            },
        )
    encoding = request.GET.get("encoding") or request.POST.get("encoding") or imp.encoding
    try:
        preview = import_preview(imp, encoding=encoding)
    except (BadFileError, LookupError, ValueError) as exc:
        messages.error(request, f"Cannot read the file as {encoding}: {exc}")
        preview, encoding = import_preview(imp), imp.encoding
    initial = {"encoding": encoding, "mode": imp.mode}
    if preview.guess is not None:
        initial |= {
            "email_column": preview.guess.email,
            "name_column": preview.guess.name,
            "attribute_columns": list(preview.guess.attributes),
        }
    form = MappingForm(
        request.POST or None, initial=initial, names=preview.names, detected=imp.detected_encoding
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["encoding"] and data["encoding"] != imp.encoding:
                import_services.import_encoding_set(imp, encoding=data["encoding"])
            import_services.import_start(
                imp,
                mapping=Mapping(
                    data["email_column"], data["name_column"], tuple(data["attribute_columns"])
                ),
                mode=data["mode"],
            )
        except (
            import_services.ImportConflictError,
            import_services.ImportStateError,
            BadFileError,
        ) as exc:
            messages.error(request, str(exc))
        else:
            return redirect(imp)
    return render(
        request,
        "campaigns/import_mapping.html",
        {
            "imp": imp,
            "contact_list": imp.list,
            "preview": preview,
            "form": form,
            "encoding": encoding,
        },
    )


@require_GET
def import_progress_json(request, pk):
    imp = get_object_or_404(Import, pk=pk)
    return JsonResponse(import_progress(imp))


@require_POST
def import_resume(request, pk):
    imp = get_object_or_404(Import, pk=pk)
    try:
        import_services.import_resume(imp)
    except import_services.ImportStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Queued again: the import goes on after the rows it had done.")
    return redirect(imp)


@require_POST
def import_discard(request, pk):
    """Delete an upload left waiting for its column mapping, and its file (the list page)."""
    imp = get_object_or_404(Import.objects.select_related("list"), pk=pk)
    try:
        import_services.import_discard(imp)
    except import_services.ImportStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Discarded the upload {imp.file_name}.")
    return redirect(imp.list)


@require_POST
def import_cancel(request, pk):
    imp = get_object_or_404(Import, pk=pk)
    imp = import_services.import_cancel(imp)
    if imp.status == Import.Status.CANCELLED:
        messages.success(request, "Import cancelled.")
    elif imp.cancel_requested:
        messages.success(request, "Cancelling: the import stops after the rows it is writing now.")
    else:
        messages.error(request, f"This import is already {imp.get_status_display()}.")
    return redirect(imp)


def import_rejected(request, pk):
    imp = get_object_or_404(Import, pk=pk)
    rows = ([r.row, r.reason, r.value] for r in import_rejections(imp))
    response = StreamingHttpResponse(
        csv_chunks(["row", "reason", "email"], rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{imp.pk}-rejected.csv"'
    return response
