"""Templates: the index, the editor (create and edit), delete and duplicate."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from campaigns.content_forms import TemplateForm
from campaigns.models import ContactList, Template
from campaigns.selectors.templates import template_summaries
from campaigns.services import templates as template_services
from campaigns.templating import Content
from campaigns.views.content import problems_by_field


def template_index(request):
    return render(request, "campaigns/template_index.html", {"templates": template_summaries()})


def template_create(request):
    kind = Template.Kind.LAYOUT if request.GET.get("kind") == "layout" else Template.Kind.MESSAGE
    return _editor(request, Template(kind=kind))


def template_edit(request, pk):
    return _editor(request, get_object_or_404(Template.objects.select_related("layout"), pk=pk))


def _editor(request, template: Template):
    is_layout = template.kind == Template.Kind.LAYOUT
    initial = {
        "name": template.name,
        "layout": template.layout_id,
        "subject": template.subject,
        "html": template.html,
        "text": template.text,
    }
    data = request.POST if request.method == "POST" else None
    form = TemplateForm(data, template=template, initial=initial)
    problems, warnings = {}, {}
    if request.method == "POST" and form.is_valid():
        try:
            saved = template_services.template_save(
                template if template.pk else None, kind=template.kind, **form.cleaned_data
            )
        except template_services.TemplateInvalidError as exc:
            problems = problems_by_field(exc.problems, layout_kind=is_layout)
            messages.error(request, "Not saved: fix the errors shown next to the fields.")
        else:
            if saved.warnings:
                messages.warning(request, "Saved, with warnings shown next to the fields.")
            else:
                messages.success(request, f"“{saved.template.name}” saved.")
            return redirect(saved.template)
    elif request.method == "GET" and template.pk:
        warnings = _saved_warnings(template)
    return render(
        request,
        "campaigns/template_edit.html",
        {
            "template": template,
            "is_layout": is_layout,
            "form": form,
            "problems": problems,
            "warnings": warnings,
            "preview_lists": ContactList.objects.order_by("name"),
        },
    )


def _saved_warnings(template: Template) -> dict:
    """Warnings of the saved sources (unknown variables…), shown each time it is opened."""
    content = Content(
        subject=template.subject,
        html=template.html,
        text=template.text,
        layout=template.layout.html if template.layout_id else "",
    )
    is_layout = template.kind == Template.Kind.LAYOUT
    try:
        found = template_services.content_check(content, layout_kind=is_layout)
    except template_services.TemplateInvalidError as exc:  # saved before a stricter check
        found = exc.problems
    return problems_by_field(found, layout_kind=is_layout)


@require_POST
def template_delete(request, pk):
    template = get_object_or_404(Template, pk=pk)
    try:
        template_services.template_delete(template)
    except template_services.TemplateInUseError as exc:
        messages.error(request, str(exc))
        return redirect(template)
    messages.success(request, f"“{template.name}” deleted.")
    return redirect("campaigns:template_index")


@require_POST
def template_duplicate(request, pk):
    copy = template_services.template_duplicate(get_object_or_404(Template, pk=pk))
    messages.success(request, f"Copied as “{copy.name}”.")
    return redirect(copy)
