"""Lists: the index with counts, a list's page, its contacts, and their export."""

from __future__ import annotations

from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from campaigns.exports import attachment_disposition, csv_chunks
from campaigns.forms import ListForm
from campaigns.models import ContactList, Import
from campaigns.selectors.contacts import (
    STATUS_FILTERS,
    list_attribute_keys,
    list_contacts_page,
    list_members_iter,
    list_summaries,
)
from campaigns.services import lists as list_services


def list_index(request):
    form = ListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_list = list_services.list_create(**form.cleaned_data)
        except list_services.ListNameTakenError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"List “{contact_list.name}” created.")
            return redirect(contact_list)
    return render(
        request, "campaigns/list_index.html", {"summaries": list_summaries(), "form": form}
    )


def list_detail(request, pk):
    contact_list = get_object_or_404(ContactList, pk=pk)
    [summary] = list_summaries(ContactList.objects.filter(pk=pk))
    imports = Import.objects.filter(list=contact_list)[:10]
    return render(
        request,
        "campaigns/list_detail.html",
        {"contact_list": contact_list, "summary": summary, "imports": imports},
    )


def list_edit(request, pk):
    contact_list = get_object_or_404(ContactList, pk=pk)
    form = ListForm(request.POST or None, instance=contact_list)
    if request.method == "POST" and form.is_valid():
        try:
            list_services.list_update(contact_list, **form.cleaned_data)
        except list_services.ListNameTakenError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, "List saved.")
            return redirect(contact_list)
    return render(request, "campaigns/list_edit.html", {"contact_list": contact_list, "form": form})


@require_POST
def list_delete(request, pk):
    contact_list = get_object_or_404(ContactList, pk=pk)
    list_services.list_delete(contact_list)
    messages.success(request, f"List “{contact_list.name}” deleted; its contacts were kept.")
    return redirect("campaigns:list_index")


def list_contacts(request, pk):
    contact_list = get_object_or_404(ContactList, pk=pk)
    search = request.GET.get("q", "")
    status = request.GET.get("status", "")
    page = list_contacts_page(
        contact_list, search=search, status=status, after=request.GET.get("after", "")
    )
    return render(
        request,
        "campaigns/list_contacts.html",
        {
            "contact_list": contact_list,
            "page": page,
            "search": search,
            "status": status,
            "status_filters": [(value, label) for value, (label, _) in STATUS_FILTERS.items()],
            "first_page": not request.GET.get("after"),
        },
    )


def list_export(request, pk):
    contact_list = get_object_or_404(ContactList, pk=pk)
    search, status = request.GET.get("q", ""), request.GET.get("status", "")
    keys = list_attribute_keys(contact_list)
    header = ["email", "name", "contact status", "list status", "added", *keys]
    rows = (
        [
            m.contact.email,
            m.contact.name,
            m.contact.status,
            m.status,
            m.created_at.isoformat(timespec="seconds"),
            *(m.contact.attributes.get(key, "") for key in keys),
        ]
        for m in list_members_iter(contact_list, search=search, status=status)
    )
    response = StreamingHttpResponse(
        csv_chunks(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = attachment_disposition(
        contact_list.name, fallback=f"list-{contact_list.pk}"
    )
    return response
