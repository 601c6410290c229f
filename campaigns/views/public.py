"""Pages anyone with a signed link opens, without logging in: unsubscribe (with the
preference centre) and view online.

A token that is forged, altered or made for the other purpose is answered 404 before anything
is read or changed (campaigns/links.py checks its HMAC).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.links import LinkPurpose, LinkTarget, read_token
from campaigns.models import Unsubscribe
from campaigns.models.consents import USER_AGENT_MAX_LENGTH
from campaigns.previews import campaign_preview, recipient_of
from campaigns.selectors.links import LinkTargetGoneError, link_target, unsubscribed_already
from campaigns.selectors.preferences import preference_lists
from campaigns.services.preferences import preferences_update
from campaigns.services.unsubscribe import unsubscribe_record
from campaigns.templating import InvalidContentError, TemplateRenderError
from edm.login_throttle import client_address

# The message as its recipient sees it: its images and fonts load, nothing runs, and the
# sandbox gives it an origin of its own (no cookies of the dashboard, no forms).
VIEW_ONLINE_POLICY = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
    "img-src https: http: data:; style-src 'unsafe-inline' https:; font-src https: data:"
)


def _target(purpose: LinkPurpose, token: str) -> LinkTarget:
    target = read_token(purpose, token, settings.SECRET_KEY)
    if target is None:
        raise Http404("This link is not valid.")
    return target


def _one_click(request) -> bool:
    """Whether the POST is RFC 8058's: the body `List-Unsubscribe=One-Click`, as a form
    (multipart/form-data or urlencoded) or, from lax senders, as bare text."""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return request.POST.get("List-Unsubscribe") == "One-Click"
    return request.body.strip() == b"List-Unsubscribe=One-Click"


@login_not_required
@csrf_exempt  # RFC 8058 §3.2: providers POST with no cookie and no token; the HMAC is the check
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    """GET: the page with one confirm button and the preference centre. POST: the one-click
    unsubscribe of RFC 8058."""
    target = _target(LinkPurpose.UNSUBSCRIBE, token)
    if request.method == "POST":
        if not _one_click(request):
            return HttpResponseBadRequest(
                "Expected List-Unsubscribe=One-Click.\n", content_type="text/plain; charset=utf-8"
            )
        try:
            unsubscribe_record(target, Unsubscribe.Method.ONE_CLICK)
        except LinkTargetGoneError as exc:
            raise Http404(str(exc)) from None
        return HttpResponse("Unsubscribed.\n", content_type="text/plain; charset=utf-8")
    try:
        campaign, contact = link_target(target)
    except LinkTargetGoneError as exc:
        raise Http404(str(exc)) from None
    return render(
        request,
        "campaigns/public/unsubscribe.html",
        {
            "campaign": campaign,
            "contact": contact,
            "token": token,
            "already": unsubscribed_already(campaign, contact),
            "everything": settings.EDM_UNSUBSCRIBE_SCOPE == Unsubscribe.Scope.ALL,
            "choices": preference_lists(contact),
        },
    )


@login_not_required
@require_POST
def preferences_save(request, token: str):
    """The preference centre's form (CSRF-checked, on our page): keep the ticked lists, leave
    the others or all, correct the name."""
    target = _target(LinkPurpose.UNSUBSCRIBE, token)
    keep = {int(v) for v in request.POST.getlist("lists") if v.isascii() and v.isdigit()}
    try:
        saved = preferences_update(
            target,
            keep_list_ids=keep,
            name=request.POST.get("name"),
            leave_all=request.POST.get("action") == "leave-all",
            client_address=client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH],
        )
    except LinkTargetGoneError as exc:
        raise Http404(str(exc)) from None
    return render(request, "campaigns/public/preferences_saved.html", {"saved": saved})


@login_not_required
@require_POST
def unsubscribe_confirm(request, token: str):
    """The page's confirm button (a CSRF-checked form): unsubscribe, then say so."""
    target = _target(LinkPurpose.UNSUBSCRIBE, token)
    try:
        result = unsubscribe_record(target, Unsubscribe.Method.WEB)
    except LinkTargetGoneError as exc:
        raise Http404(str(exc)) from None
    return render(
        request,
        "campaigns/public/unsubscribed.html",
        {
            "campaign": result.campaign,
            "contact": result.contact,
            "everything": result.scope == Unsubscribe.Scope.ALL,
        },
    )


@login_not_required
@require_http_methods(["GET", "HEAD"])
def view_online(request, token: str):
    """The message as this recipient got it, rendered again from the campaign."""
    target = _target(LinkPurpose.VIEW_ONLINE, token)
    try:
        campaign, contact = link_target(target)
    except LinkTargetGoneError as exc:
        raise Http404(str(exc)) from None
    try:
        rendered = campaign_preview(campaign, recipient_of(contact))
    except (InvalidContentError, TemplateRenderError):
        return render(request, "campaigns/public/view_online_error.html", status=500)
    response = HttpResponse(rendered.html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = VIEW_ONLINE_POLICY
    return response
