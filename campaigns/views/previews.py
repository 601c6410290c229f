"""The editors' live preview: render as typed, serve the HTML sandboxed, find contacts."""

from __future__ import annotations

from django.http import Http404, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from campaigns.content_forms import PreviewForm
from campaigns.previews import (
    SLOT,
    content_preview,
    preview_html,
    preview_store,
    recipient_of,
)
from campaigns.selectors.contacts import contacts_by_email_prefix
from campaigns.services.templates import TemplateInvalidError
from campaigns.templating import InvalidContentError, TemplateRenderError
from campaigns.views.content import problems_by_field, problems_json
from delivery.views.outbox import UNTRUSTED_HTML_POLICY

CONTACTS_SHOWN = 10


@require_POST
def template_preview(request):
    """JSON: the rendered subject and text and the URL of the HTML, or what is wrong."""
    form = PreviewForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"ok": False, "form_errors": form.errors.get_json_data()}, status=400)
    data = form.cleaned_data
    campaign = data["campaign"]
    try:
        found = content_preview(
            form.content(),
            recipient_of(data["contact"]),
            campaign_id=campaign.pk if campaign else 0,
            campaign_name=data["name"] or (campaign.name if campaign else ""),
        )
    except (TemplateInvalidError, InvalidContentError) as exc:
        problems = problems_by_field(exc.problems, layout_kind=form.is_layout)
        return JsonResponse({"ok": False, "problems": problems_json(problems)})
    except TemplateRenderError as exc:
        return JsonResponse({"ok": False, "render_error": str(exc)})
    preview_store(data["slot"], found.rendered.html)
    warnings = problems_by_field(found.warnings, layout_kind=form.is_layout)
    return JsonResponse(
        {
            "ok": True,
            "subject": found.rendered.subject,
            "text": found.rendered.text,
            "warnings": problems_json(warnings),
            "html_url": reverse("campaigns:template_preview_html", args=[data["slot"]]),
        }
    )


@require_GET
@xframe_options_sameorigin
def template_preview_html(request, slot: str):
    """The HTML of the latest preview, for the sandboxed iframe."""
    html = preview_html(slot) if SLOT.fullmatch(slot) else None
    if html is None:
        raise Http404("This preview has expired; edit the source to render it again.")
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = UNTRUSTED_HTML_POLICY
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def template_preview_contacts(request):
    """JSON: contacts whose address starts with `q`, on the given lists if any."""
    lists = [int(value) for value in request.GET.getlist("list") if value.isdigit()]
    found = contacts_by_email_prefix(request.GET.get("q", ""), lists=lists, limit=CONTACTS_SHOWN)
    return JsonResponse(
        {"contacts": [{"id": c.pk, "email": c.email, "name": c.name} for c in found]}
    )
