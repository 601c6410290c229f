"""A contact by hand: add to a list, edit, remove, unsubscribe, blocklist, delete; export
and erase its data."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from campaigns.emails import InvalidEmailError
from campaigns.exports import contact_export_response
from campaigns.forms import ContactForm
from campaigns.models import Contact, ContactList
from campaigns.selectors.contact_page import contact_overview
from campaigns.services import contacts as contact_services
from campaigns.services import data_rights


def _back(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def list_contact_add(request, pk):
    contact_list = get_object_or_404(ContactList, pk=pk)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact, created = contact_services.contact_add(
                contact_list=contact_list, **form.cleaned_data
            )
        except (InvalidEmailError, contact_services.ContactErasedError) as exc:
            form.add_error("email", str(exc))
        else:
            verb = "added" if created else "was already a contact; now on the list"
            messages.success(request, f"{contact.email} {verb}.")
            return redirect("campaigns:list_contacts", pk=contact_list.pk)
    return render(
        request, "campaigns/contact_form.html", {"contact_list": contact_list, "form": form}
    )


def contact_edit(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    initial = {
        "email": contact.email,
        "name": contact.name,
        "attributes": ContactForm.attributes_text(contact.attributes),
        "do_not_track": contact.do_not_track,
    }
    form = ContactForm(request.POST or None, initial=initial)
    back = _back(request, reverse("campaigns:list_index"))
    if request.method == "POST" and form.is_valid():
        try:
            contact_services.contact_update(contact, **form.cleaned_data)
        except (
            InvalidEmailError,
            contact_services.ContactExistsError,
            contact_services.ContactErasedError,
        ) as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, f"{contact.email} saved.")
            return redirect(back)
    return render(
        request,
        "campaigns/contact_form.html",
        {"contact": contact, "form": form, "back": back, "overview": contact_overview(contact)},
    )


@require_POST
def list_contact_remove(request, pk, contact_pk):
    contact_list = get_object_or_404(ContactList, pk=pk)
    contact = get_object_or_404(Contact, pk=contact_pk)
    contact_services.membership_remove(contact_list=contact_list, contact=contact)
    messages.success(request, f"{contact.email} removed from “{contact_list.name}”.")
    return redirect(_back(request, reverse("campaigns:list_contacts", args=[pk])))


@require_POST
def list_contact_unsubscribe(request, pk, contact_pk):
    contact_list = get_object_or_404(ContactList, pk=pk)
    contact = get_object_or_404(Contact, pk=contact_pk)
    contact_services.membership_unsubscribe(contact_list=contact_list, contact=contact)
    messages.success(request, f"{contact.email} unsubscribed from “{contact_list.name}”.")
    return redirect(_back(request, reverse("campaigns:list_contacts", args=[pk])))


@require_POST
def contact_blocklist(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    contact_services.contact_blocklist(
        contact=contact, source=f"blocklisted by {request.user.get_username()}", by=request.user
    )
    messages.success(request, f"{contact.email} blocklisted: nothing will be sent to it.")
    return redirect(_back(request, reverse("campaigns:list_index")))


@require_POST
def contact_delete(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    contact_services.contact_delete(contact)
    messages.success(request, f"{contact.email} deleted from every list.")
    return redirect(_back(request, reverse("campaigns:list_index")))


@require_POST
def contact_export(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    data_rights.contact_export(contact, by=request.user)
    return contact_export_response(contact)


@require_POST
def contact_erase(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    data_rights.contact_erase(contact, by=request.user)
    # The id only: messages are kept in the session until shown.
    messages.success(request, f"Contact #{pk} erased; a hash of the address keeps it out.")
    return redirect("campaigns:list_index")
