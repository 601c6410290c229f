"""Segments: the index, the audience builder that creates and edits one, delete, live count."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from campaigns.forms import SegmentForm
from campaigns.models import Segment
from campaigns.segments.definition import EVERYONE, SegmentInvalidError, parse
from campaigns.selectors.segments import segment_catalog, segment_count
from campaigns.services import segments as segment_services


def segment_index(request):
    segments = Segment.objects.order_by("name", "pk")
    return render(request, "campaigns/segment_index.html", {"segments": segments})


def segment_create(request):
    return _editor(request, None)


def segment_edit(request, pk):
    return _editor(request, get_object_or_404(Segment, pk=pk))


def _editor(request, segment: Segment | None):
    initial = {"name": segment.name, "definition": segment.definition} if segment else {}
    form = SegmentForm(request.POST or None, initial=initial or {"definition": EVERYONE})
    if request.method == "POST" and form.is_valid():
        try:
            if segment is None:
                segment = segment_services.segment_create(**form.cleaned_data)
            else:
                segment_services.segment_update(segment, **form.cleaned_data)
        except SegmentInvalidError as exc:
            for path, found in exc.problems.items():
                form.add_error("name" if path == "name" else None, [f"{path}: {m}" for m in found])
        else:
            messages.success(request, f"Segment “{segment.name}” saved.")
            return redirect("campaigns:segment_edit", segment.pk)
    context = {"segment": segment, "form": form, "catalog": segment_catalog()}
    return render(request, "campaigns/segment_edit.html", context)


@require_POST
def segment_delete(request, pk):
    segment = get_object_or_404(Segment, pk=pk)
    try:
        segment_services.segment_delete(segment)
    except segment_services.SegmentInUseError as exc:
        messages.error(request, f"Not deleted: {exc}")
        return redirect("campaigns:segment_edit", segment.pk)
    messages.success(request, f"Segment “{segment.name}” deleted.")
    return redirect("campaigns:segment_index")


@require_POST
def segment_count_json(request):
    """JSON: how many contacts the posted definition selects, for the builder as it changes;
    a definition that is not valid yet answers 422 with its problems by path."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JsonResponse({"problems": {"definition": ["not a JSON object"]}}, status=400)
    try:
        group = parse(body.get("definition"))
    except SegmentInvalidError as exc:
        return JsonResponse({"problems": exc.problems}, status=422)
    return JsonResponse({"size": segment_count(group)})
