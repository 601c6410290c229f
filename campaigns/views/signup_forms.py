"""The dashboard's Forms page: sign-up forms, their settings, hosted URL and snippet."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from campaigns.forms import SignupFormForm
from campaigns.models import SignupForm
from campaigns.services.signup_forms import signup_form_save
from campaigns.signup_entry import embed_snippet
from campaigns.signup_tokens import form_url


def signup_form_index(request):
    forms = SignupForm.objects.prefetch_related("lists")
    return render(request, "campaigns/signup_form_index.html", {"forms": forms})


def signup_form_create(request):
    return _edit(request, SignupForm())


def signup_form_edit(request, pk):
    return _edit(request, get_object_or_404(SignupForm, pk=pk))


def _edit(request, signup_form: SignupForm):
    form = SignupFormForm(request.POST or None, instance=signup_form)
    if request.method == "POST" and form.is_valid():
        saved = signup_form_save(form)
        messages.success(request, f"Form “{saved.name}” saved.")
        return redirect(saved)
    context = {"form": form, "signup_form": signup_form}
    if signup_form.pk:
        context["hosted_url"] = form_url(settings.EDM_PUBLIC_URL, signup_form.public_id)
        context["snippet"] = embed_snippet(signup_form)
    return render(request, "campaigns/signup_form_edit.html", context)
