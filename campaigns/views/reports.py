"""Campaign reports: the campaign list, a campaign's live report and its controls, recipient
lookup, the deliveries export, and a contact's history across campaigns."""

from __future__ import annotations

from django.contrib import messages
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from campaigns.exports import attachment_disposition, csv_chunks
from campaigns.models import Campaign, Contact
from campaigns.services import campaigns as campaign_services
from delivery.selectors.campaigns import CONTENT_FIELDS, campaign_list_page
from delivery.selectors.engagement import engagement_report_get, links_followed
from delivery.selectors.recipients import (
    EXPORT_HEADER,
    LOOKUP_ROWS,
    campaign_deliveries_iter,
    campaign_recipients_find,
    contact_history_page,
)
from delivery.selectors.reports import campaign_report_get

STATUS_FILTERS = [("", "All"), *Campaign.Status.choices]
# The report's regions the live endpoint renders again: name -> template.
LIVE_REGIONS = {
    "summary": "campaigns/report/_summary.html",
    "sites": "campaigns/report/_sites.html",
    "reasons": "campaigns/report/_reasons.html",
    "events": "campaigns/report/_events.html",
    "engagement": "campaigns/report/_engagement.html",
}
CONTROLS = {
    "pause": (campaign_services.campaign_pause, "Paused: running batches stop within seconds."),
    "resume": (campaign_services.campaign_resume, "Resumed."),
    "cancel": (campaign_services.campaign_cancel, "Cancelled: nothing more will be sent."),
}


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@require_GET
def campaign_index(request):
    status = request.GET.get("status", "")
    if status not in Campaign.Status.values:
        status = ""
    page = campaign_list_page(status=status, before=_cursor(request.GET.get("before")))
    filters = [
        (value, label, sum(page.by_status.values()) if not value else page.by_status.get(value, 0))
        for value, label in STATUS_FILTERS
    ]
    context = {"page": page, "status": status, "filters": filters}
    context["first_page"] = "before" not in request.GET
    return render(request, "campaigns/campaign_index.html", context)


@require_GET
def campaign_report(request, pk):
    campaign = get_object_or_404(Campaign.objects.defer(*CONTENT_FIELDS), pk=pk)
    report = campaign_report_get(campaign)
    engagement = engagement_report_get(campaign, delivered=report.counters.sent)
    context = {"report": report, "engagement": engagement}
    return render(request, "campaigns/report/report.html", context)


@require_GET
def campaign_report_live(request, pk):
    """The report's changing parts as JSON: counters, the chart's data and HTML regions."""
    campaign = get_object_or_404(Campaign.objects.defer(*CONTENT_FIELDS), pk=pk)
    report = campaign_report_get(campaign)
    engagement = engagement_report_get(campaign, delivered=report.counters.sent)
    context = {"report": report, "engagement": engagement}
    return JsonResponse(
        {
            "status": campaign.status,
            "final": report.final,
            "at": report.at.isoformat(),
            "eta": report.eta.isoformat() if report.eta else None,
            "counters": report.counters.as_dict(),
            "throughput": report.throughput.as_dict(),
            "engagement": engagement.engagement.as_dict(),
            "engagement_chart": engagement.chart.as_dict(),
            "html": {
                name: render_to_string(template, context, request=request)
                for name, template in LIVE_REGIONS.items()
            },
        }
    )


@require_POST
def campaign_control(request, pk, action: str):
    """Pause, resume or cancel from the report (the services say when it does not apply)."""
    campaign = get_object_or_404(Campaign, pk=pk)
    service, done = CONTROLS[action]
    try:
        service(campaign)
    except campaign_services.CampaignStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("campaigns:campaign_report", pk=campaign.pk)


@require_GET
def campaign_recipients(request, pk):
    campaign = get_object_or_404(Campaign.objects.defer(*CONTENT_FIELDS), pk=pk)
    query = request.GET.get("q", "").strip()
    return render(
        request,
        "campaigns/report/recipients.html",
        {
            "campaign": campaign,
            "query": query,
            "rows": campaign_recipients_find(campaign, query, limit=LOOKUP_ROWS),
            "limit": LOOKUP_ROWS,
        },
    )


@require_GET
def campaign_export(request, pk):
    """Every delivery of the campaign as CSV, streamed in chunks (any number of rows)."""
    campaign = get_object_or_404(Campaign.objects.defer(*CONTENT_FIELDS), pk=pk)
    response = StreamingHttpResponse(
        csv_chunks(EXPORT_HEADER, campaign_deliveries_iter(campaign)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = attachment_disposition(
        campaign.name, fallback="campaign", suffix=f"-{campaign.pk}-deliveries.csv"
    )
    return response


@require_GET
def contact_history(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    page = contact_history_page(contact, before=_cursor(request.GET.get("before")))
    context = {"contact": contact, "page": page, "first_page": "before" not in request.GET}
    context["followed"] = links_followed([row.delivery for row in page.rows])
    return render(request, "campaigns/report/contact_history.html", context)
