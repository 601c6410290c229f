"""The suppression list: search, add one or many pasted, remove."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from campaigns.models import Suppression
from campaigns.selectors.suppressions import suppression_page
from campaigns.services import suppressions as suppression_services


class SuppressionAddForm(forms.Form):
    entries = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Addresses or domains",
        help_text="One address (someone@example.com) or domain (example.com) a line; "
        "paste as many as you like.",
    )


def suppression_index(request):
    form = SuppressionAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = suppression_services.suppression_add_many(
            text=form.cleaned_data["entries"],
            source=f"added by {request.user.get_username()}",
            by=request.user,
        )
        messages.success(
            request, f"{outcome.added} added, {outcome.already} were already suppressed."
        )
        for text, reason in outcome.invalid[:20]:
            messages.error(request, f"Not added: {text} ({reason})")
        if len(outcome.invalid) > 20:
            messages.error(request, f"… and {len(outcome.invalid) - 20} more not added.")
        return redirect("campaigns:suppression_index")
    search = request.GET.get("q", "")
    page = suppression_page(search=search, after=request.GET.get("after", ""))
    return render(
        request,
        "campaigns/suppression_index.html",
        {"form": form, "page": page, "search": search, "first_page": not request.GET.get("after")},
    )


@require_POST
def suppression_remove(request, pk):
    suppression = get_object_or_404(Suppression, pk=pk)
    suppression_services.suppression_remove(suppression)
    messages.success(request, f"{suppression.value} is no longer suppressed.")
    return redirect("campaigns:suppression_index")
