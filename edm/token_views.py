"""Settings → API tokens: make a token (its secret is shown once, on the answer to the POST),
see your tokens and when they were last used, revoke one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from edm import tokens


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses it, e.g. “CRM sync” or “password reset mails”."
    )
    read_only = forms.BooleanField(
        required=False, label="Read-only", help_text="May read everything but change nothing."
    )


@never_cache  # the answer that shows a secret must not be kept by any cache
def api_tokens(request):
    form = TokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        issued = tokens.api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            can_write=not form.cleaned_data["read_only"],
        )
        form = TokenForm()
    return render(
        request,
        "edm/api_tokens.html",
        {"form": form, "issued": issued, "tokens": tokens.api_tokens_of(request.user)[:100]},
    )


@require_POST
def api_token_revoke(request, pk):
    token = get_object_or_404(tokens.api_tokens_of(request.user), pk=pk)
    tokens.api_token_revoke(token)
    messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("settings_api_tokens")
