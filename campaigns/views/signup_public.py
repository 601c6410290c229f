"""Public sign-up pages: the hosted form, its submission, and the confirmation link.

The submission is CSRF-exempt because the snippet posts from other sites; what protects it
instead is the signed stamp (the form was shown by us, long enough ago and not too long ago),
the honeypot, the per-client-address rate in Redis, and an answer that is the same for every
well-formed address: the job (campaigns/services/signups.py) decides what to do with it.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns import signup_limits
from campaigns.models import SignupForm
from campaigns.models.consents import USER_AGENT_MAX_LENGTH
from campaigns.services.signups import (
    SignupGoneError,
    SignupLinkExpiredError,
    Submission,
    signup_confirm,
    signup_submit,
)
from campaigns.signup_entry import HONEYPOT, STAMP, SignupEntry
from campaigns.signup_tokens import form_stamp, read_confirm_token, stamp_issued_at
from edm.login_throttle import client_address


@login_not_required
@csrf_exempt  # the embeddable snippet posts from other sites; see the module docstring
@require_http_methods(["GET", "HEAD", "POST"])
def signup_form(request, public_id: str):
    """GET: the hosted form. POST: a submission, from it or from a snippet elsewhere."""
    form = get_object_or_404(SignupForm, public_id=public_id, active=True)
    if request.method != "POST":
        return _form_page(request, form, SignupEntry(form))
    client = client_address(request)
    if not signup_limits.submission_allowed(client or "unknown"):
        return render(request, "campaigns/public/signup_limited.html", {"form": form}, status=429)
    entry = SignupEntry(form, request.POST)
    issued = stamp_issued_at(form.public_id, request.POST.get(STAMP, ""))
    if issued is None or time.time() - issued > settings.EDM_FORM_MAX_AGE_HOURS * 3600:
        # A snippet copied long ago, or a page left open: show it again, filled in, freshly
        # stamped; a person sends it once more, a robot that skipped our page gets nowhere.
        entry.is_valid()
        return _form_page(request, form, entry, again=True)
    if not entry.is_valid():
        return _form_page(request, form, entry)
    robot = (
        bool(entry.cleaned_data[HONEYPOT]) or time.time() - issued < settings.EDM_FORM_MIN_SECONDS
    )
    if not robot:
        signup_submit(
            Submission(
                form_id=form.pk,
                email=entry.cleaned_data["email"],
                name=entry.cleaned_data.get("name", ""),
                attributes=entry.attributes(),
                list_ids=entry.chosen_list_ids(),
                consent_text=form.consent_text,
                client_address=client,
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH],
                requested_at=timezone.now().isoformat(),
            )
        )
    # The same page whatever the address and whether or not it was a robot.
    return render(request, "campaigns/public/signup_sent.html", {"form": form})


def _form_page(request, form: SignupForm, entry: SignupEntry, *, again: bool = False):
    data = entry.data.copy() if entry.is_bound else None
    if data is not None:
        data[STAMP] = form_stamp(form.public_id, time.time())
        entry = SignupEntry(form, data)
        entry.is_valid()
    else:
        entry = SignupEntry(form, initial={STAMP: form_stamp(form.public_id, time.time())})
    return render(
        request,
        "campaigns/public/signup_form.html",
        {"form": form, "entry": entry, "again": again},
    )


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def signup_confirm_page(request, token: str):
    """GET: a page with a confirm button (mail scanners open links; only a person presses).
    POST (CSRF-checked, from that page): subscribe and record the consent confirmed."""
    confirmation = read_confirm_token(token)
    if confirmation is None:
        raise Http404("This link is not valid.")
    try:
        if request.method != "POST":
            if time.time() - confirmation.issued_at > settings.EDM_SIGNUP_CONFIRM_DAYS * 86400:
                raise SignupLinkExpiredError
            return render(request, "campaigns/public/signup_confirm.html", {"token": token})
        result = signup_confirm(confirmation)
    except SignupLinkExpiredError:
        return render(request, "campaigns/public/signup_expired.html", status=410)
    except SignupGoneError as exc:
        raise Http404(str(exc)) from None
    return render(
        request,
        "campaigns/public/signup_confirmed.html",
        {"contact": result.contact, "lists": result.lists},
    )
