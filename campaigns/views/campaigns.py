"""A campaign: create (from a template or from scratch), edit a draft, its page, its preview.

The campaign list and the live report are the dashboards' (campaign_index, campaign_report);
the state changes and test sends are in campaign_actions.py.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from campaigns.content_forms import CampaignForm, ScheduleForm, TestSendForm
from campaigns.models import Campaign, Contact, Segment, Template
from campaigns.previews import campaign_preview, recipient_of
from campaigns.segments.definition import MAX_ID, SegmentInvalidError, parse
from campaigns.selectors.campaigns import (
    audience,
    campaign_audience_size,
    campaign_preview_contact,
    sender_defaults,
)
from campaigns.selectors.segments import segment_catalog, segment_group
from campaigns.services import campaigns as campaign_services
from campaigns.services.resend import ResendKind
from campaigns.services.templates import TemplateInvalidError, content_check
from campaigns.templating import InvalidContentError, TemplateRenderError
from campaigns.views.content import problems_by_field
from delivery.models import CampaignStats
from delivery.test_send import test_send_results
from delivery.views.outbox import UNTRUSTED_HTML_POLICY

# Audience sizes are counted on the page while the audience can still change.
_COUNTED = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)


def campaign_create(request):
    template = None
    if request.GET.get("template", "").isdigit():
        template = Template.objects.filter(
            pk=request.GET["template"], kind=Template.Kind.MESSAGE
        ).first()
    start = Campaign(**sender_defaults())
    if template is not None:
        start.name, start.template, start.layout = template.name, template, template.layout
        start.subject, start.html, start.text = template.subject, template.html, template.text
    templates = Template.objects.filter(kind=Template.Kind.MESSAGE).order_by("name")
    return _editor(request, start, {"templates": templates, "from_template": template})


def campaign_edit(request, pk):
    campaign = get_object_or_404(Campaign.objects.select_related("layout"), pk=pk)
    if not campaign.editable and request.method == "GET":
        messages.info(
            request,
            f"Only drafts can be edited; this campaign is {campaign.status}. "
            "Duplicate it to send a changed copy.",
        )
    return _editor(request, campaign, {})


def _editor(request, campaign: Campaign, extra: dict):
    data = request.POST if request.method == "POST" else None
    form = CampaignForm(data, initial=CampaignForm.initial_from(campaign))
    if not campaign.editable:  # shown read-only; a POST keeps the saved values and is refused
        for field in form.fields.values():
            field.disabled = True
    problems = {}
    if request.method == "POST" and form.is_valid():
        try:
            saved, warnings = campaign_services.campaign_save(
                campaign if campaign.pk else None,
                **form.cleaned_data,
                time_zone=campaign.time_zone,
                by=request.user,
            )
        except campaign_services.CampaignStateError as exc:
            messages.error(request, str(exc))
            return redirect(campaign)
        except campaign_services.CampaignInvalidError as exc:
            problems = problems_by_field(exc.content_problems)
            for field, found in exc.problems.items():
                if field.startswith("definition"):  # a path into the builder's conditions
                    form.add_error(None, [f"Audience {field}: {m}" for m in found])
                elif field not in problems:  # content problems are shown with their lines
                    form.add_error(field if field in form.fields else None, found)
            messages.error(request, "Not saved: fix the errors shown next to the fields.")
        else:
            if warnings:
                messages.warning(request, "Saved, with warnings shown on the editor.")
            else:
                messages.success(request, f"“{saved.name}” saved.")
            return redirect(saved)
    warnings = _saved_warnings(campaign) if request.method == "GET" and campaign.pk else {}
    context = {
        "campaign": campaign,
        "form": form,
        "problems": problems,
        "warnings": warnings,
        "catalog": segment_catalog(),
        "segment_definitions": dict(Segment.objects.values_list("pk", "definition")),
    }
    return render(request, "campaigns/campaign_edit.html", context | extra)


def _saved_warnings(campaign: Campaign) -> dict:
    try:
        found = content_check(campaign_services.campaign_content(campaign))
    except TemplateInvalidError as exc:
        found = exc.problems
    return problems_by_field(found)


def campaign_detail(request, pk):
    campaign = get_object_or_404(
        Campaign.objects.select_related("layout", "template", "segment"), pk=pk
    )
    stats = CampaignStats.objects.filter(campaign=campaign).first()
    counted = campaign.status in _COUNTED
    size = campaign_audience_size(campaign) if counted else (stats.audience if stats else None)
    contact = campaign_preview_contact(campaign)
    try:
        rendered, render_error = campaign_preview(campaign, recipient_of(contact)), ""
    except (InvalidContentError, TemplateRenderError) as exc:
        rendered, render_error = None, str(exc)
    zone = ZoneInfo(campaign.time_zone)
    scheduled = campaign.scheduled_at.astimezone(zone) if campaign.scheduled_at else None
    schedule_initial = {"time_zone": campaign.time_zone}
    if scheduled is not None:
        schedule_initial |= {"date": scheduled.date(), "time": scheduled.time()}
    return render(
        request,
        "campaigns/campaign_detail.html",
        {
            "campaign": campaign,
            "lists": campaign.lists.order_by("name"),
            "exclusion_lists": campaign.exclusion_lists.order_by("name"),
            "audience_size": size,
            "audience_counted": counted,
            "stats": stats,
            "scheduled": scheduled,
            "schedule_form": ScheduleForm(initial=schedule_initial),
            "test_form": TestSendForm(),
            "resend_kinds": ResendKind.choices,
            "test_results": test_send_results(campaign),
            "preview_contact": contact,
            "rendered": rendered,
            "render_error": render_error,
        },
    )


@require_GET
@xframe_options_sameorigin
def campaign_preview_html(request, pk):
    """The campaign's HTML for one contact (`?contact=`), for the sandboxed iframe."""
    campaign = get_object_or_404(Campaign.objects.select_related("layout"), pk=pk)
    contact_id = request.GET.get("contact", "")
    contact = get_object_or_404(Contact, pk=contact_id) if contact_id.isdigit() else None
    try:
        html = campaign_preview(campaign, recipient_of(contact)).html
    except (InvalidContentError, TemplateRenderError) as exc:
        return HttpResponse(str(exc), content_type="text/plain; charset=utf-8", status=422)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = UNTRUSTED_HTML_POLICY
    return response


@require_POST
def campaign_audience(request):
    """JSON: the audience size of lists minus exclusion lists, narrowed by the audience
    builder's conditions (or else a saved segment), for the editor as its choices change.
    Conditions that are not valid yet answer 422 with their problems by path."""
    try:
        body = json.loads(request.body or b"{}")
        lists, excluded = _ids(body.get("lists")), _ids(body.get("exclusion_lists"))
    except (ValueError, AttributeError, TypeError):
        return JsonResponse({"problems": {"audience": ["not an audience"]}}, status=400)
    group = None
    try:
        if body.get("definition") is not None:
            group = parse(body["definition"], within="definition")
        elif isinstance(body.get("segment"), int):
            group = segment_group(get_object_or_404(Segment, pk=body["segment"]))
    except SegmentInvalidError as exc:
        return JsonResponse({"problems": exc.problems}, status=422)
    return JsonResponse({"size": audience(lists, excluded, group).count() if lists else 0})


def _ids(values) -> list[int]:
    ids = [int(v) for v in values or [] if not isinstance(v, bool)]
    if any(not 1 <= i <= MAX_ID for i in ids):
        raise ValueError("not an id")
    return ids
